-- check: claim_with_two_patients
-- kind: conformance
-- severity: error
-- threshold: 0.01
-- tables: diagnoses, procedures
-- description: One claim or encounter id (source_id) carries two or more patients, across the
--   diagnoses and procedures together. The engine links diagnoses to lines only within one
--   patient, so a few such claims do little harm (warn); when more than 1% of a table's rows
--   sit on such claims, the patient or claim id is mapped wrong (subscriber instead of member
--   id, a claim id that restarts per file) and the run stops.
-- Only rows of known patients count: a row naming an unknown patient is reported (and
--   quarantined) by unknown_patients.
WITH claim_patients AS (
    SELECT source_id, patient_id
    FROM diagnoses_checked
    WHERE source_id IS NOT NULL
        AND (reject_reason IS NULL OR reject_reason NOT IN ('missing_patient_id', 'unknown_patient'))
    UNION
    SELECT source_id, patient_id
    FROM procedures_checked
    WHERE source_id IS NOT NULL
        AND (reject_reason IS NULL OR reject_reason NOT IN ('missing_patient_id', 'unknown_patient'))
),
shared_claims AS (
    SELECT source_id, COUNT(*) AS patient_count
    FROM claim_patients
    GROUP BY source_id
    HAVING COUNT(*) > 1
)
SELECT
    'diagnoses' AS table_name,
    d.src_row AS row_number,
    'source_id' AS column_name,
    d.source_id AS value,
    'claim has ' || CAST(s.patient_count AS VARCHAR) || ' patients' AS detail
FROM diagnoses_checked AS d
JOIN shared_claims AS s ON s.source_id = d.source_id
WHERE d.reject_reason IS NULL OR d.reject_reason NOT IN ('missing_patient_id', 'unknown_patient')
UNION ALL
SELECT
    'procedures',
    p.src_row,
    'source_id',
    p.source_id,
    'claim has ' || CAST(s.patient_count AS VARCHAR) || ' patients'
FROM procedures_checked AS p
JOIN shared_claims AS s ON s.source_id = p.source_id
WHERE p.reject_reason IS NULL OR p.reject_reason NOT IN ('missing_patient_id', 'unknown_patient')
