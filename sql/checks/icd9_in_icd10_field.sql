-- check: icd9_in_icd10_field
-- kind: conformance
-- severity: warn
-- tables: diagnoses
-- description: A diagnosis marked ICD-10-CM (or ICD-10, or with no code system) has a code that
--   does not start with a letter: an ICD-9-CM code such as 722.10 in an ICD-10 field. The row
--   is quarantined (icd9_code_in_icd10_field; privacy.md, claims-data traps). Send such rows
--   with code_system ICD9CM (accepted, never matched) or map them to ICD-10-CM first.
-- Reads the quarantined rows (diagnoses_kept): a row rejected first for another reason is
--   reported under that reason.
SELECT
    'diagnoses' AS table_name,
    src_row AS row_number,
    'code' AS column_name,
    reject_value AS value,
    'code_system ' || code_system || ' but not an ICD-10 code' AS detail
FROM diagnoses_kept
WHERE reject_reason = 'icd9_code_in_icd10_field'
