-- session_outcomes
-- Grain: one row per session in the audit period: the sessions.parquet contract (measure spec 5).
-- Implements: measure spec 3.5 (classified_sessions classifies them, rules 1-10); this step keeps
--   the audit period's sessions (in_audit_period), not the trend history before it.
SELECT
    patient_id,
    site_id,
    session_date,
    family,
    region,
    pain_types,
    outcome,
    reason,
    recommendation,
    codes,
    allowed_amount,
    age,
    rule,
    line_count,
    merged_families,
    indication_codes,
    has_trial_modifier,
    has_trial_diagnosis,
    exclusion_code,
    exclusion_date,
    chronic_evidence_code,
    chronic_evidence_date,
    history_start,
    source_ids,
    provider_ids,
    billing_provider_ids
FROM classified_sessions
WHERE in_audit_period
ORDER BY site_id, session_date, patient_id, family
