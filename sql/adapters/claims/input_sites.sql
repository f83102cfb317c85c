-- input_sites
-- Grain: one row per row of the optional sites file (canonical columns site_id, site_name,
--   site_group).
-- Implements: issue 4, claims adapter -> canonical sites: passed through as given; the audit
--   quarantines empty and repeated site ids.
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    site_id,
    site_name,
    site_group
FROM adapter_src_sites
ORDER BY src_row
