-- site_trend_counts
-- Grain: one row per site x trend period in which the site has a session or an in-population
--   spine-pain visit: period_type 'history_month' (each calendar month of the trend history,
--   the dates before the audit period; only with --from) and 'quarter' (each calendar quarter of
--   the trend window, history and audit period together, cut to the window's first and last
--   day).
-- Implements: the trends of docs/monthly.md: a short audit is read against the 24 months before
--   it, and quarters carry a trend where monthly counts would be hidden. The counts are those
--   of site_period_counts (measure spec 3.6: denominator = distinct patients with an
--   in-population spine-pain visit at the site in the period; discordant patients = those of
--   them with a discordant session at the site in the period; sessions by outcome, 3.5), from
--   the same classification (classified_sessions, anchor_population), history included.
--   Unsuppressed; disclosure control is applied before publication.
WITH trend_window AS (
    -- a bound not given on the command line is the month of the first or last event date (an
    -- exact event date is a patient's date: never a published period bound)
    SELECT
        CASE
            WHEN CAST($history_from AS DATE) IS NOT NULL THEN CAST($history_from AS DATE)
            WHEN CAST($period_from AS DATE) IS NOT NULL THEN CAST($period_from AS DATE)
            ELSE CAST(DATE_TRUNC('month', period_start) AS DATE)
        END AS window_start,
        period_start AS audit_start,
        CASE
            WHEN CAST($period_to AS DATE) IS NOT NULL THEN period_end
            ELSE LAST_DAY(period_end)
        END AS window_end
    FROM audit_period
),
trend_sessions AS (
    SELECT site_id, patient_id, session_date AS event_date, outcome
    FROM session_outcomes
    UNION ALL
    SELECT site_id, patient_id, session_date AS event_date, outcome
    FROM classified_sessions
    WHERE NOT in_audit_period
),
trend_visits AS (
    SELECT DISTINCT site_id, patient_id, anchor_date AS event_date
    FROM anchor_population
    WHERE anchor_type = 'visit' AND population_rule IS NULL
),
event_periods AS (
    -- each event date x the trend periods it counts in
    SELECT DISTINCT
        d.event_date,
        'history_month' AS period_type,
        CAST(DATE_TRUNC('month', d.event_date) AS DATE) AS period_start
    FROM (
        SELECT event_date FROM trend_sessions
        UNION
        SELECT event_date FROM trend_visits
    ) AS d
    CROSS JOIN trend_window AS w
    WHERE d.event_date < w.audit_start
    UNION ALL
    SELECT DISTINCT
        d.event_date,
        'quarter' AS period_type,
        CAST(DATE_TRUNC('quarter', d.event_date) AS DATE) AS period_start
    FROM (
        SELECT event_date FROM trend_sessions
        UNION
        SELECT event_date FROM trend_visits
    ) AS d
),
session_periods AS (
    SELECT s.site_id, p.period_type, p.period_start, s.patient_id, s.outcome
    FROM trend_sessions AS s
    JOIN event_periods AS p ON p.event_date = s.event_date
),
visit_periods AS (
    SELECT DISTINCT v.site_id, p.period_type, p.period_start, v.patient_id
    FROM trend_visits AS v
    JOIN event_periods AS p ON p.event_date = v.event_date
),
site_periods AS (
    SELECT site_id, period_type, period_start FROM session_periods
    UNION
    SELECT site_id, period_type, period_start FROM visit_periods
),
session_counts AS (
    SELECT
        site_id,
        period_type,
        period_start,
        COUNT(*) AS sessions_total,
        COUNT(*) FILTER (WHERE outcome = 'discordant') AS sessions_discordant,
        COUNT(*) FILTER (WHERE outcome = 'clinical_trial') AS sessions_clinical_trial,
        COUNT(*) FILTER (WHERE outcome = 'not_addressed') AS sessions_not_addressed,
        COUNT(*) FILTER (WHERE outcome = 'out_of_population') AS sessions_out_of_population
    FROM session_periods
    GROUP BY site_id, period_type, period_start
),
denominator_counts AS (
    SELECT site_id, period_type, period_start, COUNT(*) AS in_population_patients
    FROM visit_periods
    GROUP BY site_id, period_type, period_start
),
discordant_patient_counts AS (
    SELECT v.site_id, v.period_type, v.period_start, COUNT(*) AS discordant_patients
    FROM visit_periods AS v
    WHERE EXISTS (
        SELECT 1
        FROM session_periods AS s
        WHERE s.site_id = v.site_id
            AND s.period_type = v.period_type
            AND s.period_start = v.period_start
            AND s.patient_id = v.patient_id
            AND s.outcome = 'discordant'
    )
    GROUP BY v.site_id, v.period_type, v.period_start
)
SELECT
    p.site_id,
    p.period_type,
    CASE
        WHEN p.period_type = 'quarter' THEN GREATEST(p.period_start, w.window_start)
        ELSE p.period_start
    END AS period_start,
    CASE
        WHEN p.period_type = 'quarter'
            THEN LEAST(CAST(p.period_start + INTERVAL 3 MONTH AS DATE) - 1, w.window_end)
        ELSE LEAST(LAST_DAY(p.period_start), w.audit_start - 1)
    END AS period_end,
    COALESCE(d.in_population_patients, 0) AS in_population_patients,
    COALESCE(dp.discordant_patients, 0) AS discordant_patients,
    COALESCE(sc.sessions_total, 0) AS sessions_total,
    COALESCE(sc.sessions_discordant, 0) AS sessions_discordant,
    COALESCE(sc.sessions_clinical_trial, 0) AS sessions_clinical_trial,
    COALESCE(sc.sessions_not_addressed, 0) AS sessions_not_addressed,
    COALESCE(sc.sessions_out_of_population, 0) AS sessions_out_of_population
FROM site_periods AS p
CROSS JOIN trend_window AS w
LEFT JOIN session_counts AS sc
    ON sc.site_id = p.site_id AND sc.period_type = p.period_type AND sc.period_start = p.period_start
LEFT JOIN denominator_counts AS d
    ON d.site_id = p.site_id AND d.period_type = p.period_type AND d.period_start = p.period_start
LEFT JOIN discordant_patient_counts AS dp
    ON dp.site_id = p.site_id AND dp.period_type = p.period_type AND dp.period_start = p.period_start
ORDER BY p.site_id, p.period_type, p.period_start
