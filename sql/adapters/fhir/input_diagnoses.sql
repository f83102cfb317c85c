-- input_diagnoses
-- Grain: one row per Condition in use, then one row per distinct code of each final EOB.
-- Implements: issue 4, FHIR adapter -> canonical diagnoses (measure spec section 2): clinical
--   conditions (fhir_conditions) and claim diagnoses (fhir_eob_diagnoses). src_row is the row's
--   key in this table (conditions first, then claim diagnoses, each in file, line and diagnosis
--   order): unique, as the engine needs, although the codes of one EOB share its line and an
--   export may come in several files. src_file and src_line say where the row came from (the
--   adapter moves them into input_row_sources, which the quarantine reports).
WITH diagnosis_rows AS (
    SELECT
        1 AS source_rank,
        src_file,
        src_row,
        0 AS dx_key,
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
        2 AS source_rank,
        src_file,
        src_row,
        dx_key,
        patient_id,
        event_date,
        code,
        code_system,
        source_id,
        site_id
    FROM fhir_eob_diagnoses
)
SELECT
    CAST(ROW_NUMBER() OVER (ORDER BY source_rank, src_file, src_row, dx_key) AS BIGINT)
        AS src_row,
    patient_id,
    event_date,
    code,
    code_system,
    source_id,
    site_id,
    src_file,
    CAST(src_row AS BIGINT) AS src_line
FROM diagnosis_rows
ORDER BY source_rank, src_file, src_line, dx_key
