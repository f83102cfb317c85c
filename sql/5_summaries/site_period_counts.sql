-- site_period_counts
-- Grain: one row per site x period; period_type 'all' is the whole audit period, 'month' each
--   calendar month in which the network has any session or spine-pain visit.
-- Implements: measure spec 3.6: denominator = distinct patients with at least one in-population
--   spine-pain visit at the site in the period (rules 1, 2, 4-7 evaluated at the visit date);
--   discordant patients = those of them with at least one discordant session at the site in the
--   period. Counts here are unsuppressed: disclosure control is applied before anything is
--   published (audit/disclosure.py).
WITH session_rows AS (
    SELECT site_id, patient_id, session_date AS event_date, outcome, allowed_amount
    FROM session_outcomes
),
visit_rows AS (
    SELECT site_id, patient_id, anchor_date AS event_date
    FROM anchor_population
    WHERE anchor_type = 'visit' AND population_rule IS NULL AND in_audit_period
),
session_periods AS (
    SELECT
        s.site_id,
        p.period_type,
        p.period_start,
        s.patient_id,
        s.outcome,
        s.allowed_amount
    FROM session_rows AS s
    JOIN date_periods AS p ON p.event_date = s.event_date
),
visit_periods AS (
    SELECT DISTINCT
        v.site_id,
        p.period_type,
        p.period_start,
        v.patient_id
    FROM visit_rows AS v
    JOIN date_periods AS p ON p.event_date = v.event_date
),
known_sites AS (
    SELECT site_id FROM sites_checked WHERE reject_reason IS NULL
    UNION
    SELECT site_id FROM session_rows
    UNION
    SELECT site_id FROM visit_rows
),
site_periods AS (
    SELECT k.site_id, 'all' AS period_type, b.period_start
    FROM known_sites AS k
    CROSS JOIN audit_period AS b
    UNION
    SELECT site_id, period_type, period_start FROM session_periods WHERE period_type = 'month'
    UNION
    SELECT site_id, period_type, period_start FROM visit_periods WHERE period_type = 'month'
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
        COUNT(*) FILTER (WHERE outcome = 'out_of_population') AS sessions_out_of_population,
        SUM(allowed_amount) AS allowed_amount_total,
        SUM(allowed_amount) FILTER (WHERE outcome = 'discordant') AS allowed_amount_discordant
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
    COALESCE(st.site_name, p.site_id) AS site_name,
    st.site_group,
    p.period_type,
    p.period_start,
    CASE
        WHEN p.period_type = 'all' THEN b.period_end
        ELSE LAST_DAY(p.period_start)
    END AS period_end,
    COALESCE(d.in_population_patients, 0) AS in_population_patients,
    COALESCE(dp.discordant_patients, 0) AS discordant_patients,
    COALESCE(sc.sessions_total, 0) AS sessions_total,
    COALESCE(sc.sessions_discordant, 0) AS sessions_discordant,
    COALESCE(sc.sessions_clinical_trial, 0) AS sessions_clinical_trial,
    COALESCE(sc.sessions_not_addressed, 0) AS sessions_not_addressed,
    COALESCE(sc.sessions_out_of_population, 0) AS sessions_out_of_population,
    COALESCE(sc.allowed_amount_total, 0) AS allowed_amount_total,
    COALESCE(sc.allowed_amount_discordant, 0) AS allowed_amount_discordant
FROM site_periods AS p
CROSS JOIN audit_period AS b
LEFT JOIN sites_checked AS st ON st.site_id = p.site_id AND st.reject_reason IS NULL
LEFT JOIN session_counts AS sc
    ON sc.site_id = p.site_id AND sc.period_type = p.period_type AND sc.period_start = p.period_start
LEFT JOIN denominator_counts AS d
    ON d.site_id = p.site_id AND d.period_type = p.period_type AND d.period_start = p.period_start
LEFT JOIN discordant_patient_counts AS dp
    ON dp.site_id = p.site_id AND dp.period_type = p.period_type AND dp.period_start = p.period_start
WHERE p.period_start IS NOT NULL OR p.period_type = 'all'
ORDER BY p.site_id, p.period_type, p.period_start
