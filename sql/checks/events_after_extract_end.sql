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
SELECT
    'diagnoses' AS table_name,
    d.src_row AS row_number,
    'event_date' AS column_name,
    CAST(TRY_CAST(d.event_date AS DATE) AS VARCHAR) AS value,
    'after the as-of date ' || CAST(r.as_of_date AS VARCHAR) AS detail
FROM input_diagnoses AS d
CROSS JOIN run_settings AS r
WHERE TRY_CAST(d.event_date AS DATE) > r.as_of_date
UNION ALL
SELECT
    'procedures',
    p.src_row,
    'event_date',
    CAST(TRY_CAST(p.event_date AS DATE) AS VARCHAR),
    'after the as-of date ' || CAST(r.as_of_date AS VARCHAR)
FROM input_procedures AS p
CROSS JOIN run_settings AS r
WHERE TRY_CAST(p.event_date AS DATE) > r.as_of_date
