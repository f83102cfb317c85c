-- input_reconciliation
-- Grain: one row per input table x disposition x detail.
-- Implements: "nothing is lost": every input row is counted, does not count (by status, measure
--   3.1), or is quarantined with a reason. The manifest checks that the rows of each table add
--   up to the rows read.
SELECT 'patients' AS table_name, 'quarantined' AS disposition, reject_reason AS detail,
    COUNT(*) AS row_count
FROM patients_checked WHERE reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'patients', 'counted', 'patient', COUNT(*)
FROM patients_checked WHERE reject_reason IS NULL
UNION ALL
SELECT 'diagnoses', 'quarantined', reject_reason, COUNT(*)
FROM diagnoses_checked WHERE reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'diagnoses', 'counted', 'diagnosis', COUNT(*)
FROM diagnoses_checked WHERE reject_reason IS NULL
UNION ALL
SELECT 'procedures', 'quarantined', reject_reason, COUNT(*)
FROM procedures_checked WHERE reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'procedures', 'not_counting_status', status, COUNT(*)
FROM procedures_checked WHERE reject_reason IS NULL AND NOT counts GROUP BY status
UNION ALL
SELECT
    'procedures',
    'counted',
    CASE WHEN i.src_row IS NULL THEN 'other_procedure' ELSE 'index_procedure' END,
    COUNT(*)
FROM procedures_checked AS p
LEFT JOIN index_lines AS i ON i.src_row = p.src_row
WHERE p.reject_reason IS NULL AND p.counts
GROUP BY CASE WHEN i.src_row IS NULL THEN 'other_procedure' ELSE 'index_procedure' END
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
