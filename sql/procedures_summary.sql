-- procedures_summary
-- Grain: grouping sets over all procedure lines: one row per (reject_reason, counts, status,
--   whether the code is an index procedure) with a row count (summary_level 'disposition'), and
--   one row per patient with the date of their first accepted line, counting or not
--   (summary_level 'patient').
-- Implements: the manifest's reconciliation (measure spec 3.1: counted, not counting by status,
--   quarantined by reason), the list of status values that counted, and the "earliest record of
--   any kind" of measure spec section 2 — all from a single scan.
WITH index_codes AS (
    SELECT DISTINCT code_system, code
    FROM value_set_codes
    WHERE domain = 'procedure' AND role = 'family'
),
classified_lines AS (
    SELECT
        p.patient_id,
        p.event_date,
        p.reject_reason,
        p.counts,
        p.status,
        (i.code IS NOT NULL) AS is_index
    FROM procedures_checked AS p
    LEFT JOIN index_codes AS i ON i.code_system = p.match_system AND i.code = p.code
)
SELECT
    CASE WHEN GROUPING(patient_id) = 0 THEN 'patient' ELSE 'disposition' END AS summary_level,
    reject_reason,
    counts,
    status,
    is_index,
    patient_id,
    COUNT(*) AS row_count,
    MIN(event_date) FILTER (WHERE reject_reason IS NULL) AS first_accepted_date
FROM classified_lines
GROUP BY GROUPING SETS ((reject_reason, counts, status, is_index), (patient_id))
