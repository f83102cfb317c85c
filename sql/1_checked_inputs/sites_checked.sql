-- sites_checked
-- Grain: one row per input row of the optional sites table (accepted or rejected).
-- Implements: measure spec section 2 (sites: site_id, site_name, site_group). Quarantined: empty
--   site_id, and later rows repeating a site_id (the first row wins). Blanks of every kind are
--   trimmed (docs/development.md, "Reading values").
WITH text_sites AS (
    SELECT
        src_row,
        CAST(site_id AS VARCHAR) AS site_id,
        CAST(site_name AS VARCHAR) AS site_name,
        CAST(site_group AS VARCHAR) AS site_group
    FROM input_sites
),
parsed_sites AS (
    SELECT
        src_row,
        NULLIF(
            CASE
                WHEN site_id < '!' OR SUBSTRING(site_id, -1) < '!' OR OCTET_LENGTH(ENCODE(site_id)) <> LENGTH(site_id)
                    THEN REGEXP_REPLACE(site_id, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE site_id
            END,
            ''
        ) AS site_id,
        NULLIF(
            CASE
                WHEN site_name < '!' OR SUBSTRING(site_name, -1) < '!' OR OCTET_LENGTH(ENCODE(site_name)) <> LENGTH(site_name)
                    THEN REGEXP_REPLACE(site_name, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE site_name
            END,
            ''
        ) AS site_name,
        NULLIF(
            CASE
                WHEN site_group < '!' OR SUBSTRING(site_group, -1) < '!' OR OCTET_LENGTH(ENCODE(site_group)) <> LENGTH(site_group)
                    THEN REGEXP_REPLACE(site_group, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE site_group
            END,
            ''
        ) AS site_group
    FROM text_sites
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
