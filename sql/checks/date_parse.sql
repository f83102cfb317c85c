-- check: date_parse
-- kind: conformance
-- severity: error
-- threshold: 0.5
-- tables: patients, diagnoses, procedures, coverage
-- description: A date (or birth year) is present but cannot be read as YYYY-MM-DD, e.g.
--   2023-02-30 or 03/15/2023. Events and coverage rows are quarantined (unparseable_date); a
--   patient keeps their row with an unknown birth (age_unknown). An error only when more than
--   half of a table's rows are unreadable: the file then uses another date format.
-- Reads the raw input (input_*) with the engine's own casts (*_checked.sql).
SELECT
    'patients' AS table_name,
    src_row AS row_number,
    'birth_date' AS column_name,
    CAST(birth_date AS VARCHAR) AS value,
    'not a date (YYYY-MM-DD)' AS detail
FROM input_patients
WHERE NULLIF(TRIM(CAST(birth_date AS VARCHAR)), '') IS NOT NULL
    AND TRY_CAST(TRIM(CAST(birth_date AS VARCHAR)) AS DATE) IS NULL
UNION ALL
SELECT 'patients', src_row, 'birth_year', CAST(birth_year AS VARCHAR), 'not a year'
FROM input_patients
WHERE NULLIF(TRIM(CAST(birth_year AS VARCHAR)), '') IS NOT NULL
    AND TRY_CAST(TRY_CAST(TRIM(CAST(birth_year AS VARCHAR)) AS DOUBLE) AS INTEGER) IS NULL
UNION ALL
SELECT 'diagnoses', src_row, 'event_date', CAST(event_date AS VARCHAR), 'not a date (YYYY-MM-DD)'
FROM input_diagnoses
WHERE NULLIF(TRIM(CAST(event_date AS VARCHAR)), '') IS NOT NULL
    AND TRY_CAST(event_date AS DATE) IS NULL
UNION ALL
SELECT 'procedures', src_row, 'event_date', CAST(event_date AS VARCHAR), 'not a date (YYYY-MM-DD)'
FROM input_procedures
WHERE NULLIF(TRIM(CAST(event_date AS VARCHAR)), '') IS NOT NULL
    AND TRY_CAST(event_date AS DATE) IS NULL
UNION ALL
SELECT 'coverage', src_row, 'start_date', CAST(start_date AS VARCHAR), 'not a date (YYYY-MM-DD)'
FROM input_coverage
WHERE NULLIF(TRIM(CAST(start_date AS VARCHAR)), '') IS NOT NULL
    AND TRY_CAST(TRIM(CAST(start_date AS VARCHAR)) AS DATE) IS NULL
UNION ALL
SELECT 'coverage', src_row, 'end_date', CAST(end_date AS VARCHAR), 'not a date (YYYY-MM-DD)'
FROM input_coverage
WHERE NULLIF(TRIM(CAST(end_date AS VARCHAR)), '') IS NOT NULL
    AND TRY_CAST(TRIM(CAST(end_date AS VARCHAR)) AS DATE) IS NULL
