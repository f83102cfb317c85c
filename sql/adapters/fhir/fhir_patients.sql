-- fhir_patients
-- Grain: one row per non-blank line read as Patient (from every file of the export).
-- Implements: issue 4, FHIR adapter -> canonical patients: patient_id = Patient.id; birthDate
--   YYYY-MM-DD -> birth_date, a partial birthDate (YYYY or YYYY-MM) -> birth_year; gender male
--   M, female F, other / unknown U. Lines not counted (disposition): invalid_json,
--   wrong_resource_type, duplicate_resource (the same id again: the latest meta.lastUpdated,
--   then the first line, wins).
WITH parsed_patients AS (
    SELECT
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        NULLIF(TRIM(r.id), '') AS resource_id,
        r.meta.lastUpdated AS last_updated,
        NULLIF(TRIM(r.birthDate), '') AS birth_text,
        LOWER(TRIM(r.gender)) AS gender
    FROM adapter_src_patient
),
judged_patients AS (
    SELECT
        *,
        CASE
            WHEN NOT valid_json THEN 'invalid_json'
            WHEN COALESCE(resource_type, '') <> 'Patient' THEN 'wrong_resource_type'
        END AS parse_problem
    FROM parsed_patients
),
numbered_patients AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY CASE WHEN parse_problem IS NULL THEN resource_id END
            ORDER BY last_updated DESC NULLS LAST, src_file, src_row
        ) AS id_seq
    FROM judged_patients
)
SELECT
    src_file,
    src_row,
    resource_id AS patient_id,
    CASE WHEN LENGTH(birth_text) >= 10 THEN SUBSTRING(birth_text, 1, 10) END AS birth_date,
    CASE WHEN LENGTH(birth_text) < 10 THEN SUBSTRING(birth_text, 1, 4) END AS birth_year,
    CASE
        WHEN gender = 'male' THEN 'M'
        WHEN gender = 'female' THEN 'F'
        WHEN gender IN ('other', 'unknown') THEN 'U'
    END AS sex,
    COALESCE(
        parse_problem,
        CASE WHEN resource_id IS NOT NULL AND id_seq > 1 THEN 'duplicate_resource' END
    ) AS disposition
FROM numbered_patients
ORDER BY src_file, src_row
