-- site_outcome_counts
-- Grain: one row per site x period x outcome rule x outcome x reason x recommendation x family.
-- Implements: the per-site tables of the reports (sessions by outcome, the table by
--   recommendation, the attrition from all counting sessions down to discordant, measure 3.5).
--   Unsuppressed; disclosure control is applied before publication. The periods a session
--   counts in come from date_periods.
WITH session_periods AS (
    SELECT
        s.site_id,
        p.period_type,
        p.period_start,
        s.rule,
        s.outcome,
        s.reason,
        s.recommendation,
        s.family,
        s.patient_id,
        s.allowed_amount
    FROM session_outcomes AS s
    JOIN date_periods AS p ON p.event_date = s.session_date
)
SELECT
    site_id,
    period_type,
    period_start,
    rule AS rule_order,
    outcome,
    reason,
    recommendation,
    family,
    COUNT(*) AS sessions,
    COUNT(DISTINCT patient_id) AS patients,
    COALESCE(SUM(allowed_amount), 0) AS allowed_amount
FROM session_periods
GROUP BY site_id, period_type, period_start, rule, outcome, reason, recommendation, family
ORDER BY site_id, period_type, period_start, rule_order, outcome, reason, recommendation, family
