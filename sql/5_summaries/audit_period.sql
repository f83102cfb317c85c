-- audit_period
-- Grain: exactly one row: the first and last day of the audit period.
-- Implements: the --from / --to options of the CLI (the period filters sessions and visits; the
--   rules' lookback reaches before it). Where a bound is not given, the earliest or latest
--   session or in-population spine-pain visit date stands in.
SELECT
    COALESCE(CAST($period_from AS DATE), MIN(event_date)) AS period_start,
    COALESCE(CAST($period_to AS DATE), MAX(event_date)) AS period_end
FROM (
    SELECT anchor_date AS event_date
    FROM anchor_population
    WHERE in_audit_period AND (anchor_type = 'session' OR population_rule IS NULL)
) AS dated_anchors
