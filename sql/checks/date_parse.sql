-- check: date_parse
-- kind: conformance
-- severity: error
-- threshold: 0.5
-- tables: patients, diagnoses, procedures, coverage
-- description: A date (or birth year) is present but cannot be read as YYYY-MM-DD, e.g.
--   2023-02-30, 03/15/2023 or a word such as epoch, infinity or today. Events and coverage rows
--   are quarantined (unparseable_date); a patient keeps their row with an unknown birth
--   (age_unknown). An error only when more than half of a table's rows are unreadable: the file
--   then uses another date format.
-- Reads the raw input (input_*) with the engine's own patterns (docs/development.md, "Reading
--   values"; *_checked.sql).
WITH patient_values AS (
    SELECT
        p.src_row,
        p.birth_date,
        CASE
            WHEN UPPER(TYPEOF(p.birth_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(p.birth_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(p.birth_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS birth_date_value,
        p.birth_year,
        CASE
            WHEN UPPER(TYPEOF(p.birth_year)) NOT IN ('VARCHAR', 'STRING') THEN
                CASE
                    WHEN TRY_CAST(p.birth_year AS DOUBLE) = FLOOR(TRY_CAST(p.birth_year AS DOUBLE))
                        THEN TRY_CAST(p.birth_year AS INTEGER)
                END
            WHEN r.decimal_comma
                THEN TRY_CAST(REPLACE(REGEXP_EXTRACT(CAST(p.birth_year AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+))(,0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '.', '') AS INTEGER)
            ELSE TRY_CAST(REPLACE(REGEXP_EXTRACT(CAST(p.birth_year AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+))(\.0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), ',', '') AS INTEGER)
        END AS birth_year_value
    FROM input_patients AS p
    CROSS JOIN run_settings AS r
),
diagnosis_dates AS (
    SELECT
        src_row,
        event_date,
        CASE
            WHEN UPPER(TYPEOF(event_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(event_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(event_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS event_date_value
    FROM input_diagnoses
),
procedure_dates AS (
    SELECT
        src_row,
        event_date,
        CASE
            WHEN UPPER(TYPEOF(event_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(event_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(event_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS event_date_value
    FROM input_procedures
),
coverage_dates AS (
    SELECT
        src_row,
        start_date,
        CASE
            WHEN UPPER(TYPEOF(start_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(start_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(start_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS start_date_value,
        end_date,
        CASE
            WHEN UPPER(TYPEOF(end_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(end_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(end_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS end_date_value
    FROM input_coverage
)
SELECT
    'patients' AS table_name,
    src_row AS row_number,
    'birth_date' AS column_name,
    CAST(birth_date AS VARCHAR) AS value,
    'not a date (YYYY-MM-DD)' AS detail
FROM patient_values
WHERE birth_date IS NOT NULL AND NOT REGEXP_MATCHES(CAST(birth_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$') AND birth_date_value IS NULL
UNION ALL
SELECT 'patients', src_row, 'birth_year', CAST(birth_year AS VARCHAR), 'not a year'
FROM patient_values
WHERE birth_year IS NOT NULL AND NOT REGEXP_MATCHES(CAST(birth_year AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$') AND birth_year_value IS NULL
UNION ALL
SELECT 'diagnoses', src_row, 'event_date', CAST(event_date AS VARCHAR), 'not a date (YYYY-MM-DD)'
FROM diagnosis_dates
WHERE event_date IS NOT NULL AND NOT REGEXP_MATCHES(CAST(event_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$') AND event_date_value IS NULL
UNION ALL
SELECT 'procedures', src_row, 'event_date', CAST(event_date AS VARCHAR), 'not a date (YYYY-MM-DD)'
FROM procedure_dates
WHERE event_date IS NOT NULL AND NOT REGEXP_MATCHES(CAST(event_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$') AND event_date_value IS NULL
UNION ALL
SELECT 'coverage', src_row, 'start_date', CAST(start_date AS VARCHAR), 'not a date (YYYY-MM-DD)'
FROM coverage_dates
WHERE start_date IS NOT NULL AND NOT REGEXP_MATCHES(CAST(start_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$') AND start_date_value IS NULL
UNION ALL
SELECT 'coverage', src_row, 'end_date', CAST(end_date AS VARCHAR), 'not a date (YYYY-MM-DD)'
FROM coverage_dates
WHERE end_date IS NOT NULL AND NOT REGEXP_MATCHES(CAST(end_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$') AND end_date_value IS NULL
