-- unmeasurable_possible_cases
-- Grain: one row per site x recommendation x family that the pack states no procedure code can
--   trigger (unmeasurable_rules), with the possible cases of the audit period.
-- Implements: issue 12 (honest rows) and measure spec 3.2 (unlisted 64999 is reported, never
--   classified): a possible case is a patient x site x date with a counting line whose code is
--   in the pack's possible-case value set (UNLISTED_NERVE) and, on the same claim or encounter
--   or on the same day, a diagnosis of the indication value set (RADICULAR); only dates within
--   the row's valid_from / valid_to count. No population rule is applied: a possible case is
--   neither a session of the family nor a discordant one. Unsuppressed.
WITH possible_case_lines AS (
    SELECT u.recommendation_id, u.family, u.indication_value_set, k.patient_id, k.site_id,
        k.event_date, k.source_id
    FROM procedures_kept AS k
    JOIN unmeasurable_rules AS u ON u.possible_case_value_set = k.value_set
    CROSS JOIN audit_period AS a
    WHERE k.reject_reason IS NULL
        AND k.counts
        AND k.site_id IS NOT NULL
        AND k.event_date BETWEEN a.period_start AND a.period_end
        AND (u.valid_from IS NULL OR k.event_date >= u.valid_from)
        AND (u.valid_to IS NULL OR k.event_date <= u.valid_to)
),
possible_cases AS (
    SELECT DISTINCT l.recommendation_id, l.family, l.patient_id, l.site_id, l.event_date
    FROM possible_case_lines AS l
    WHERE EXISTS (
        SELECT 1
        FROM value_set_diagnoses AS d
        WHERE d.patient_id = l.patient_id
            AND d.value_set = l.indication_value_set
            AND (d.event_date = l.event_date OR d.source_id = l.source_id)
    )
)
SELECT
    site_id,
    recommendation_id AS recommendation,
    family,
    COUNT(*) AS possible_cases,
    COUNT(DISTINCT patient_id) AS possible_case_patients
FROM possible_cases
GROUP BY site_id, recommendation_id, family
ORDER BY site_id, recommendation, family
