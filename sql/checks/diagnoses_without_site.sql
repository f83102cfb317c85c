-- check: diagnoses_without_site
-- kind: completeness
-- severity: warn
-- tables: diagnoses
-- description: A diagnosis has no site_id. site_id is optional, but spine-pain visits without a
--   site cannot enter a site's patient-level denominator (measure 3.6): the larger the share,
--   the less the patient-level concordance says. The summary shows the share of rows.
-- A site_id of blanks only (of any kind, docs/development.md "Reading values") is no site_id.
SELECT
    'diagnoses' AS table_name,
    src_row AS row_number,
    'site_id' AS column_name,
    CAST(NULL AS VARCHAR) AS value,
    'no site_id' AS detail
FROM (SELECT src_row, CAST(site_id AS VARCHAR) AS site_id FROM input_diagnoses) AS d
WHERE site_id IS NULL
    OR ((site_id < '!' OR site_id >= CHR(128)) AND REGEXP_MATCHES(site_id, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$'))
