-- check: dates_before_1900
-- kind: plausibility
-- severity: warn
-- tables: patients, diagnoses, procedures, coverage
-- description: A birth date or year, event date or coverage start date is before 1900: a
--   placeholder (1800-01-01, 1900 written as 0001) rather than a real date. Events and coverage
--   rows are quarantined (implausible_date); a patient keeps their row with an unknown birth.
-- Reads the inputs' dates directly (parsed as diagnoses_checked and procedures_checked parse
--   them), not the checked views: no patient join for a date comparison.
SELECT
    'patients' AS table_name,
    src_row AS row_number,
    'birth_date' AS column_name,
    CAST(birth_date AS VARCHAR) AS value,
    'before 1900' AS detail
FROM input_patients
WHERE TRY_CAST(TRIM(CAST(birth_date AS VARCHAR)) AS DATE) < DATE '1900-01-01'
UNION ALL
SELECT 'patients', src_row, 'birth_year', CAST(birth_year AS VARCHAR), 'before 1900'
FROM input_patients
WHERE TRY_CAST(TRY_CAST(TRIM(CAST(birth_year AS VARCHAR)) AS DOUBLE) AS INTEGER) < 1900
UNION ALL
SELECT 'diagnoses', src_row, 'event_date', CAST(TRY_CAST(event_date AS DATE) AS VARCHAR), 'before 1900'
FROM input_diagnoses
WHERE TRY_CAST(event_date AS DATE) < DATE '1900-01-01'
UNION ALL
SELECT 'procedures', src_row, 'event_date', CAST(TRY_CAST(event_date AS DATE) AS VARCHAR), 'before 1900'
FROM input_procedures
WHERE TRY_CAST(event_date AS DATE) < DATE '1900-01-01'
UNION ALL
SELECT 'coverage', src_row, 'start_date', CAST(start_date AS VARCHAR), 'before 1900'
FROM coverage_checked
WHERE start_date < DATE '1900-01-01'
