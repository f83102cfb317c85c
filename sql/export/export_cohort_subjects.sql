-- export_cohort_subjects
-- Grain: one row per patient in any cohort of the export (cohort_outcomes).
-- Implements: docs/export.md "The OMOP cohort": the OMOP CDM 5.4 cohort table holds subject_id
--   as INTEGER, which a 64-digit pseudonym cannot fill; each patient of a cohort gets a number
--   1..n in the order of the pseudonyms (which reveals nothing of the patient id), and this
--   table maps it back to the pseudonym that links across exports.
WITH cohort_patients AS (
    SELECT DISTINCT s.patient_id
    FROM run_sessions AS s
    INNER JOIN cohort_outcomes AS o ON o.outcome = s.outcome
)
SELECT
    CAST(ROW_NUMBER() OVER (ORDER BY k.patient_pseudonym) AS BIGINT) AS subject_id,
    CAST(k.patient_pseudonym AS VARCHAR) AS patient_pseudonym
FROM cohort_patients AS c
INNER JOIN patient_keys AS k ON k.patient_id = c.patient_id
ORDER BY subject_id
