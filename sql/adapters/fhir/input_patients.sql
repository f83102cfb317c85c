-- input_patients
-- Grain: one row per Patient resource in use (fhir_patients without a disposition).
-- Implements: issue 4, FHIR adapter -> canonical patients (measure spec section 2). src_row is
--   the row's key in this table (1, 2, ... in file and line order: unique, as the engine needs,
--   although an export may come in several files); src_file and src_line say where the row came
--   from (the adapter moves them into input_row_sources, which the quarantine reports).
SELECT
    CAST(ROW_NUMBER() OVER (ORDER BY src_file, src_row) AS BIGINT) AS src_row,
    patient_id,
    birth_date,
    birth_year,
    sex,
    src_file,
    CAST(src_row AS BIGINT) AS src_line
FROM fhir_patients
WHERE disposition IS NULL
ORDER BY src_file, src_line
