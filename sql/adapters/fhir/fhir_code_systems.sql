-- fhir_code_systems
-- Grain: one row per coding system URI (or OID) the audit knows.
-- Implements: issue 4, FHIR adapter: a Coding's system URI names the canonical code_system
--   (measure spec section 2; audit/data/code_systems.csv), and which coding of a CodeableConcept
--   is used: for diagnoses the lowest diagnosis_rank (ICD-10-CM first), for procedures the
--   lowest procedure_rank (CPT/HCPCS first). A URI not listed passes on as the code_system and
--   the audit quarantines it as unknown_code_system.
SELECT system_uri, code_system, diagnosis_rank, procedure_rank
FROM (
    VALUES
        ('http://hl7.org/fhir/sid/icd-10-cm', 'ICD10CM', 1, 50),
        ('urn:oid:2.16.840.1.113883.6.90', 'ICD10CM', 1, 50),
        ('http://hl7.org/fhir/sid/icd-10', 'ICD10', 2, 50),
        ('urn:oid:2.16.840.1.113883.6.3', 'ICD10', 2, 50),
        ('http://snomed.info/sct', 'SNOMED', 3, 3),
        ('urn:oid:2.16.840.1.113883.6.96', 'SNOMED', 3, 3),
        ('http://hl7.org/fhir/sid/icd-9-cm', 'ICD9CM', 4, 50),
        ('urn:oid:2.16.840.1.113883.6.103', 'ICD9CM', 4, 50),
        ('http://www.ama-assn.org/go/cpt', 'HCPCS', 50, 1),
        ('urn:oid:2.16.840.1.113883.6.12', 'HCPCS', 50, 1),
        ('https://bluebutton.cms.gov/resources/codesystem/hcpcs', 'HCPCS', 50, 1),
        ('http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', 'HCPCS', 50, 1),
        ('http://www.cms.gov/Medicare/Coding/ICD10', 'ICD10PCS', 50, 2),
        ('urn:oid:2.16.840.1.113883.6.4', 'ICD10PCS', 50, 2)
) AS s (system_uri, code_system, diagnosis_rank, procedure_rank)
