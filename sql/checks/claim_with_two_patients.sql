-- check: claim_with_two_patients
-- kind: conformance
-- severity: error
-- threshold: 0.01
-- tables: diagnoses, procedures
-- description: One claim or encounter id (source_id) of an index procedure carries two or more
--   patients, across the diagnoses and procedures together. The engine links diagnoses to lines only within one
--   patient, so a few such claims do little harm (warn); when more than 1% of a table's rows
--   sit on such claims, the patient or claim id is mapped wrong (subscriber instead of member
--   id, a claim id that restarts per file) and the run stops.
-- Only rows of known patients count: a row naming an unknown patient is reported (and
--   quarantined) by unknown_patients.
-- Only claims that carry an index procedure line are examined — the only claims whose
--   diagnoses the engine links to a session (measure 3.4) — so the check costs a probe of two
--   raw columns against a small set, not a grouping of every claim in the extract. A claim is
--   shared when its smallest and largest patient id differ.
WITH known_patients AS (
    SELECT patient_id FROM patients_checked WHERE reject_reason IS NULL
),
claim_rows AS (
    SELECT
        'diagnoses' AS table_name,
        src_row,
        NULLIF(TRIM(CAST(source_id AS VARCHAR)), '') AS source_id,
        NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') AS patient_id
    FROM input_diagnoses
    UNION ALL
    SELECT
        'procedures' AS table_name,
        src_row,
        NULLIF(TRIM(CAST(source_id AS VARCHAR)), '') AS source_id,
        NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') AS patient_id
    FROM input_procedures
),
index_claims AS (
    SELECT DISTINCT source_id
    FROM procedures_kept
    WHERE reject_reason IS NULL AND role = 'family' AND source_id IS NOT NULL
),
known_claim_rows AS (
    SELECT table_name, src_row, source_id, patient_id
    FROM claim_rows
    WHERE source_id IN (SELECT source_id FROM index_claims)
        AND patient_id IN (SELECT patient_id FROM known_patients)
),
shared_claims AS (
    SELECT source_id
    FROM known_claim_rows
    GROUP BY source_id
    HAVING MIN(patient_id) <> MAX(patient_id)
),
shared_claim_patients AS (
    SELECT r.source_id, COUNT(DISTINCT r.patient_id) AS patient_count
    FROM known_claim_rows AS r
    JOIN shared_claims AS s ON s.source_id = r.source_id
    GROUP BY r.source_id
)
SELECT
    r.table_name,
    r.src_row AS row_number,
    'source_id' AS column_name,
    r.source_id AS value,
    'claim has ' || CAST(s.patient_count AS VARCHAR) || ' patients' AS detail
FROM known_claim_rows AS r
JOIN shared_claim_patients AS s ON s.source_id = r.source_id
