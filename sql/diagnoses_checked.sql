-- diagnoses_checked
-- Grain: one row per input row of the diagnoses table (accepted or rejected). A view: it is read
--   by diagnoses_kept (and a few gate checks) and never held in memory whole.
-- Implements: measure spec section 2 (diagnoses) and 3.4 (codes normalised: dot and blanks
--   removed, upper case); quarantine rules of the core issue: empty patient_id, unknown patient,
--   missing or unparseable event_date, impossible dates (before 1900, after the as-of date,
--   before the patient's birth), missing code, unknown code system, and ICD-9-CM codes sent in
--   an ICD-10 field (privacy.md, claims-data traps).
-- Only what decides a row's fate is computed here, for every row; the raw columns ride along
--   untouched and diagnoses_kept derives the rest (trimmed ids, the quarantine's column and
--   value) for the few rows it keeps. Ids are trimmed only when they start or end with a blank
--   or hold a non-ASCII character (TRIM also removes the Unicode spaces, such as U+00A0): the
--   same value as TRIM, without copying every id of a 100M-row extract.
WITH parsed_diagnoses AS (
    SELECT
        src_row,
        NULLIF(
            CASE
                WHEN CAST(patient_id AS VARCHAR) LIKE ' %'
                    OR CAST(patient_id AS VARCHAR) LIKE '% '
                    OR OCTET_LENGTH(ENCODE(CAST(patient_id AS VARCHAR)))
                        <> LENGTH(CAST(patient_id AS VARCHAR))
                    THEN TRIM(CAST(patient_id AS VARCHAR))
                ELSE CAST(patient_id AS VARCHAR)
            END,
            ''
        ) AS patient_id,
        event_date AS event_date_raw,
        TRY_CAST(event_date AS DATE) AS event_date,
        code AS code_raw,
        NULLIF(UPPER(REPLACE(REPLACE(CAST(code AS VARCHAR), '.', ''), ' ', '')), '') AS code,
        COALESCE(
            NULLIF(UPPER(REPLACE(REPLACE(CAST(code_system AS VARCHAR), '-', ''), ' ', '')), ''),
            'ICD10CM'
        ) AS code_system,
        source_id AS source_id_raw,
        site_id AS site_id_raw
    FROM input_diagnoses
),
known_patients AS (
    SELECT patient_id, birth_date, birth_year
    FROM patients_checked
    WHERE reject_reason IS NULL
)
SELECT
    d.src_row,
    d.patient_id,
    d.event_date,
    d.event_date_raw,
    d.code,
    d.code_raw,
    d.code_system,
    s.match_system,
    d.source_id_raw,
    d.site_id_raw,
    CASE
        WHEN d.patient_id IS NULL THEN 'missing_patient_id'
        WHEN p.patient_id IS NULL THEN 'unknown_patient'
        WHEN d.event_date IS NULL THEN
            CASE
                WHEN NULLIF(TRIM(CAST(d.event_date_raw AS VARCHAR)), '') IS NULL
                    THEN 'missing_date'
                ELSE 'unparseable_date'
            END
        WHEN d.event_date < DATE '1900-01-01' THEN 'implausible_date'
        WHEN d.event_date > r.as_of_date THEN 'future_date'
        WHEN d.event_date < p.birth_date THEN 'date_before_birth'
        WHEN p.birth_date IS NULL AND YEAR(d.event_date) < p.birth_year THEN 'date_before_birth'
        WHEN d.code IS NULL THEN 'missing_code'
        WHEN s.match_system IS NULL THEN 'unknown_code_system'
        WHEN s.match_system = 'ICD10CM' AND NOT REGEXP_MATCHES(d.code, '^[A-Z]')
            THEN 'icd9_code_in_icd10_field'
    END AS reject_reason
FROM parsed_diagnoses AS d
CROSS JOIN run_settings AS r
LEFT JOIN known_patients AS p ON p.patient_id = d.patient_id
LEFT JOIN input_code_systems AS s
    ON s.code_system = d.code_system AND s.domain = 'diagnosis'
