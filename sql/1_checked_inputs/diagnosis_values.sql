-- diagnosis_values
-- Grain: one row per code x code system of the input diagnosis rows, as written (not
--   normalised), with the number of rows.
-- Implements: the one cheap scan over ALL diagnosis rows that the code normalisation
--   (input_codes: once per distinct value, docs/development.md "Reading values") and the
--   reconciliation (diagnoses_summary) need.
SELECT
    CAST(code AS VARCHAR) AS code,
    CAST(code_system AS VARCHAR) AS code_system,
    COUNT(*) AS row_count
FROM input_diagnoses
GROUP BY CAST(code AS VARCHAR), CAST(code_system AS VARCHAR)
