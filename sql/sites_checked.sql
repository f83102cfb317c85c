-- sites_checked
-- Grain: one row per input row of the optional sites table (accepted or rejected).
-- Implements: measure spec section 2 (sites: site_id, site_name, site_group). Quarantined: empty
--   site_id, and later rows repeating a site_id (the first row wins).
WITH parsed_sites AS (
    SELECT
        src_row,
        NULLIF(TRIM(CAST(site_id AS VARCHAR)), '') AS site_id,
        NULLIF(TRIM(CAST(site_name AS VARCHAR)), '') AS site_name,
        NULLIF(TRIM(CAST(site_group AS VARCHAR)), '') AS site_group
    FROM input_sites
),
numbered_sites AS (
    SELECT
        src_row,
        site_id,
        site_name,
        site_group,
        ROW_NUMBER() OVER (PARTITION BY site_id ORDER BY src_row) AS id_seq
    FROM parsed_sites
)
SELECT
    src_row,
    site_id,
    site_name,
    site_group,
    CASE
        WHEN site_id IS NULL THEN 'missing_site_id'
        WHEN id_seq > 1 THEN 'duplicate_site_id'
    END AS reject_reason,
    CASE WHEN site_id IS NULL OR id_seq > 1 THEN 'site_id' END AS reject_column,
    CASE WHEN id_seq > 1 THEN site_id END AS reject_value
FROM numbered_sites
