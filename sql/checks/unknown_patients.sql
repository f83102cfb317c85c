-- check: unknown_patients
-- kind: conformance
-- severity: error
-- threshold: 0.5
-- tables: diagnoses, procedures, coverage
-- description: A diagnosis, procedure or coverage row names a patient_id that is not in
--   patients (or only on a quarantined patients row). The row is quarantined (unknown_patient).
--   An error only when more than half of a table's rows do: the files then do not join (ids
--   that lost leading zeros, or patients from another extract).
-- Reads the engine's verdict (unknown_patient): only an empty patient_id is tested before it.
SELECT DISTINCT
    'diagnoses' AS table_name,
    src_row AS row_number,
    'patient_id' AS column_name,
    patient_id AS value,
    'not in patients' AS detail
FROM diagnoses_kept
WHERE reject_reason = 'unknown_patient'
UNION ALL
SELECT 'procedures', src_row, 'patient_id', patient_id, 'not in patients'
FROM procedures_kept
WHERE reject_reason = 'unknown_patient'
UNION ALL
SELECT 'coverage', src_row, 'patient_id', patient_id, 'not in patients'
FROM coverage_checked
WHERE reject_reason = 'unknown_patient'
