-- provider_spend
-- Grain: one row per site x period (the whole audit period, and each calendar month) x provider
--   role ('rendering', 'billing') x provider id x recommendation x family, over the discordant
--   sessions of the audit period, and one per site x period x role x provider over all its
--   recommendations (recommendation and family 'all'). A provider id NULL stands for lines that
--   name none. Billing rows exist only when some index line of the extract names a billing
--   provider.
-- Implements: issue 12 (spend and providers, docs/outputs.md "providers"): a discordant session
--   counts once for every provider named on one of its lines (merged lines included), so
--   sessions and patients of a site's providers need not add up; the allowed amount is split by
--   line (each provider is given the allowed amounts of its own lines), so the amounts of a
--   site's providers of one role add up to the site's discordant allowed amount (measure 3.3).
--   Unsuppressed; disclosure control is applied before the table is written.
WITH discordant_sessions AS (
    SELECT patient_id, site_id, session_date, family, recommendation
    FROM session_outcomes
    WHERE outcome = 'discordant'
),
discordant_lines AS (
    SELECT
        s.patient_id,
        s.site_id,
        s.session_date,
        s.family,
        s.recommendation,
        l.provider_id,
        l.billing_provider_id,
        l.allowed_amount
    FROM discordant_sessions AS s
    JOIN session_lines AS l
        ON l.patient_id = s.patient_id
        AND l.site_id = s.site_id
        AND l.session_date = s.session_date
        AND l.family = s.family
),
billing_named AS (
    SELECT COUNT(*) > 0 AS any_billing
    FROM session_lines
    WHERE billing_provider_id IS NOT NULL
),
provider_lines AS (
    SELECT
        'rendering' AS provider_role,
        provider_id,
        patient_id,
        site_id,
        session_date,
        family,
        recommendation,
        allowed_amount
    FROM discordant_lines
    UNION ALL
    SELECT
        'billing' AS provider_role,
        d.billing_provider_id AS provider_id,
        d.patient_id,
        d.site_id,
        d.session_date,
        d.family,
        d.recommendation,
        d.allowed_amount
    FROM discordant_lines AS d
    CROSS JOIN billing_named AS b
    WHERE b.any_billing
),
provider_sessions AS (
    SELECT
        provider_role,
        provider_id,
        patient_id,
        site_id,
        session_date,
        family,
        recommendation,
        SUM(allowed_amount) AS allowed_amount
    FROM provider_lines
    GROUP BY
        provider_role, provider_id, patient_id, site_id, session_date, family, recommendation
),
provider_periods AS (
    SELECT
        s.site_id,
        p.period_type,
        p.period_start,
        s.provider_role,
        s.provider_id,
        s.recommendation,
        s.family,
        s.patient_id,
        s.allowed_amount
    FROM provider_sessions AS s
    JOIN date_periods AS p ON p.event_date = s.session_date
),
provider_recommendations AS (
    SELECT
        site_id,
        period_type,
        period_start,
        provider_role,
        provider_id,
        recommendation,
        family,
        COUNT(*) AS discordant_sessions,
        COUNT(DISTINCT patient_id) AS discordant_patients,
        CAST(COALESCE(SUM(allowed_amount), 0) AS DECIMAL(18, 2)) AS allowed_amount
    FROM provider_periods
    GROUP BY
        site_id, period_type, period_start, provider_role, provider_id, recommendation, family
),
provider_totals AS (
    SELECT
        site_id,
        period_type,
        period_start,
        provider_role,
        provider_id,
        'all' AS recommendation,
        'all' AS family,
        COUNT(*) AS discordant_sessions,
        COUNT(DISTINCT patient_id) AS discordant_patients,
        CAST(COALESCE(SUM(allowed_amount), 0) AS DECIMAL(18, 2)) AS allowed_amount
    FROM provider_periods
    GROUP BY site_id, period_type, period_start, provider_role, provider_id
)
SELECT
    site_id,
    period_type,
    period_start,
    provider_role,
    provider_id,
    recommendation,
    family,
    discordant_sessions,
    discordant_patients,
    allowed_amount
FROM provider_totals
UNION ALL
SELECT
    site_id,
    period_type,
    period_start,
    provider_role,
    provider_id,
    recommendation,
    family,
    discordant_sessions,
    discordant_patients,
    allowed_amount
FROM provider_recommendations
ORDER BY
    site_id, period_type, period_start, provider_role, provider_id, recommendation, family
