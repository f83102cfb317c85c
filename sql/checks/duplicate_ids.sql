-- check: duplicate_ids
-- kind: conformance
-- severity: warn
-- tables: patients, sites
-- description: A patient_id or site_id appears on more than one row of patients or sites. The
--   first row wins; later rows are quarantined (duplicate_patient_id, duplicate_site_id). If
--   the copies disagree (another birth date), the first one is used.
SELECT
    'patients' AS table_name,
    src_row AS row_number,
    'patient_id' AS column_name,
    patient_id AS value,
    'repeats an earlier row' AS detail
FROM patients_checked
WHERE reject_reason = 'duplicate_patient_id'
UNION ALL
SELECT 'sites', src_row, 'site_id', site_id, 'repeats an earlier row'
FROM sites_checked
WHERE reject_reason = 'duplicate_site_id'
