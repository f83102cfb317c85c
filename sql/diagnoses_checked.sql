-- diagnoses_checked
-- Grain: one row per input row of the diagnoses table (accepted or rejected).
-- Implements: measure spec section 2 (diagnoses) and 3.4 (codes normalised: dot and blanks
--   removed, upper case); quarantine rules of the core issue: empty patient_id, unknown patient,
--   missing or unparseable event_date, impossible dates (before 1900, after the as-of date,
--   before the patient's birth), missing code, unknown code system, and ICD-9-CM codes sent in
--   an ICD-10 field (privacy.md, claims-data traps).
WITH parsed_diagnoses AS (
    SELECT
        src_row,
        NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') AS patient_id,
        NULLIF(TRIM(CAST(event_date AS VARCHAR)), '') AS event_date_text,
        TRY_CAST(TRIM(CAST(event_date AS VARCHAR)) AS DATE) AS event_date,
        NULLIF(TRIM(CAST(code AS VARCHAR)), '') AS code_text,
        NULLIF(UPPER(REPLACE(REPLACE(TRIM(CAST(code AS VARCHAR)), '.', ''), ' ', '')), '') AS code,
        COALESCE(
            NULLIF(UPPER(REPLACE(REPLACE(TRIM(CAST(code_system AS VARCHAR)), '-', ''), ' ', '')), ''),
            'ICD10CM'
        ) AS code_system,
        NULLIF(TRIM(CAST(source_id AS VARCHAR)), '') AS source_id,
        NULLIF(TRIM(CAST(site_id AS VARCHAR)), '') AS site_id
    FROM input_diagnoses
),
known_patients AS (
    SELECT patient_id, birth_date, birth_year
    FROM patients_checked
    WHERE reject_reason IS NULL
),
judged_diagnoses AS (
    SELECT
        d.src_row,
        d.patient_id,
        d.event_date,
        d.event_date_text,
        d.code,
        d.code_text,
        d.code_system,
        d.source_id,
        d.site_id,
        CASE
            WHEN d.patient_id IS NULL THEN 'missing_patient_id'
            WHEN p.patient_id IS NULL THEN 'unknown_patient'
            WHEN d.event_date_text IS NULL THEN 'missing_date'
            WHEN d.event_date IS NULL THEN 'unparseable_date'
            WHEN d.event_date < DATE '1900-01-01' THEN 'implausible_date'
            WHEN d.event_date > CAST($as_of_date AS DATE) THEN 'future_date'
            WHEN d.event_date < p.birth_date THEN 'date_before_birth'
            WHEN p.birth_date IS NULL AND YEAR(d.event_date) < p.birth_year THEN 'date_before_birth'
            WHEN d.code IS NULL THEN 'missing_code'
            WHEN d.code_system NOT IN (SELECT code_system FROM input_code_systems WHERE domain = 'diagnosis')
                THEN 'unknown_code_system'
            WHEN d.code_system IN ('ICD10CM', 'ICD10') AND NOT REGEXP_MATCHES(d.code, '^[A-Z]')
                THEN 'icd9_code_in_icd10_field'
        END AS reject_reason
    FROM parsed_diagnoses AS d
    LEFT JOIN known_patients AS p ON p.patient_id = d.patient_id
)
SELECT
    j.src_row,
    j.patient_id,
    j.event_date,
    j.code,
    j.code_system,
    s.match_system,
    j.source_id,
    j.site_id,
    j.reject_reason,
    CASE
        WHEN j.reject_reason IN ('missing_patient_id', 'unknown_patient') THEN 'patient_id'
        WHEN j.reject_reason IN (
            'missing_date', 'unparseable_date', 'implausible_date', 'future_date', 'date_before_birth'
        ) THEN 'event_date'
        WHEN j.reject_reason IN ('missing_code', 'icd9_code_in_icd10_field') THEN 'code'
        WHEN j.reject_reason = 'unknown_code_system' THEN 'code_system'
    END AS reject_column,
    CASE
        WHEN j.reject_reason IN ('missing_patient_id', 'unknown_patient') THEN j.patient_id
        WHEN j.reject_reason IN (
            'missing_date', 'unparseable_date', 'implausible_date', 'future_date', 'date_before_birth'
        ) THEN j.event_date_text
        WHEN j.reject_reason IN ('missing_code', 'icd9_code_in_icd10_field') THEN j.code_text
        WHEN j.reject_reason = 'unknown_code_system' THEN j.code_system
    END AS reject_value
FROM judged_diagnoses AS j
LEFT JOIN input_code_systems AS s
    ON s.code_system = j.code_system AND s.domain = 'diagnosis'
