-- check: events_after_extract_end
-- kind: plausibility
-- severity: error
-- threshold: 0.5
-- tables: diagnoses, procedures
-- description: A diagnosis or procedure is dated after the extract's end (the as-of date,
--   --as-of; default the day of the run). The row is quarantined (future_date). An error only
--   when more than half of a table's rows are after it: the as-of date is then set too early.
-- hint: most events are after the as-of date {as_of_date}, set --as-of to the extract's end
-- Reads the inputs' dates directly (parsed as diagnoses_checked and procedures_checked parse
--   them), not the checked views: no patient join for a date comparison.
WITH diagnosis_dates AS (
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
    'diagnoses' AS table_name,
    d.src_row AS row_number,
    'event_date' AS column_name,
    CAST(d.event_date AS VARCHAR) AS value,
    'after the as-of date ' || CAST(r.as_of_date AS VARCHAR) AS detail
FROM diagnosis_dates AS d
CROSS JOIN run_settings AS r
WHERE d.event_date > r.as_of_date
UNION ALL
SELECT
    'procedures',
    p.src_row,
    'event_date',
    CAST(p.event_date AS VARCHAR),
    'after the as-of date ' || CAST(r.as_of_date AS VARCHAR)
FROM procedure_dates AS p
CROSS JOIN run_settings AS r
WHERE p.event_date > r.as_of_date
