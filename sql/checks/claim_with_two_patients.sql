-- check: claim_with_two_patients
-- kind: conformance
-- severity: error
-- threshold: 0.01
-- tables: diagnoses, procedures
-- description: One claim or encounter id (source_id) carries two or more patients among the
--   rows the audit links through it: index procedure lines and diagnoses in a value set. The
--   engine links diagnoses to lines only within one patient, so a few such claims do little
--   harm (warn); when more than 1% of a table's rows
--   sit on such claims, the patient or claim id is mapped wrong (subscriber instead of member
--   id, a claim id that restarts per file) and the run stops.
-- Only rows of known patients count: a row naming an unknown patient is reported (and
--   quarantined) by unknown_patients.
-- Reads the kept rows only (procedures_kept, diagnoses_kept: accepted index lines and value-set
--   diagnoses, the only rows measure 3.4 links by source_id), so the check costs nothing at
--   scale. A claim is shared when its smallest and largest patient id differ.
WITH linked_claim_patients AS (
    -- read once (no materialised copy of the kept rows): claim and patient of every linked row
    SELECT source_id, patient_id
    FROM procedures_kept
    WHERE reject_reason IS NULL AND role = 'family' AND source_id IS NOT NULL
    UNION ALL
    SELECT source_id, patient_id
    FROM diagnoses_kept
    WHERE reject_reason IS NULL AND source_id IS NOT NULL
),
shared_claims AS (
    SELECT source_id
    FROM linked_claim_patients
    GROUP BY source_id
    HAVING MIN(patient_id) <> MAX(patient_id)
),
shared_claim_rows AS (
    -- UNION: a diagnosis row in two value sets is kept twice but is one finding
    SELECT 'procedures' AS table_name, src_row, source_id, patient_id
    FROM procedures_kept
    WHERE reject_reason IS NULL AND role = 'family'
        AND source_id IN (SELECT source_id FROM shared_claims)
    UNION
    SELECT 'diagnoses' AS table_name, src_row, source_id, patient_id
    FROM diagnoses_kept
    WHERE reject_reason IS NULL
        AND source_id IN (SELECT source_id FROM shared_claims)
),
shared_claim_patients AS (
    -- patients are counted only on the few shared claims
    SELECT source_id, COUNT(DISTINCT patient_id) AS patient_count
    FROM shared_claim_rows
    GROUP BY source_id
)
SELECT
    r.table_name,
    r.src_row AS row_number,
    'source_id' AS column_name,
    r.source_id AS value,
    'claim has ' || CAST(s.patient_count AS VARCHAR) || ' patients' AS detail
FROM shared_claim_rows AS r
JOIN shared_claim_patients AS s ON s.source_id = r.source_id
