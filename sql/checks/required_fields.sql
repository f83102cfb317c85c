-- check: required_fields
-- kind: conformance
-- severity: error
-- threshold: 0.5
-- tables: patients, diagnoses, procedures, coverage, sites
-- description: A required field is empty: patient_id (patients, diagnoses, procedures,
--   coverage), event_date and code (diagnoses, procedures), site_id (procedures, sites),
--   start_date (coverage). One row per empty cell. The row is quarantined. An error only when
--   more than half of a table's rows lack a field: the column is then almost surely mapped wrong.
-- Reads the raw input (input_*) with the engine's own emptiness tests (*_checked.sql): blanks
--   count as empty; a code of only dots and blanks is empty.
SELECT
    'patients' AS table_name,
    src_row AS row_number,
    'patient_id' AS column_name,
    CAST(patient_id AS VARCHAR) AS value,
    'empty' AS detail
FROM input_patients
WHERE NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') IS NULL
UNION ALL
SELECT 'diagnoses', src_row, 'patient_id', CAST(patient_id AS VARCHAR), 'empty'
FROM input_diagnoses
WHERE NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') IS NULL
UNION ALL
SELECT 'diagnoses', src_row, 'event_date', CAST(event_date AS VARCHAR), 'empty'
FROM input_diagnoses
WHERE NULLIF(TRIM(CAST(event_date AS VARCHAR)), '') IS NULL
UNION ALL
SELECT 'diagnoses', src_row, 'code', CAST(code AS VARCHAR), 'empty'
FROM input_diagnoses
WHERE NULLIF(UPPER(REPLACE(REPLACE(CAST(code AS VARCHAR), '.', ''), ' ', '')), '') IS NULL
UNION ALL
SELECT 'procedures', src_row, 'patient_id', CAST(patient_id AS VARCHAR), 'empty'
FROM input_procedures
WHERE NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') IS NULL
UNION ALL
SELECT 'procedures', src_row, 'event_date', CAST(event_date AS VARCHAR), 'empty'
FROM input_procedures
WHERE NULLIF(TRIM(CAST(event_date AS VARCHAR)), '') IS NULL
UNION ALL
SELECT 'procedures', src_row, 'code', CAST(code AS VARCHAR), 'empty'
FROM input_procedures
WHERE NULLIF(UPPER(REPLACE(REPLACE(CAST(code AS VARCHAR), '.', ''), ' ', '')), '') IS NULL
UNION ALL
SELECT 'procedures', src_row, 'site_id', CAST(site_id AS VARCHAR), 'empty'
FROM input_procedures
WHERE NULLIF(TRIM(CAST(site_id AS VARCHAR)), '') IS NULL
UNION ALL
SELECT 'coverage', src_row, 'patient_id', CAST(patient_id AS VARCHAR), 'empty'
FROM input_coverage
WHERE NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') IS NULL
UNION ALL
SELECT 'coverage', src_row, 'start_date', CAST(start_date AS VARCHAR), 'empty'
FROM input_coverage
WHERE NULLIF(TRIM(CAST(start_date AS VARCHAR)), '') IS NULL
UNION ALL
SELECT 'sites', src_row, 'site_id', CAST(site_id AS VARCHAR), 'empty'
FROM input_sites
WHERE NULLIF(TRIM(CAST(site_id AS VARCHAR)), '') IS NULL
