-- input_reconciliation
-- Grain: one row per input table x disposition x detail.
-- Implements: "nothing is lost": every input row is counted, does not count (by status, measure
--   3.1), or is quarantined with a reason. The manifest checks that the rows of each table add
--   up to the rows read. Every quarantined row and every index line is kept whole
--   (*_kept); the rest is counted by subtraction from the one-column scans (*_summary).
WITH diagnosis_rejects AS (
    SELECT DISTINCT src_row, reject_reason FROM diagnoses_kept WHERE reject_reason IS NOT NULL
),
procedure_rejects AS (
    SELECT src_row, reject_reason, status FROM procedures_kept WHERE reject_reason IS NOT NULL
),
procedure_statuses AS (
    SELECT
        s.status,
        s.row_count - COALESCE(r.rejected, 0) AS accepted_rows,
        (s.status IS NULL OR s.status NOT IN (SELECT status FROM non_counting_statuses)) AS counts
    FROM procedures_summary AS s
    LEFT JOIN (
        SELECT status, COUNT(*) AS rejected FROM procedure_rejects GROUP BY status
    ) AS r ON r.status IS NOT DISTINCT FROM s.status
),
index_line_count AS (
    SELECT COUNT(DISTINCT src_row) AS row_count
    FROM procedures_kept
    WHERE reject_reason IS NULL AND counts AND role = 'family'
)
SELECT 'patients' AS table_name, 'quarantined' AS disposition, reject_reason AS detail,
    COUNT(*) AS row_count
FROM patients_checked WHERE reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'patients', 'counted', 'patient', COUNT(*)
FROM patients_checked WHERE reject_reason IS NULL
UNION ALL
SELECT 'diagnoses', 'quarantined', reject_reason, COUNT(*)
FROM diagnosis_rejects GROUP BY reject_reason
UNION ALL
SELECT 'diagnoses', 'counted', 'diagnosis',
    CAST(COALESCE((SELECT SUM(row_count) FROM diagnoses_summary), 0) AS BIGINT)
    - (SELECT COUNT(*) FROM diagnosis_rejects)
UNION ALL
SELECT 'procedures', 'quarantined', reject_reason, COUNT(*)
FROM procedure_rejects GROUP BY reject_reason
UNION ALL
SELECT 'procedures', 'not_counting_status', status, CAST(accepted_rows AS BIGINT)
FROM procedure_statuses WHERE NOT counts AND accepted_rows > 0
UNION ALL
SELECT 'procedures', 'counted', 'index_procedure', row_count
FROM index_line_count WHERE row_count > 0
UNION ALL
SELECT 'procedures', 'counted', 'other_procedure',
    CAST((SELECT SUM(accepted_rows) FROM procedure_statuses WHERE counts) AS BIGINT)
    - (SELECT row_count FROM index_line_count)
WHERE (SELECT SUM(accepted_rows) FROM procedure_statuses WHERE counts)
    > (SELECT row_count FROM index_line_count)
UNION ALL
SELECT 'coverage', 'quarantined', reject_reason, COUNT(*)
FROM coverage_checked WHERE reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'coverage', 'counted', 'coverage_row', COUNT(*)
FROM coverage_checked WHERE reject_reason IS NULL
UNION ALL
SELECT 'sites', 'quarantined', reject_reason, COUNT(*)
FROM sites_checked WHERE reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'sites', 'counted', 'site', COUNT(*)
FROM sites_checked WHERE reject_reason IS NULL
ORDER BY table_name, disposition, detail
