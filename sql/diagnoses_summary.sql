-- diagnoses_summary
-- Grain: grouping sets over all diagnosis rows: one row per (reject_reason, code system) with a
--   row count (summary_level 'disposition'), and one row per patient with the date of their
--   first accepted diagnosis (summary_level 'patient').
-- Implements: the manifest's reconciliation (every row counted or quarantined with a reason),
--   the data-quality count of code systems without value sets, and the "earliest record of any
--   kind" of measure spec section 2 — all from a single scan.
SELECT
    CASE WHEN GROUPING(patient_id) = 0 THEN 'patient' ELSE 'disposition' END AS summary_level,
    reject_reason,
    code_system,
    match_system,
    patient_id,
    COUNT(*) AS row_count,
    MIN(event_date) FILTER (WHERE reject_reason IS NULL) AS first_accepted_date
FROM diagnoses_checked
GROUP BY GROUPING SETS ((reject_reason, code_system, match_system), (patient_id))
