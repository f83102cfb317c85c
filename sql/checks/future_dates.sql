-- check: future_dates
-- kind: plausibility
-- severity: warn
-- tables: patients, diagnoses, procedures, coverage
-- description: A birth date or year, event date or coverage start date lies after the as-of
--   date (--as-of; default the day of the run): typing errors such as 2202 for 2022, or
--   placeholder dates. Events after it are also counted by events_after_extract_end (and
--   quarantined); this check adds births and coverage starts. Never reads the clock itself, so
--   the same inputs and settings give the same result.
-- Reads the inputs' dates directly (parsed as diagnoses_checked and procedures_checked parse
--   them), not the checked views: no patient join for a date comparison.
SELECT
    'patients' AS table_name,
    src_row AS row_number,
    'birth_date' AS column_name,
    CAST(birth_date AS VARCHAR) AS value,
    'after today' AS detail
FROM input_patients
WHERE TRY_CAST(TRIM(CAST(birth_date AS VARCHAR)) AS DATE) > (SELECT as_of_date FROM run_settings)
UNION ALL
SELECT 'patients', src_row, 'birth_year', CAST(birth_year AS VARCHAR), 'after this year'
FROM input_patients
WHERE TRY_CAST(TRY_CAST(TRIM(CAST(birth_year AS VARCHAR)) AS DOUBLE) AS INTEGER)
    > YEAR((SELECT as_of_date FROM run_settings))
UNION ALL
SELECT 'diagnoses', src_row, 'event_date', CAST(TRY_CAST(event_date AS DATE) AS VARCHAR), 'after today'
FROM input_diagnoses
WHERE TRY_CAST(event_date AS DATE) > (SELECT as_of_date FROM run_settings)
UNION ALL
SELECT 'procedures', src_row, 'event_date', CAST(TRY_CAST(event_date AS DATE) AS VARCHAR), 'after today'
FROM input_procedures
WHERE TRY_CAST(event_date AS DATE) > (SELECT as_of_date FROM run_settings)
UNION ALL
SELECT 'coverage', src_row, 'start_date', CAST(start_date AS VARCHAR), 'after today'
FROM coverage_checked
WHERE start_date > (SELECT as_of_date FROM run_settings)
