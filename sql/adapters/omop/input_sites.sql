-- input_sites
-- Grain: one row per row of care_site.
-- Implements: issue 4, OMOP adapter -> canonical sites: site_id = care_site_id (the id visits
--   refer to), site_name = care_site_name; OMOP has no site group.
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    NULLIF(TRIM(care_site_id), '') AS site_id,
    NULLIF(TRIM(care_site_name), '') AS site_name,
    CAST(NULL AS VARCHAR) AS site_group
FROM adapter_src_care_site
ORDER BY src_row
