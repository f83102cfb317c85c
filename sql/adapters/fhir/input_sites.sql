-- input_sites
-- Grain: one row per Organization in use (fhir_organizations without a disposition).
-- Implements: issue 4, FHIR adapter -> canonical sites (measure spec section 2).
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    site_id,
    site_name,
    site_group
FROM fhir_organizations
WHERE disposition IS NULL
ORDER BY src_file, src_row
