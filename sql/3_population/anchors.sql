-- anchors
-- Grain: one row per session in the audit period or its trend history (anchor_type 'session')
--   and one row per spine-pain visit in the same dates (anchor_type 'visit': patient x site x
--   date with an AXIAL or RADICULAR diagnosis that carries a site_id); in_audit_period says
--   which. The trend history ($history_from, set only with --from: the 24 calendar months before
--   the period, from a quarter's first day) is classified by the same rules and read only by
--   the trend steps (site_trend_counts); everything else reads the in_audit_period rows.
-- Implements: measure spec 3.5 (sessions are classified) and 3.6 (visits are evaluated with
--   rules 1, 2, 4-7 at their date); the period filters sessions and visits, while the rules'
--   lookback reaches before it. One anchor table lets both go through the same rule SQL.
WITH session_anchors AS (
    SELECT
        'session' AS anchor_type,
        patient_id,
        site_id,
        session_date AS anchor_date,
        family
    FROM merged_sessions
    WHERE session_date >= COALESCE(
        CAST($history_from AS DATE), CAST($period_from AS DATE), DATE '1900-01-01'
    )
        AND session_date <= COALESCE(CAST($period_to AS DATE), DATE '9999-12-31')
),
visit_anchors AS (
    SELECT DISTINCT
        'visit' AS anchor_type,
        patient_id,
        site_id,
        event_date AS anchor_date,
        CAST(NULL AS VARCHAR) AS family
    FROM value_set_diagnoses
    WHERE role = 'pain_type'
        AND site_id IS NOT NULL
        AND event_date >= COALESCE(
            CAST($history_from AS DATE), CAST($period_from AS DATE), DATE '1900-01-01'
        )
        AND event_date <= COALESCE(CAST($period_to AS DATE), DATE '9999-12-31')
),
all_anchors AS (
    SELECT anchor_type, patient_id, site_id, anchor_date, family FROM session_anchors
    UNION ALL
    SELECT anchor_type, patient_id, site_id, anchor_date, family FROM visit_anchors
)
SELECT
    ROW_NUMBER() OVER (
        ORDER BY anchor_type, site_id, anchor_date, patient_id, family
    ) AS anchor_id,
    anchor_type,
    patient_id,
    site_id,
    anchor_date,
    family,
    anchor_date >= COALESCE(CAST($period_from AS DATE), DATE '1900-01-01') AS in_audit_period
FROM all_anchors
