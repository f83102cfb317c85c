-- input_reconciliation
-- Grain: one row per input table x disposition x detail.
-- Implements: "nothing is lost": every input row is counted, does not count (by status, measure
--   3.1), or is quarantined with a reason. The manifest checks that the rows of each table add
--   up to the rows read.
WITH diagnosis_dispositions AS (
    SELECT reject_reason, row_count
    FROM diagnoses_summary
    WHERE summary_level = 'disposition'
),
procedure_dispositions AS (
    SELECT reject_reason, counts, status, is_index, row_count
    FROM procedures_summary
    WHERE summary_level = 'disposition'
)
SELECT 'patients' AS table_name, 'quarantined' AS disposition, reject_reason AS detail,
    COUNT(*) AS row_count
FROM patients_checked WHERE reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'patients', 'counted', 'patient', COUNT(*)
FROM patients_checked WHERE reject_reason IS NULL
UNION ALL
SELECT 'diagnoses', 'quarantined', reject_reason, CAST(SUM(row_count) AS BIGINT)
FROM diagnosis_dispositions WHERE reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'diagnoses', 'counted', 'diagnosis', CAST(COALESCE(SUM(row_count), 0) AS BIGINT)
FROM diagnosis_dispositions WHERE reject_reason IS NULL
UNION ALL
SELECT 'procedures', 'quarantined', reject_reason, CAST(SUM(row_count) AS BIGINT)
FROM procedure_dispositions WHERE reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'procedures', 'not_counting_status', status, CAST(SUM(row_count) AS BIGINT)
FROM procedure_dispositions WHERE reject_reason IS NULL AND NOT counts GROUP BY status
UNION ALL
SELECT
    'procedures',
    'counted',
    CASE WHEN is_index THEN 'index_procedure' ELSE 'other_procedure' END,
    CAST(SUM(row_count) AS BIGINT)
FROM procedure_dispositions
WHERE reject_reason IS NULL AND counts
GROUP BY CASE WHEN is_index THEN 'index_procedure' ELSE 'other_procedure' END
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
