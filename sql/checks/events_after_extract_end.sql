-- check: events_after_extract_end
-- kind: plausibility
-- severity: error
-- threshold: 0.5
-- tables: diagnoses, procedures
-- description: A diagnosis or procedure is dated after the extract's end (the as-of date,
--   --as-of; default the day of the run). The row is quarantined (future_date). An error only
--   when more than half of a table's rows are after it: the as-of date is then set too early.
SELECT
    'diagnoses' AS table_name,
    d.src_row AS row_number,
    'event_date' AS column_name,
    CAST(d.event_date AS VARCHAR) AS value,
    'after the as-of date ' || CAST(r.as_of_date AS VARCHAR) AS detail
FROM diagnoses_checked AS d
CROSS JOIN run_settings AS r
WHERE d.event_date > r.as_of_date
UNION ALL
SELECT
    'procedures',
    p.src_row,
    'event_date',
    CAST(p.event_date AS VARCHAR),
    'after the as-of date ' || CAST(r.as_of_date AS VARCHAR)
FROM procedures_checked AS p
CROSS JOIN run_settings AS r
WHERE p.event_date > r.as_of_date
