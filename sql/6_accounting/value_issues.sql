-- value_issues
-- Grain: one row per accepted input row with a value that could not be used and was set to null.
-- Implements: "nothing is lost" for values that do not make the whole row unusable: a patient
--   whose birth date cannot be read is kept (and falls to rule 2, age_unknown) instead of
--   vanishing with all their events. File and row as in quarantine (input_row_sources).
SELECT
    'patients' AS table_name,
    COALESCE(s.file_name, f.file_name) AS file_name,
    COALESCE(s.line_number, p.src_row) AS row_number,
    p.value_issue_column AS column_name,
    p.value_issue AS reason,
    p.value_issue_value AS value
FROM patients_checked AS p
JOIN input_files AS f ON f.table_name = 'patients'
LEFT JOIN input_row_sources AS s ON s.table_name = 'patients' AND s.src_row = p.src_row
WHERE p.reject_reason IS NULL AND p.value_issue IS NOT NULL
ORDER BY p.src_row
