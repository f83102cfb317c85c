-- diagnoses_summary
-- Grain: one row per code system (as normalised) over ALL input diagnosis rows, with a count.
-- Implements: the manifest's reconciliation and the data-quality count of code systems without
--   value sets, from a single cheap scan of one column: rows counted = all rows - quarantined
--   rows (every quarantined row is in diagnoses_kept), so the full checked view is read once.
SELECT
    COALESCE(
        NULLIF(UPPER(REPLACE(REPLACE(CAST(code_system AS VARCHAR), '-', ''), ' ', '')), ''),
        'ICD10CM'
    ) AS code_system,
    COUNT(*) AS row_count
FROM input_diagnoses
GROUP BY 1
