-- omop_source_accounting
-- Grain: one row per source table x outcome x detail.
-- Implements: issue 4 "nothing lost": OMOP rows are resolved facts, so each row of person,
--   observation_period, condition_occurrence, procedure_occurrence and care_site becomes one
--   canonical row (the audit then quarantines what it cannot use); visit_occurrence, concept
--   and cost are lookups.
SELECT 'person' AS source_key, 'canonical' AS outcome, 'patients' AS detail, COUNT(*) AS unit_count
FROM input_patients
UNION ALL
SELECT 'observation_period', 'canonical', 'coverage', COUNT(*)
FROM input_coverage
UNION ALL
SELECT 'condition_occurrence', 'canonical', 'diagnoses', COUNT(*)
FROM input_diagnoses
UNION ALL
SELECT 'procedure_occurrence', 'canonical', 'procedures', COUNT(*)
FROM input_procedures
UNION ALL
SELECT 'care_site', 'canonical', 'sites', COUNT(*)
FROM input_sites
ORDER BY source_key, outcome, detail
