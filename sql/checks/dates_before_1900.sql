-- check: dates_before_1900
-- kind: plausibility
-- severity: warn
-- tables: patients, diagnoses, procedures, coverage
-- description: A birth date or year, event date or coverage start date is before 1900: a
--   placeholder (1800-01-01, 1900 written as 0001) rather than a real date. Events and coverage
--   rows are quarantined (implausible_date); a patient keeps their row with an unknown birth.
-- Reads the inputs' dates directly (parsed as diagnoses_checked and procedures_checked parse
--   them), not the checked views: no patient join for a date comparison.
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
        CASE
            WHEN UPPER(TYPEOF(event_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(event_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(event_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS event_date
    FROM input_diagnoses
),
procedure_dates AS (
    SELECT
        src_row,
        CASE
            WHEN UPPER(TYPEOF(event_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(event_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(event_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS event_date
    FROM input_procedures
)
SELECT
    'patients' AS table_name,
    src_row AS row_number,
    'birth_date' AS column_name,
    CAST(birth_date AS VARCHAR) AS value,
    'before 1900' AS detail
FROM patient_values
WHERE birth_date_value < DATE '1900-01-01'
UNION ALL
SELECT 'patients', src_row, 'birth_year', CAST(birth_year AS VARCHAR), 'before 1900'
FROM patient_values
WHERE birth_year_value < 1900
UNION ALL
SELECT 'diagnoses', src_row, 'event_date', CAST(event_date AS VARCHAR), 'before 1900'
FROM diagnosis_dates
WHERE event_date < DATE '1900-01-01'
UNION ALL
SELECT 'procedures', src_row, 'event_date', CAST(event_date AS VARCHAR), 'before 1900'
FROM procedure_dates
WHERE event_date < DATE '1900-01-01'
UNION ALL
SELECT 'coverage', src_row, 'start_date', CAST(start_date AS VARCHAR), 'before 1900'
FROM coverage_checked
WHERE start_date < DATE '1900-01-01'
