-- check: required_fields
-- kind: conformance
-- severity: error
-- threshold: 0.5
-- tables: patients, diagnoses, procedures, coverage, sites
-- description: A required field is empty: patient_id (patients, diagnoses, procedures,
--   coverage), event_date and code (diagnoses, procedures), site_id (procedures, sites),
--   start_date (coverage). The row is quarantined. An error only when more than half of a
--   table's rows lack a field: the column is then almost surely mapped wrong.
-- Mirrors the quarantine (*_checked, *_kept): one finding per row, for the first missing field
--   in the engine's order (a row whose patient is unknown is reported by unknown_patients), so
--   the check reads no input row twice.
SELECT 'patients' AS table_name, src_row AS row_number, 'patient_id' AS column_name,
    CAST(NULL AS VARCHAR) AS value, 'empty' AS detail
FROM patients_checked
WHERE reject_reason = 'missing_patient_id'
UNION ALL
SELECT 'diagnoses', src_row, reject_column, CAST(NULL AS VARCHAR), 'empty'
FROM diagnoses_kept
WHERE reject_reason IN ('missing_patient_id', 'missing_date', 'missing_code')
UNION ALL
SELECT 'procedures', src_row, reject_column, CAST(NULL AS VARCHAR), 'empty'
FROM procedures_kept
WHERE reject_reason IN ('missing_patient_id', 'missing_date', 'missing_code', 'missing_site_id')
UNION ALL
SELECT 'coverage', src_row, reject_column, CAST(NULL AS VARCHAR), 'empty'
FROM coverage_checked
WHERE reject_reason IN ('missing_patient_id', 'missing_date')
UNION ALL
SELECT 'sites', src_row, 'site_id', CAST(NULL AS VARCHAR), 'empty'
FROM sites_checked
WHERE reject_reason = 'missing_site_id'
