-- check: date_order
-- kind: plausibility
-- severity: warn
-- tables: coverage
-- description: A coverage row ends before it starts. The row is quarantined (end_before_start),
--   so the patient's history may start later than it should (measure spec 2, coverage).
SELECT
    'coverage' AS table_name,
    src_row AS row_number,
    'end_date' AS column_name,
    CAST(end_date AS VARCHAR) AS value,
    'ends before start_date ' || CAST(start_date AS VARCHAR) AS detail
FROM coverage_checked
WHERE end_date < start_date
