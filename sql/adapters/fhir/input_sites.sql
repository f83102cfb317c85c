-- input_sites
-- Grain: one row per Organization in use (fhir_organizations without a disposition).
-- Implements: issue 4, FHIR adapter -> canonical sites (measure spec section 2). src_row is the
--   row's key (unique, in file and line order); src_file and src_line say where it came from
--   (moved into input_row_sources by the adapter).
SELECT
    CAST(ROW_NUMBER() OVER (ORDER BY src_file, src_row) AS BIGINT) AS src_row,
    site_id,
    site_name,
    site_group,
    src_file,
    CAST(src_row AS BIGINT) AS src_line
FROM fhir_organizations
WHERE disposition IS NULL
ORDER BY src_file, src_line
