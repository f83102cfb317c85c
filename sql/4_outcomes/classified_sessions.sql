-- classified_sessions
-- Grain: one row per session of the audit period or of its trend history (anchors.sql), with
--   in_audit_period saying which: the audit period's rows are session_outcomes (the
--   sessions.parquet contract), the history's are read only by the trend step
--   (site_trend_counts), so a history session is classified by exactly the same rules.
--   A view (audit/pipeline.py VIEW_STEPS): its rows are held once, in session_outcomes.
-- Implements: measure spec 3.5, exactly one outcome per session, first rule that applies:
--   rules 1-7 from anchor_population (out_of_population with its reason); 8 clinical_trial (a
--   line with a trial modifier, or a trial diagnosis among the indications); 9 discordant with the
--   recommendation the pack gives for the family and the pain types present (lowest priority
--   number first: EPIDURAL is RAD-EPI when RADICULAR is present, else AX-EPI); 10 not_addressed.
--   Region (3.2): from the codes where they say so, else from the indication diagnoses.
WITH session_indication_lists AS (
    SELECT
        i.anchor_id,
        LIST_SORT(LIST(DISTINCT i.value_set)) AS pain_types,
        LIST_SORT(LIST(DISTINCT i.code)) AS indication_codes
    FROM anchor_indications AS i
    JOIN anchors AS a ON a.anchor_id = i.anchor_id AND a.anchor_type = 'session'
    WHERE i.role = 'pain_type'
    GROUP BY i.anchor_id
),
session_facts AS (
    SELECT
        p.anchor_id,
        p.patient_id,
        p.site_id,
        p.anchor_date AS session_date,
        p.family,
        p.in_audit_period,
        p.age,
        COALESCE(il.pain_types, []) AS pain_types,
        COALESCE(il.indication_codes, []) AS indication_codes,
        p.indication_region,
        p.has_trial_diagnosis,
        p.exclusion_code,
        p.exclusion_date,
        p.chronic_evidence_code,
        p.chronic_evidence_date,
        p.history_start,
        p.population_rule,
        p.population_reason,
        b.line_count,
        b.codes,
        b.line_families,
        b.allowed_amount,
        b.code_region,
        b.has_trial_modifier,
        b.source_ids,
        b.provider_ids,
        b.billing_provider_ids
    FROM anchor_population AS p
    LEFT JOIN session_indication_lists AS il ON il.anchor_id = p.anchor_id
    JOIN merged_sessions AS b
        ON b.patient_id = p.patient_id
        AND b.site_id = p.site_id
        AND b.session_date = p.anchor_date
        AND b.family = p.family
    WHERE p.anchor_type = 'session'
),
applicable_recommendations AS (
    SELECT
        s.anchor_id,
        r.recommendation_id
    FROM session_facts AS s
    JOIN anchor_indications AS i ON i.anchor_id = s.anchor_id AND i.role = 'pain_type'
    JOIN pack_recommendations AS r ON r.family = s.family AND r.pain_type = i.value_set
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY s.anchor_id
        ORDER BY r.priority, r.recommendation_id
    ) = 1
)
SELECT
    s.patient_id,
    s.site_id,
    s.session_date,
    s.family,
    COALESCE(s.code_region, s.indication_region, 'unspecified') AS region,
    s.pain_types,
    CASE
        WHEN s.population_rule IS NOT NULL THEN 'out_of_population'
        WHEN s.has_trial_modifier OR s.has_trial_diagnosis THEN 'clinical_trial'
        WHEN r.recommendation_id IS NOT NULL THEN 'discordant'
        ELSE 'not_addressed'
    END AS outcome,
    s.population_reason AS reason,
    CASE
        WHEN s.population_rule IS NOT NULL THEN NULL
        ELSE r.recommendation_id
    END AS recommendation,
    s.codes,
    CAST(s.allowed_amount AS DECIMAL(18, 2)) AS allowed_amount,
    s.age,
    CASE
        WHEN s.population_rule IS NOT NULL THEN s.population_rule
        WHEN s.has_trial_modifier OR s.has_trial_diagnosis THEN 8
        WHEN r.recommendation_id IS NOT NULL THEN 9
        ELSE 10
    END AS rule,
    s.line_count,
    s.line_families AS merged_families,
    s.indication_codes,
    s.has_trial_modifier,
    s.has_trial_diagnosis,
    s.exclusion_code,
    s.exclusion_date,
    s.chronic_evidence_code,
    s.chronic_evidence_date,
    s.history_start,
    s.source_ids,
    s.provider_ids,
    s.billing_provider_ids,
    s.in_audit_period
FROM session_facts AS s
LEFT JOIN applicable_recommendations AS r ON r.anchor_id = s.anchor_id
