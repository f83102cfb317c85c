-- check: diagnoses_without_site
-- kind: completeness
-- severity: warn
-- tables: diagnoses
-- description: A diagnosis has no site_id. site_id is optional, but spine-pain visits without a
--   site cannot enter a site's patient-level denominator (measure 3.6): the larger the share,
--   the less the patient-level concordance says. The summary shows the share of rows.
SELECT
    'diagnoses' AS table_name,
    src_row AS row_number,
    'site_id' AS column_name,
    CAST(NULL AS VARCHAR) AS value,
    'no site_id' AS detail
FROM input_diagnoses
WHERE NULLIF(TRIM(CAST(site_id AS VARCHAR)), '') IS NULL
