-- fhir_source_accounting
-- Grain: one row per source file x outcome x detail: canonical rows made from the file, lines
--   (EOB: items) consumed without a canonical row by reason, and for ExplanationOfBenefit the
--   number of units (items, and lines holding none).
-- Implements: issue 4 "nothing lost": lines = canonical rows + dispositions for Patient,
--   Condition, Procedure, Coverage and Organization; EOB items = canonical procedure rows +
--   dispositions. Encounter is a lookup.
SELECT 'patient' AS source_key, 'canonical' AS outcome, 'patients' AS detail, COUNT(*) AS unit_count
FROM input_patients
UNION ALL
SELECT 'patient', 'disposition', disposition, COUNT(*)
FROM fhir_patients WHERE disposition IS NOT NULL GROUP BY disposition
UNION ALL
SELECT 'condition', 'canonical', 'diagnoses', COUNT(*)
FROM fhir_conditions WHERE disposition IS NULL
UNION ALL
SELECT 'condition', 'disposition', disposition, COUNT(*)
FROM fhir_conditions WHERE disposition IS NOT NULL GROUP BY disposition
UNION ALL
SELECT 'procedure', 'canonical', 'procedures', COUNT(*)
FROM fhir_procedures WHERE disposition IS NULL
UNION ALL
SELECT 'procedure', 'disposition', disposition, COUNT(*)
FROM fhir_procedures WHERE disposition IS NOT NULL GROUP BY disposition
UNION ALL
SELECT 'eob', 'units', 'item', COUNT(*)
FROM fhir_eob_items
UNION ALL
SELECT 'eob', 'canonical', 'procedures', COUNT(*)
FROM fhir_eob_items WHERE disposition IS NULL
UNION ALL
SELECT 'eob', 'canonical', 'diagnoses', COUNT(*)
FROM fhir_eob_diagnoses
UNION ALL
SELECT 'eob', 'disposition', disposition, COUNT(*)
FROM fhir_eob_items WHERE disposition IS NOT NULL GROUP BY disposition
UNION ALL
SELECT 'coverage', 'canonical', 'coverage', COUNT(*)
FROM input_coverage
UNION ALL
SELECT 'coverage', 'disposition', disposition, COUNT(*)
FROM fhir_coverages WHERE disposition IS NOT NULL GROUP BY disposition
UNION ALL
SELECT 'organization', 'canonical', 'sites', COUNT(*)
FROM input_sites
UNION ALL
SELECT 'organization', 'disposition', disposition, COUNT(*)
FROM fhir_organizations WHERE disposition IS NOT NULL GROUP BY disposition
ORDER BY source_key, outcome, detail
