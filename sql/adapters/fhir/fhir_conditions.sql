-- fhir_conditions
-- Grain: one row per non-blank line read as Condition (from every file of the export).
-- Implements: issue 4, FHIR adapter -> canonical diagnoses: code = the Condition.code coding of
--   the best-ranked system (ICD-10-CM, ICD-10, SNOMED CT, ICD-9-CM; fhir_code_systems), its
--   system named by URI; event_date = the date of the Condition's Encounter, else recordedDate,
--   else onsetDateTime; source_id = the Encounter id; site_id = the Encounter's serviceProvider.
--   Not counted (disposition): invalid_json, wrong_resource_type, duplicate_resource
--   (fhir_resource_lines), then a verificationStatus of entered-in-error
--   (condition_entered_in_error) or refuted (condition_refuted): such a condition was never
--   the patient's.
WITH parsed_conditions AS (
    SELECT
        src_file,
        src_row,
        REGEXP_EXTRACT(
            REGEXP_REPLACE(r.subject.reference, '/_history/.*$', ''), '([^/:]+)$', 1
        ) AS patient_ref,
        NULLIF(TRIM(r.subject.identifier.value), '') AS patient_identifier,
        REGEXP_EXTRACT(
            REGEXP_REPLACE(r.encounter.reference, '/_history/.*$', ''), '([^/:]+)$', 1
        ) AS encounter_id,
        SUBSTRING(NULLIF(TRIM(r.recordedDate), ''), 1, 10) AS recorded_date,
        SUBSTRING(NULLIF(TRIM(r.onsetDateTime), ''), 1, 10) AS onset_date,
        LOWER(r.verificationStatus.coding[1].code) AS verification,
        r.code.coding AS codings
    FROM adapter_src_condition
),
condition_codings AS (
    SELECT c.src_file, c.src_row, UNNEST(c.codings) AS coding
    FROM parsed_conditions AS c
    JOIN fhir_resource_lines AS l
        ON l.key = 'condition' AND l.src_file = c.src_file AND l.src_row = c.src_row
    WHERE l.parse_problem IS NULL
),
picked_codings AS (
    SELECT
        c.src_file,
        c.src_row,
        TRIM(c.coding.code) AS code,
        COALESCE(s.code_system, c.coding.system) AS code_system,
        ROW_NUMBER() OVER (
            PARTITION BY c.src_file, c.src_row
            ORDER BY COALESCE(s.diagnosis_rank, 99), c.coding.system, c.coding.code
        ) AS pick
    FROM condition_codings AS c
    LEFT JOIN fhir_code_systems AS s ON s.system_uri = c.coding.system
    WHERE NULLIF(TRIM(c.coding.code), '') IS NOT NULL
)
SELECT
    c.src_file,
    c.src_row,
    COALESCE(NULLIF(c.patient_ref, ''), c.patient_identifier) AS patient_id,
    COALESCE(e.encounter_date, c.recorded_date, c.onset_date) AS event_date,
    p.code,
    p.code_system,
    NULLIF(c.encounter_id, '') AS source_id,
    e.site_id,
    COALESCE(
        l.disposition,
        CASE
            WHEN c.verification = 'entered-in-error' THEN 'condition_entered_in_error'
            WHEN c.verification = 'refuted' THEN 'condition_refuted'
        END
    ) AS disposition
FROM parsed_conditions AS c
JOIN fhir_resource_lines AS l
    ON l.key = 'condition' AND l.src_file = c.src_file AND l.src_row = c.src_row
LEFT JOIN picked_codings AS p
    ON p.src_file = c.src_file AND p.src_row = c.src_row AND p.pick = 1
LEFT JOIN fhir_encounters AS e ON e.encounter_id = c.encounter_id AND e.disposition IS NULL
ORDER BY c.src_file, c.src_row
