-- claims_source_accounting
-- Grain: one row per source file x outcome x detail: canonical rows made from the file (by
--   canonical table), and rows consumed without a canonical row (by reason).
-- Implements: issue 4 "nothing lost": claim lines = canonical procedure rows + dispositions;
--   member rows = canonical patient rows + repeated_member_row.
SELECT
    'claims' AS source_key, 'canonical' AS outcome, 'procedures' AS detail,
    COUNT(*) AS unit_count
FROM input_procedures
UNION ALL
SELECT 'claims', 'canonical', 'diagnoses', COUNT(*)
FROM input_diagnoses
UNION ALL
SELECT 'claims', 'disposition', disposition, COUNT(*)
FROM claims_line_dispositions
WHERE disposition IS NOT NULL
GROUP BY disposition
UNION ALL
SELECT 'members', 'canonical', 'patients', COUNT(*)
FROM input_patients
UNION ALL
SELECT 'members', 'canonical', 'coverage', COUNT(*)
FROM input_coverage
UNION ALL
SELECT 'members', 'disposition', 'repeated_member_row',
    COUNT(NULLIF(TRIM(member_id), '')) - COUNT(DISTINCT NULLIF(TRIM(member_id), ''))
FROM adapter_src_members
UNION ALL
SELECT 'sites', 'canonical', 'sites', COUNT(*)
FROM input_sites
ORDER BY source_key, outcome, detail
