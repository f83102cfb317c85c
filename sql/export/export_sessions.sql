-- export_sessions
-- Grain: one row per session of the run (internal/sessions.parquet, read as run_sessions).
-- Implements: docs/export.md: patient_id replaced by its pseudonym (patient_keys: HMAC-SHA256
--   under the export key, computed once per distinct patient); every date in the export's date
--   mode ($date_mode: exact; month = the first day of its month; shift = moved by the patient's
--   shift_days); age top-coded at $top_age (the value means "$top_age or over"); year and month
--   of the exported session date for the Hive partitions. Columns are those of the allow-list
--   (audit/data/export_schema.json), each cast to its listed type.
WITH keyed_sessions AS (
    SELECT
        k.patient_pseudonym,
        k.shift_days,
        s.site_id,
        s.session_date,
        s.family,
        s.region,
        s.pain_types,
        s.outcome,
        s.reason,
        s.recommendation,
        s.codes,
        s.allowed_amount,
        s.age,
        s.rule,
        s.line_count,
        s.merged_families,
        s.indication_codes,
        s.has_trial_modifier,
        s.has_trial_diagnosis,
        s.exclusion_code,
        s.exclusion_date,
        s.chronic_evidence_code,
        s.chronic_evidence_date,
        s.history_start
    FROM run_sessions AS s
    INNER JOIN patient_keys AS k ON k.patient_id = s.patient_id
),
dated_sessions AS (
    SELECT
        patient_pseudonym,
        site_id,
        CASE $date_mode
            WHEN 'exact' THEN session_date
            WHEN 'month' THEN CAST(DATE_TRUNC('month', session_date) AS DATE)
            ELSE CAST(session_date + shift_days AS DATE)
        END AS session_date,
        family,
        region,
        pain_types,
        outcome,
        reason,
        recommendation,
        codes,
        allowed_amount,
        CASE WHEN age >= $top_age THEN $top_age ELSE age END AS age,
        rule,
        line_count,
        merged_families,
        indication_codes,
        has_trial_modifier,
        has_trial_diagnosis,
        exclusion_code,
        CASE $date_mode
            WHEN 'exact' THEN exclusion_date
            WHEN 'month' THEN CAST(DATE_TRUNC('month', exclusion_date) AS DATE)
            ELSE CAST(exclusion_date + shift_days AS DATE)
        END AS exclusion_date,
        chronic_evidence_code,
        CASE $date_mode
            WHEN 'exact' THEN chronic_evidence_date
            WHEN 'month' THEN CAST(DATE_TRUNC('month', chronic_evidence_date) AS DATE)
            ELSE CAST(chronic_evidence_date + shift_days AS DATE)
        END AS chronic_evidence_date,
        CASE $date_mode
            WHEN 'exact' THEN history_start
            WHEN 'month' THEN CAST(DATE_TRUNC('month', history_start) AS DATE)
            ELSE CAST(history_start + shift_days AS DATE)
        END AS history_start
    FROM keyed_sessions
)
SELECT
    CAST(YEAR(session_date) AS INTEGER) AS year,
    CAST(MONTH(session_date) AS INTEGER) AS month,
    CAST(patient_pseudonym AS VARCHAR) AS patient_pseudonym,
    CAST(site_id AS VARCHAR) AS site_id,
    CAST(session_date AS DATE) AS session_date,
    CAST(family AS VARCHAR) AS family,
    CAST(region AS VARCHAR) AS region,
    CAST(pain_types AS VARCHAR[]) AS pain_types,
    CAST(outcome AS VARCHAR) AS outcome,
    CAST(reason AS VARCHAR) AS reason,
    CAST(recommendation AS VARCHAR) AS recommendation,
    CAST(codes AS VARCHAR[]) AS codes,
    CAST(allowed_amount AS DECIMAL(18, 2)) AS allowed_amount,
    CAST(age AS INTEGER) AS age,
    CAST(rule AS INTEGER) AS rule,
    CAST(line_count AS INTEGER) AS line_count,
    CAST(merged_families AS VARCHAR[]) AS merged_families,
    CAST(indication_codes AS VARCHAR[]) AS indication_codes,
    CAST(has_trial_modifier AS BOOLEAN) AS has_trial_modifier,
    CAST(has_trial_diagnosis AS BOOLEAN) AS has_trial_diagnosis,
    CAST(exclusion_code AS VARCHAR) AS exclusion_code,
    CAST(exclusion_date AS DATE) AS exclusion_date,
    CAST(chronic_evidence_code AS VARCHAR) AS chronic_evidence_code,
    CAST(chronic_evidence_date AS DATE) AS chronic_evidence_date,
    CAST(history_start AS DATE) AS history_start
FROM dated_sessions
ORDER BY site_id, session_date, patient_pseudonym, family
