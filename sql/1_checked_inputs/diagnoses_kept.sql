-- diagnoses_kept
-- Grain: one row per rejected diagnosis row, and one row per accepted diagnosis row x diagnosis
--   value set it belongs to. Every other accepted row is only counted (diagnoses_summary).
-- Implements: the "filter early and narrow" rule: one scan of the diagnoses keeps just what the
--   rules read (measure spec 3.4, 4: AXIAL, RADICULAR, chronic pain, trial, exclusions; equality
--   join on normalised codes) and what the quarantine needs. The ids are trimmed (blanks of
--   every kind, docs/development.md "Reading values") and the quarantine's column and value
--   derived here, after the filter, for the kept rows only.
WITH kept_diagnoses AS (
    SELECT
        d.src_row,
        d.patient_id,
        d.event_date,
        d.event_date_raw,
        d.code,
        d.code_raw,
        d.code_system,
        CAST(d.source_id_raw AS VARCHAR) AS source_id_text,
        CAST(d.site_id_raw AS VARCHAR) AS site_id_text,
        d.reject_reason,
        v.value_set,
        v.role,
        v.region,
        v.valid_from,
        v.valid_to
    FROM diagnoses_checked AS d
    LEFT JOIN value_set_codes AS v
        ON d.reject_reason IS NULL
        AND v.code_system = d.match_system
        AND v.code = d.code
        AND v.domain = 'diagnosis'
    WHERE d.reject_reason IS NOT NULL OR v.value_set IS NOT NULL
)
SELECT
    src_row,
    patient_id,
    event_date,
    code,
    code_system,
    NULLIF(
        CASE
            WHEN source_id_text < '!' OR SUBSTRING(source_id_text, -1) < '!' OR OCTET_LENGTH(ENCODE(source_id_text)) <> LENGTH(source_id_text)
                THEN REGEXP_REPLACE(source_id_text, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
            ELSE source_id_text
        END,
        ''
    ) AS source_id,
    NULLIF(
        CASE
            WHEN site_id_text < '!' OR SUBSTRING(site_id_text, -1) < '!' OR OCTET_LENGTH(ENCODE(site_id_text)) <> LENGTH(site_id_text)
                THEN REGEXP_REPLACE(site_id_text, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
            ELSE site_id_text
        END,
        ''
    ) AS site_id,
    reject_reason,
    CASE
        WHEN reject_reason IN ('missing_patient_id', 'unknown_patient') THEN 'patient_id'
        WHEN reject_reason IN (
            'missing_date', 'unparseable_date', 'implausible_date', 'future_date', 'date_before_birth'
        ) THEN 'event_date'
        WHEN reject_reason IN ('missing_code', 'icd9_code_in_icd10_field') THEN 'code'
        WHEN reject_reason = 'unknown_code_system' THEN 'code_system'
    END AS reject_column,
    CASE
        WHEN reject_reason IN ('missing_patient_id', 'unknown_patient') THEN patient_id
        WHEN reject_reason IN (
            'missing_date', 'unparseable_date', 'implausible_date', 'future_date', 'date_before_birth'
        ) THEN CAST(event_date_raw AS VARCHAR)
        WHEN reject_reason IN ('missing_code', 'icd9_code_in_icd10_field')
            THEN CAST(code_raw AS VARCHAR)
        WHEN reject_reason = 'unknown_code_system' THEN code_system
    END AS reject_value,
    value_set,
    role,
    region,
    valid_from,
    valid_to
FROM kept_diagnoses
