-- check: unknown_code_systems
-- kind: conformance
-- severity: error
-- threshold: 0.5
-- tables: diagnoses, procedures
-- description: A code_system value the tool does not know (audit/data/code_systems.csv; a blank
--   is the default, ICD10CM or HCPCS). The row is quarantined (unknown_code_system). An error
--   only when more than half of a table's rows have one: map the source's code-system names
--   (e.g. "I10", "CPT4") to the canonical ones.
-- Reads the quarantined rows (*_kept): a row rejected first for another reason is reported
--   under that reason.
SELECT
    'diagnoses' AS table_name,
    src_row AS row_number,
    'code_system' AS column_name,
    code_system AS value,
    'unknown diagnosis code system' AS detail
FROM diagnoses_kept
WHERE reject_reason = 'unknown_code_system'
UNION ALL
SELECT 'procedures', src_row, 'code_system', code_system, 'unknown procedure code system'
FROM procedures_kept
WHERE reject_reason = 'unknown_code_system'
