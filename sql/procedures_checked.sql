-- procedures_checked
-- Grain: one row per input row of the procedures table (accepted or rejected). A view: it is read
--   by procedures_kept (and a few gate checks) and never held in memory whole.
-- Implements: measure spec section 2 (procedures) and the quarantine rules of the core issue:
--   empty patient_id, unknown patient, missing or unparseable event_date, impossible dates,
--   missing code, missing site_id (required), unknown code system, and numbers that cannot be
--   read (units, allowed_amount, line_number). Amounts may carry a currency sign or thousands
--   separators ("$1,200.50").
-- Only what decides a row's fate is computed here, for every row; the raw columns ride along
--   untouched and procedures_kept derives the rest (status, modifiers, trimmed ids, the
--   quarantine's column and value) for the few rows it keeps. patient_id is trimmed only when it
--   starts or ends with a blank or holds a non-ASCII character (TRIM also removes the Unicode
--   spaces, such as U+00A0): the same value as TRIM, without copying every id.
WITH parsed_procedures AS (
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
            'HCPCS'
        ) AS code_system,
        NULLIF(TRIM(CAST(site_id AS VARCHAR)), '') AS site_id,
        source_id AS source_id_raw,
        line_number AS line_number_raw,
        TRY_CAST(TRY_CAST(line_number AS DOUBLE) AS BIGINT) AS line_number,
        modifiers AS modifiers_raw,
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
        status AS status_raw,
        provider_id AS provider_id_raw
    FROM input_procedures
),
known_patients AS (
    SELECT patient_id, birth_date, birth_year
    FROM patients_checked
    WHERE reject_reason IS NULL
)
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
    p.source_id_raw,
    p.line_number,
    p.line_number_raw,
    p.modifiers_raw,
    p.units,
    p.units_raw,
    p.allowed_amount,
    p.allowed_amount_raw,
    p.status_raw,
    p.provider_id_raw,
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
