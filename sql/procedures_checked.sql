-- procedures_checked
-- Grain: one row per input row of the procedures table (accepted or rejected).
-- Implements: measure spec section 2 (procedures), 3.1 (status: which lines count) and the
--   quarantine rules of the core issue: empty patient_id, unknown patient, missing or
--   unparseable event_date, impossible dates, missing code, missing site_id (required), unknown
--   code system, and numbers that cannot be read (units, allowed_amount, line_number).
--   Amounts may carry a currency sign or thousands separators ("$1,200.50"). Status is compared
--   in lower case with blanks and hyphens read as underscores ("Entered in error").
WITH parsed_procedures AS (
    SELECT
        src_row,
        NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') AS patient_id,
        NULLIF(TRIM(CAST(event_date AS VARCHAR)), '') AS event_date_text,
        TRY_CAST(TRIM(CAST(event_date AS VARCHAR)) AS DATE) AS event_date,
        NULLIF(TRIM(CAST(code AS VARCHAR)), '') AS code_text,
        NULLIF(UPPER(REPLACE(REPLACE(TRIM(CAST(code AS VARCHAR)), '.', ''), ' ', '')), '') AS code,
        COALESCE(
            NULLIF(UPPER(REPLACE(REPLACE(TRIM(CAST(code_system AS VARCHAR)), '-', ''), ' ', '')), ''),
            'HCPCS'
        ) AS code_system,
        NULLIF(TRIM(CAST(site_id AS VARCHAR)), '') AS site_id,
        NULLIF(TRIM(CAST(source_id AS VARCHAR)), '') AS source_id,
        NULLIF(TRIM(CAST(line_number AS VARCHAR)), '') AS line_number_text,
        TRY_CAST(TRY_CAST(TRIM(CAST(line_number AS VARCHAR)) AS DOUBLE) AS BIGINT) AS line_number,
        NULLIF(UPPER(REPLACE(REPLACE(TRIM(CAST(modifiers AS VARCHAR)), ' ', ''), ';', ',')), '')
            AS modifiers,
        NULLIF(TRIM(CAST(units AS VARCHAR)), '') AS units_text,
        TRY_CAST(TRIM(CAST(units AS VARCHAR)) AS DOUBLE) AS units,
        NULLIF(TRIM(CAST(allowed_amount AS VARCHAR)), '') AS allowed_amount_text,
        TRY_CAST(
            REPLACE(REPLACE(TRIM(CAST(allowed_amount AS VARCHAR)), '$', ''), ',', '') AS DECIMAL(18, 2)
        ) AS allowed_amount,
        NULLIF(REPLACE(REPLACE(LOWER(TRIM(CAST(status AS VARCHAR))), ' ', '_'), '-', '_'), '')
            AS status,
        NULLIF(TRIM(CAST(provider_id AS VARCHAR)), '') AS provider_id
    FROM input_procedures
),
known_patients AS (
    SELECT patient_id, birth_date, birth_year
    FROM patients_checked
    WHERE reject_reason IS NULL
),
judged_procedures AS (
    SELECT
        p.*,
        CASE
            WHEN p.patient_id IS NULL THEN 'missing_patient_id'
            WHEN k.patient_id IS NULL THEN 'unknown_patient'
            WHEN p.event_date_text IS NULL THEN 'missing_date'
            WHEN p.event_date IS NULL THEN 'unparseable_date'
            WHEN p.event_date < DATE '1900-01-01' THEN 'implausible_date'
            WHEN p.event_date > CAST($as_of_date AS DATE) THEN 'future_date'
            WHEN p.event_date < k.birth_date THEN 'date_before_birth'
            WHEN k.birth_date IS NULL AND YEAR(p.event_date) < k.birth_year THEN 'date_before_birth'
            WHEN p.code IS NULL THEN 'missing_code'
            WHEN p.site_id IS NULL THEN 'missing_site_id'
            WHEN p.code_system NOT IN (SELECT code_system FROM input_code_systems WHERE domain = 'procedure')
                THEN 'unknown_code_system'
            WHEN p.line_number_text IS NOT NULL AND p.line_number IS NULL THEN 'invalid_number'
            WHEN p.units_text IS NOT NULL AND p.units IS NULL THEN 'invalid_number'
            WHEN p.allowed_amount_text IS NOT NULL AND p.allowed_amount IS NULL THEN 'invalid_number'
        END AS reject_reason
    FROM parsed_procedures AS p
    LEFT JOIN known_patients AS k ON k.patient_id = p.patient_id
)
SELECT
    j.src_row,
    j.patient_id,
    j.event_date,
    j.code,
    j.code_system,
    s.match_system,
    j.site_id,
    j.source_id,
    j.line_number,
    j.modifiers,
    j.units,
    j.allowed_amount,
    j.status,
    j.provider_id,
    (j.status IS NULL OR j.status NOT IN (SELECT status FROM non_counting_statuses)) AS counts,
    j.reject_reason,
    CASE
        WHEN j.reject_reason IN ('missing_patient_id', 'unknown_patient') THEN 'patient_id'
        WHEN j.reject_reason IN (
            'missing_date', 'unparseable_date', 'implausible_date', 'future_date', 'date_before_birth'
        ) THEN 'event_date'
        WHEN j.reject_reason = 'missing_code' THEN 'code'
        WHEN j.reject_reason = 'missing_site_id' THEN 'site_id'
        WHEN j.reject_reason = 'unknown_code_system' THEN 'code_system'
        WHEN j.line_number_text IS NOT NULL AND j.line_number IS NULL THEN 'line_number'
        WHEN j.units_text IS NOT NULL AND j.units IS NULL THEN 'units'
        WHEN j.reject_reason = 'invalid_number' THEN 'allowed_amount'
    END AS reject_column,
    CASE
        WHEN j.reject_reason IN ('missing_patient_id', 'unknown_patient') THEN j.patient_id
        WHEN j.reject_reason IN (
            'missing_date', 'unparseable_date', 'implausible_date', 'future_date', 'date_before_birth'
        ) THEN j.event_date_text
        WHEN j.reject_reason = 'missing_code' THEN j.code_text
        WHEN j.reject_reason = 'unknown_code_system' THEN j.code_system
        WHEN j.line_number_text IS NOT NULL AND j.line_number IS NULL THEN j.line_number_text
        WHEN j.units_text IS NOT NULL AND j.units IS NULL THEN j.units_text
        WHEN j.reject_reason = 'invalid_number' THEN j.allowed_amount_text
    END AS reject_value
FROM judged_procedures AS j
LEFT JOIN input_code_systems AS s
    ON s.code_system = j.code_system AND s.domain = 'procedure'
