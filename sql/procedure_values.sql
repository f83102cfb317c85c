-- procedure_values
-- Grain: one row per status x code x code system of the input procedure lines, as written (not
--   normalised), with the number of lines.
-- Implements: the one cheap scan over ALL procedure lines that the reconciliation and the
--   data-quality counts need (measure spec 3.1: counted, not counting by status; codes that look
--   like an index code but do not match). A grouping on the raw values, so every normalisation
--   (docs/development.md "Reading values") runs once per distinct value, not once per line.
SELECT
    CAST(status AS VARCHAR) AS status,
    CAST(code AS VARCHAR) AS code,
    CAST(code_system AS VARCHAR) AS code_system,
    COUNT(*) AS row_count
FROM input_procedures
GROUP BY CAST(status AS VARCHAR), CAST(code AS VARCHAR), CAST(code_system AS VARCHAR)
