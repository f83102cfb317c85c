-- quarantine
-- Grain: one row per input row that cannot be used, from any input table.
-- Implements: "nothing is lost" — every rejected row is kept with the file, the row number
--   (the header is row 1 in CSV; the first record is row 1 in Parquet), the column and the
--   reason, and is counted in the manifest's reconciliation. Where src_row is a key rather than
--   the row number (FHIR: several files, several EOB items on one line), input_row_sources
--   gives the file and line.
WITH rejected_rows AS (
    SELECT
        'patients' AS table_name, src_row, reject_column, reject_value AS reason_value, reject_reason
    FROM patients_checked WHERE reject_reason IS NOT NULL
    UNION ALL
    SELECT 'diagnoses', src_row, reject_column, reject_value, reject_reason
    FROM diagnoses_kept WHERE reject_reason IS NOT NULL
    UNION ALL
    SELECT 'procedures', src_row, reject_column, reject_value, reject_reason
    FROM procedures_kept WHERE reject_reason IS NOT NULL
    UNION ALL
    SELECT 'coverage', src_row, reject_column, reject_value, reject_reason
    FROM coverage_checked WHERE reject_reason IS NOT NULL
    UNION ALL
    SELECT 'sites', src_row, reject_column, reject_value, reject_reason
    FROM sites_checked WHERE reject_reason IS NOT NULL
)
SELECT
    r.table_name,
    COALESCE(s.file_name, f.file_name) AS file_name,
    COALESCE(s.line_number, r.src_row) AS row_number,
    r.reject_column AS column_name,
    r.reject_reason AS reason,
    r.reason_value AS value
FROM rejected_rows AS r
JOIN input_files AS f ON f.table_name = r.table_name
LEFT JOIN input_row_sources AS s ON s.table_name = r.table_name AND s.src_row = r.src_row
ORDER BY r.table_name, r.src_row
