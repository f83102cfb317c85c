-- diagnoses_summary
-- Grain: one row per code system (as normalised) over ALL input diagnosis rows, with a count.
-- Implements: the manifest's reconciliation and the data-quality count of code systems without
--   value sets: rows counted = all rows - quarantined rows (every quarantined row is in
--   diagnoses_kept), so the full checked view is read once. Rolled up from diagnosis_values
--   (the one grouping scan of the diagnoses) with the code systems of input_codes, normalised
--   exactly as diagnoses_checked reads them.
SELECT c.code_system, CAST(SUM(v.row_count) AS BIGINT) AS row_count
FROM diagnosis_values AS v
JOIN input_codes AS c
    ON c.domain = 'diagnosis'
    AND c.code_raw IS NOT DISTINCT FROM v.code
    AND c.code_system_raw IS NOT DISTINCT FROM v.code_system
GROUP BY c.code_system
