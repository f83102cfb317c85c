-- merged_sessions
-- Grain: one row per session (patient x site x date x family after the merges of 3.3).
-- Implements: measure spec 3.3 (a session's allowed amount is the sum over its lines, merged lines
--   included), the code part of 3.2's region rule (region from the codes where the codes say
--   so), and the modifier part of 3.5 rule 8 (a line with a clinical-trial modifier, Q0 or Q1 in
--   the pack). Traceability (sessions.parquet): the distinct source ids (claim, visit or encounter)
--   and rendering and billing provider ids of the session's lines, merged lines included, sorted,
--   empty when no line has one.
WITH trial_modifier_lines AS (
    SELECT DISTINCT m.src_row
    FROM (
        SELECT src_row, UNNEST(STRING_SPLIT(modifiers, ',')) AS modifier
        FROM index_lines
        WHERE modifiers IS NOT NULL
    ) AS m
    JOIN value_set_codes AS v
        ON v.code = m.modifier AND v.domain = 'modifier' AND v.role = 'trial_marker'
)
SELECT
    s.patient_id,
    s.site_id,
    s.session_date,
    s.family,
    COUNT(*) AS line_count,
    LIST_SORT(LIST(DISTINCT s.code)) AS codes,
    LIST_SORT(LIST(DISTINCT s.line_family)) AS line_families,
    SUM(s.allowed_amount) AS allowed_amount,
    COALESCE(
        LIST_SORT(LIST(DISTINCT s.source_id) FILTER (WHERE s.source_id IS NOT NULL)), []
    ) AS source_ids,
    COALESCE(
        LIST_SORT(LIST(DISTINCT s.provider_id) FILTER (WHERE s.provider_id IS NOT NULL)), []
    ) AS provider_ids,
    COALESCE(
        LIST_SORT(
            LIST(DISTINCT s.billing_provider_id) FILTER (WHERE s.billing_provider_id IS NOT NULL)
        ),
        []
    ) AS billing_provider_ids,
    CASE
        WHEN COUNT(DISTINCT s.region) = 1 THEN MIN(s.region)
        WHEN COUNT(DISTINCT s.region) > 1 THEN 'multiple'
    END AS code_region,
    COUNT(t.src_row) > 0 AS has_trial_modifier
FROM session_lines AS s
LEFT JOIN trial_modifier_lines AS t ON t.src_row = s.src_row
GROUP BY s.patient_id, s.site_id, s.session_date, s.family
