-- procedures_checked
-- Grain: one row per input row of the procedures table (accepted or rejected). A view: it is read
--   twice (procedures_kept, procedures_summary) and never held in memory whole.
-- Implements: measure spec section 2 (procedures), 3.1 (status: which lines count) and the
--   quarantine rules of the core issue: empty patient_id, unknown patient, missing or
--   unparseable event_date, impossible dates, missing code, missing site_id (required), unknown
--   code system, and numbers that cannot be read (units, allowed_amount, line_number).
--   Amounts may carry a currency sign or thousands separators ("$1,200.50"). Status is compared
--   in lower case with blanks and hyphens read as underscores ("Entered in error"). Modifiers
--   are separated by commas, semicolons or blanks ("50,RT", "50; Q0", "50 Q0").
WITH parsed_procedures AS (
    SELECT
        src_row,
        NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') AS patient_id,
        event_date AS event_date_raw,
        TRY_CAST(event_date AS DATE) AS event_date,
        code AS code_raw,
        NULLIF(UPPER(REPLACE(REPLACE(CAST(code AS VARCHAR), '.', ''), ' ', '')), '') AS code,
        COALESCE(
            NULLIF(UPPER(REPLACE(REPLACE(CAST(code_system AS VARCHAR), '-', ''), ' ', '')), ''),
            'HCPCS'
        ) AS code_system,
        NULLIF(TRIM(CAST(site_id AS VARCHAR)), '') AS site_id,
        NULLIF(TRIM(CAST(source_id AS VARCHAR)), '') AS source_id,
        line_number AS line_number_raw,
        TRY_CAST(TRY_CAST(line_number AS DOUBLE) AS BIGINT) AS line_number,
        NULLIF(UPPER(REPLACE(REPLACE(TRIM(CAST(modifiers AS VARCHAR)), ' ', ','), ';', ',')), '')
            AS modifiers,
        units AS units_raw,
        TRY_CAST(units AS DOUBLE) AS units,
        allowed_amount AS allowed_amount_raw,
        COALESCE(
            TRY_CAST(allowed_amount AS DECIMAL(18, 2)),
            TRY_CAST(
                REPLACE(REPLACE(CAST(allowed_amount AS VARCHAR), '$', ''), ',', '')
                AS DECIMAL(18, 2)
            )
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
        p.src_row,
        p.patient_id,
        p.event_date,
        p.event_date_raw,
        p.code,
        p.code_raw,
        p.code_system,
        s.match_system,
        p.site_id,
        p.source_id,
        p.line_number,
        p.line_number_raw,
        p.modifiers,
        p.units,
        p.units_raw,
        p.allowed_amount,
        p.allowed_amount_raw,
        p.status,
        p.provider_id,
        CASE
            WHEN p.patient_id IS NULL THEN 'missing_patient_id'
            WHEN k.patient_id IS NULL THEN 'unknown_patient'
            WHEN p.event_date IS NULL THEN
                CASE
                    WHEN NULLIF(TRIM(CAST(p.event_date_raw AS VARCHAR)), '') IS NULL
                        THEN 'missing_date'
                    ELSE 'unparseable_date'
                END
            WHEN p.event_date < DATE '1900-01-01' THEN 'implausible_date'
            WHEN p.event_date > r.as_of_date THEN 'future_date'
            WHEN p.event_date < k.birth_date THEN 'date_before_birth'
            WHEN k.birth_date IS NULL AND YEAR(p.event_date) < k.birth_year THEN 'date_before_birth'
            WHEN p.code IS NULL THEN 'missing_code'
            WHEN p.site_id IS NULL THEN 'missing_site_id'
            WHEN s.match_system IS NULL THEN 'unknown_code_system'
            WHEN p.line_number IS NULL AND p.line_number_raw IS NOT NULL
                AND NULLIF(TRIM(CAST(p.line_number_raw AS VARCHAR)), '') IS NOT NULL
                THEN 'invalid_number'
            WHEN p.units IS NULL AND p.units_raw IS NOT NULL
                AND NULLIF(TRIM(CAST(p.units_raw AS VARCHAR)), '') IS NOT NULL
                THEN 'invalid_number'
            WHEN p.allowed_amount IS NULL AND p.allowed_amount_raw IS NOT NULL
                AND NULLIF(TRIM(CAST(p.allowed_amount_raw AS VARCHAR)), '') IS NOT NULL
                THEN 'invalid_number'
        END AS reject_reason
    FROM parsed_procedures AS p
    CROSS JOIN run_settings AS r
    LEFT JOIN known_patients AS k ON k.patient_id = p.patient_id
    LEFT JOIN input_code_systems AS s
        ON s.code_system = p.code_system AND s.domain = 'procedure'
)
SELECT
    j.src_row,
    j.patient_id,
    j.event_date,
    j.code,
    j.code_system,
    j.match_system,
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
        WHEN j.reject_reason <> 'invalid_number' THEN NULL
        WHEN j.line_number IS NULL AND j.line_number_raw IS NOT NULL THEN 'line_number'
        WHEN j.units IS NULL AND j.units_raw IS NOT NULL THEN 'units'
        ELSE 'allowed_amount'
    END AS reject_column,
    CASE
        WHEN j.reject_reason IN ('missing_patient_id', 'unknown_patient') THEN j.patient_id
        WHEN j.reject_reason IN (
            'missing_date', 'unparseable_date', 'implausible_date', 'future_date', 'date_before_birth'
        ) THEN CAST(j.event_date_raw AS VARCHAR)
        WHEN j.reject_reason = 'missing_code' THEN CAST(j.code_raw AS VARCHAR)
        WHEN j.reject_reason = 'unknown_code_system' THEN j.code_system
        WHEN j.reject_reason <> 'invalid_number' THEN NULL
        WHEN j.line_number IS NULL AND j.line_number_raw IS NOT NULL
            THEN CAST(j.line_number_raw AS VARCHAR)
        WHEN j.units IS NULL AND j.units_raw IS NOT NULL THEN CAST(j.units_raw AS VARCHAR)
        ELSE CAST(j.allowed_amount_raw AS VARCHAR)
    END AS reject_value
FROM judged_procedures AS j
