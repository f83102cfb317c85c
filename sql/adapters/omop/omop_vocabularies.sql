-- omop_vocabularies
-- Grain: one row per OMOP vocabulary_id the audit has a code system for.
-- Implements: issue 4, OMOP adapter: a concept's vocabulary_id names the canonical code_system
--   (measure spec section 2; audit/data/code_systems.csv). CPT4 and HCPCS are both HCPCS. Other
--   vocabularies pass on in upper case and the audit quarantines them as unknown_code_system.
SELECT vocabulary_id, code_system
FROM (
    VALUES
        ('ICD10CM', 'ICD10CM'),
        ('ICD10', 'ICD10'),
        ('ICD9CM', 'ICD9CM'),
        ('SNOMED', 'SNOMED'),
        ('CPT4', 'HCPCS'),
        ('HCPCS', 'HCPCS'),
        ('ICD10PCS', 'ICD10PCS'),
        ('OPCS4', 'OPCS4')
) AS v (vocabulary_id, code_system)
