-- date_periods
-- Grain: one row per date with a session or an in-population spine-pain visit x period it is
--   counted in: period_type 'all' (the whole audit period, starting at its first day) and
--   'month' (its calendar month, starting at the month's first day).
-- Implements: measure spec 3.6 and 5 (site summaries for the whole audit period and for each
--   calendar month): the one place a date is split into the periods it counts in; the per-site
--   counts join their sessions and visits to it by date.
WITH anchor_dates AS (
    SELECT DISTINCT anchor_date AS event_date
    FROM anchor_population
    WHERE in_audit_period AND (anchor_type = 'session' OR population_rule IS NULL)
),
period_types AS (
    SELECT 'all' AS period_type
    UNION ALL
    SELECT 'month' AS period_type
)
SELECT
    d.event_date,
    t.period_type,
    CASE
        WHEN t.period_type = 'all' THEN b.period_start
        ELSE CAST(DATE_TRUNC('month', d.event_date) AS DATE)
    END AS period_start
FROM anchor_dates AS d
CROSS JOIN period_types AS t
CROSS JOIN audit_period AS b
