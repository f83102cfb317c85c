-- diagnoses_checked
-- Grain: one row per input row of the diagnoses table (accepted or rejected). A view: it is read
--   by diagnoses_kept (and a few gate checks) and never held in memory whole.
-- Implements: measure spec section 2 (diagnoses) and 3.4 (codes normalised: dots and blanks
--   removed, upper case); quarantine rules of the core issue: empty patient_id, unknown patient,
--   missing or unparseable event_date, impossible dates (before 1900, after the as-of date,
--   before the patient's birth), missing code, unknown code system, and ICD-9-CM codes sent in
--   an ICD-10 field (privacy.md, claims-data traps).
-- Values are read with the shared patterns of docs/development.md ("Reading values"): blanks of
--   every kind trimmed from ids; a date only in the accepted shape (never a keyword such as
--   epoch; a date stored typed is used as it is). Codes and code systems were normalised once
--   per distinct value (input_codes): a row finds its own with one equality join on the values
--   as written.
-- Only what decides a row's fate is computed here, for every row; the raw columns ride along
--   untouched and diagnoses_kept derives the rest (trimmed ids, the quarantine's column and
--   value) for the few rows it keeps. An id is trimmed only when a cheap test says trimming
--   could change it: it starts or ends with a character up to the space, or holds a non-ASCII
--   character.
WITH text_diagnoses AS (
    SELECT
        src_row,
        CAST(patient_id AS VARCHAR) AS patient_id,
        event_date AS event_date_raw,
        code AS code_raw,
        CAST(code AS VARCHAR) AS code_text,
        CAST(code_system AS VARCHAR) AS code_system_text,
        source_id AS source_id_raw,
        site_id AS site_id_raw
    FROM input_diagnoses
),
parsed_diagnoses AS (
    SELECT
        src_row,
        NULLIF(
            CASE
                WHEN patient_id < '!' OR SUBSTRING(patient_id, -1) < '!' OR OCTET_LENGTH(ENCODE(patient_id)) <> LENGTH(patient_id)
                    THEN REGEXP_REPLACE(patient_id, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE patient_id
            END,
            ''
        ) AS patient_id,
        event_date_raw,
        CASE
            WHEN UPPER(TYPEOF(event_date_raw)) NOT IN ('VARCHAR', 'STRING')
                THEN TRY_CAST(event_date_raw AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(event_date_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS event_date,
        code_raw,
        code_text,
        code_system_text,
        source_id_raw,
        site_id_raw
    FROM text_diagnoses
),
known_patients AS (
    SELECT patient_id, birth_date, birth_year
    FROM patients_checked
    WHERE reject_reason IS NULL
),
diagnosis_codes AS (
    SELECT code_raw, code_system_raw, code, code_system, match_system, icd9_in_icd10
    FROM input_codes
    WHERE domain = 'diagnosis'
)
SELECT
    d.src_row,
    d.patient_id,
    d.event_date,
    d.event_date_raw,
    c.code,
    d.code_raw,
    c.code_system,
    c.match_system,
    d.source_id_raw,
    d.site_id_raw,
    CASE
        WHEN d.patient_id IS NULL THEN 'missing_patient_id'
        WHEN p.patient_id IS NULL THEN 'unknown_patient'
        WHEN d.event_date IS NULL THEN
            CASE
                WHEN d.event_date_raw IS NULL
                    OR REGEXP_MATCHES(CAST(d.event_date_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                    THEN 'missing_date'
                ELSE 'unparseable_date'
            END
        WHEN d.event_date < DATE '1900-01-01' THEN 'implausible_date'
        WHEN d.event_date > r.as_of_date THEN 'future_date'
        WHEN d.event_date < p.birth_date THEN 'date_before_birth'
        WHEN p.birth_date IS NULL AND YEAR(d.event_date) < p.birth_year THEN 'date_before_birth'
        WHEN c.code IS NULL THEN 'missing_code'
        WHEN c.match_system IS NULL THEN 'unknown_code_system'
        WHEN c.icd9_in_icd10 THEN 'icd9_code_in_icd10_field'
    END AS reject_reason
FROM parsed_diagnoses AS d
CROSS JOIN run_settings AS r
LEFT JOIN known_patients AS p ON p.patient_id = d.patient_id
LEFT JOIN diagnosis_codes AS c
    ON c.code_raw IS NOT DISTINCT FROM d.code_text
    AND c.code_system_raw IS NOT DISTINCT FROM d.code_system_text
