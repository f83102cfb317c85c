-- fhir_patients
-- Grain: one row per non-blank line read as Patient (from every file of the export).
-- Implements: issue 4, FHIR adapter -> canonical patients: patient_id = Patient.id; birthDate
--   YYYY-MM-DD -> birth_date, a partial birthDate (YYYY or YYYY-MM) -> birth_year; gender male
--   M, female F, other / unknown U. Lines not counted (disposition, fhir_resource_lines):
--   invalid_json, wrong_resource_type, duplicate_resource.
WITH parsed_patients AS (
    SELECT
        src_file,
        src_row,
        NULLIF(TRIM(r.birthDate), '') AS birth_text,
        LOWER(TRIM(r.gender)) AS gender
    FROM adapter_src_patient
)
SELECT
    p.src_file,
    p.src_row,
    l.resource_id AS patient_id,
    CASE WHEN LENGTH(p.birth_text) >= 10 THEN SUBSTRING(p.birth_text, 1, 10) END AS birth_date,
    CASE WHEN LENGTH(p.birth_text) < 10 THEN SUBSTRING(p.birth_text, 1, 4) END AS birth_year,
    CASE
        WHEN p.gender = 'male' THEN 'M'
        WHEN p.gender = 'female' THEN 'F'
        WHEN p.gender IN ('other', 'unknown') THEN 'U'
    END AS sex,
    l.disposition
FROM parsed_patients AS p
JOIN fhir_resource_lines AS l
    ON l.key = 'patient' AND l.src_file = p.src_file AND l.src_row = p.src_row
ORDER BY p.src_file, p.src_row
