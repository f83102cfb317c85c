-- input_patients
-- Grain: one row per Patient resource in use (fhir_patients without a disposition).
-- Implements: issue 4, FHIR adapter -> canonical patients (measure spec section 2).
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    patient_id,
    birth_date,
    birth_year,
    sex
FROM fhir_patients
WHERE disposition IS NULL
ORDER BY src_file, src_row
