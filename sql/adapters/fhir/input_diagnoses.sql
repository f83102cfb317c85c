-- input_diagnoses
-- Grain: one row per Condition in use, then one row per distinct code of each final EOB.
-- Implements: issue 4, FHIR adapter -> canonical diagnoses (measure spec section 2): clinical
--   conditions (fhir_conditions) and claim diagnoses (fhir_eob_diagnoses). src_row is the line
--   in Condition.ndjson or ExplanationOfBenefit.ndjson respectively.
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    patient_id,
    event_date,
    code,
    code_system,
    source_id,
    site_id
FROM fhir_conditions
WHERE disposition IS NULL
UNION ALL
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    patient_id,
    event_date,
    code,
    code_system,
    source_id,
    site_id
FROM fhir_eob_diagnoses
