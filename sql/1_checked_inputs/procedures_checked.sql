-- procedures_checked
-- Grain: one row per input row of the procedures table (accepted or rejected). A view: it is read
--   by procedures_kept (and a few gate checks) and never held in memory whole.
-- Implements: measure spec section 2 (procedures) and the quarantine rules of the core issue:
--   empty patient_id, unknown patient, missing or unparseable event_date, impossible dates,
--   missing code, missing site_id (required), unknown code system, and numbers that cannot be
--   read (units, allowed_amount, line_number).
-- Values are read with the shared patterns of docs/development.md ("Reading values"): blanks of
--   every kind trimmed from ids (site_id, a low-cardinality column, is only tested for blanks
--   here and trimmed in procedures_kept); codes and code systems normalised once per distinct
--   value (input_codes) and found by one equality join on the values as written; a date only
--   in the accepted shape (never a keyword such as epoch); a number only in the notation of the run
--   (run_settings.decimal_comma): "1,200.50" and "$1,200.50" by default, "1.200,50" with
--   decimal commas; "1.200,50" or "1,5" by default is not a number (invalid_number), never
--   1.20 or 15. line_number is a whole number. Dates and numbers stored typed (Parquet) are
--   used as they are.
-- Only what decides a row's fate is computed here, for every row; the raw columns ride along
--   untouched and procedures_kept derives the rest (status, modifiers, trimmed ids, the
--   quarantine's column and value) for the few rows it keeps. Each pattern does its costly part
--   (a regular expression) only when a cheap test says it could change the value: an id that
--   starts or ends with a character up to the space or holds a non-ASCII character, a site_id
--   that starts with one, a date or number written as text.
WITH text_procedures AS (
    SELECT
        src_row,
        CAST(patient_id AS VARCHAR) AS patient_id,
        event_date AS event_date_raw,
        code AS code_raw,
        CAST(code AS VARCHAR) AS code_text,
        CAST(code_system AS VARCHAR) AS code_system_text,
        CAST(site_id AS VARCHAR) AS site_id,
        source_id AS source_id_raw,
        line_number AS line_number_raw,
        modifiers AS modifiers_raw,
        units AS units_raw,
        allowed_amount AS allowed_amount_raw,
        status AS status_raw,
        provider_id AS provider_id_raw,
        billing_provider_id AS billing_provider_id_raw
    FROM input_procedures
),
trimmed_procedures AS (
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
        code_raw,
        code_text,
        code_system_text,
        site_id,
        source_id_raw,
        line_number_raw,
        modifiers_raw,
        units_raw,
        allowed_amount_raw,
        status_raw,
        provider_id_raw,
        billing_provider_id_raw
    FROM text_procedures
),
parsed_procedures AS (
    SELECT
        p.src_row,
        p.patient_id,
        p.event_date_raw,
        CASE
            WHEN UPPER(TYPEOF(p.event_date_raw)) NOT IN ('VARCHAR', 'STRING')
                THEN TRY_CAST(p.event_date_raw AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(p.event_date_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS event_date,
        p.code_raw,
        p.code_text,
        p.code_system_text,
        p.site_id,
        p.source_id_raw,
        p.line_number_raw,
        CASE
            WHEN UPPER(TYPEOF(p.line_number_raw)) NOT IN ('VARCHAR', 'STRING') THEN
                CASE
                    WHEN TRY_CAST(p.line_number_raw AS DOUBLE) = FLOOR(TRY_CAST(p.line_number_raw AS DOUBLE))
                        THEN TRY_CAST(p.line_number_raw AS BIGINT)
                END
            WHEN r.decimal_comma
                THEN TRY_CAST(REPLACE(REGEXP_EXTRACT(CAST(p.line_number_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+))(,0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '.', '') AS BIGINT)
            ELSE TRY_CAST(REPLACE(REGEXP_EXTRACT(CAST(p.line_number_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+))(\.0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), ',', '') AS BIGINT)
        END AS line_number,
        p.modifiers_raw,
        p.units_raw,
        CASE
            WHEN UPPER(TYPEOF(p.units_raw)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(p.units_raw AS DOUBLE)
            WHEN r.decimal_comma
                THEN TRY_CAST(REPLACE(REPLACE(REGEXP_EXTRACT(CAST(p.units_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+)(,[0-9]+)?)[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '.', ''), ',', '.') AS DOUBLE)
            ELSE TRY_CAST(REPLACE(REGEXP_EXTRACT(CAST(p.units_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?)[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), ',', '') AS DOUBLE)
        END AS units,
        p.allowed_amount_raw,
        CASE
            WHEN UPPER(TYPEOF(p.allowed_amount_raw)) NOT IN ('VARCHAR', 'STRING')
                THEN TRY_CAST(p.allowed_amount_raw AS DECIMAL(18, 2))
            WHEN r.decimal_comma
                THEN TRY_CAST(REPLACE(REPLACE(REPLACE(REPLACE(REGEXP_EXTRACT(CAST(p.allowed_amount_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*(([+-]|[+-]?\$ ?|\$ ?[+-])?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+)(,[0-9]+)?)[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '$', ''), ' ', ''), '.', ''), ',', '.') AS DECIMAL(18, 2))
            ELSE TRY_CAST(REPLACE(REPLACE(REPLACE(REGEXP_EXTRACT(CAST(p.allowed_amount_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*(([+-]|[+-]?\$ ?|\$ ?[+-])?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?)[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '$', ''), ' ', ''), ',', '') AS DECIMAL(18, 2))
        END AS allowed_amount,
        p.status_raw,
        p.provider_id_raw,
        p.billing_provider_id_raw
    FROM trimmed_procedures AS p
    CROSS JOIN run_settings AS r
),
known_patients AS (
    SELECT patient_id, birth_date, birth_year
    FROM patients_checked
    WHERE reject_reason IS NULL
),
procedure_codes AS (
    SELECT code_raw, code_system_raw, code, code_system, match_system
    FROM input_codes
    WHERE domain = 'procedure'
),
judged_procedures AS (
    SELECT
        p.src_row,
        p.patient_id,
        p.event_date,
        p.event_date_raw,
        p.code_raw,
        p.code_text,
        p.code_system_text,
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
        p.billing_provider_id_raw,
        CASE
            WHEN p.line_number IS NULL AND p.line_number_raw IS NOT NULL
                AND NOT REGEXP_MATCHES(CAST(p.line_number_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                THEN 'line_number'
            WHEN p.units IS NULL AND p.units_raw IS NOT NULL
                AND NOT REGEXP_MATCHES(CAST(p.units_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                THEN 'units'
            WHEN p.allowed_amount IS NULL AND p.allowed_amount_raw IS NOT NULL
                AND NOT REGEXP_MATCHES(CAST(p.allowed_amount_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                THEN 'allowed_amount'
        END AS number_problem
    FROM parsed_procedures AS p
)
SELECT
    p.src_row,
    p.patient_id,
    p.event_date,
    p.event_date_raw,
    c.code,
    p.code_raw,
    c.code_system,
    c.match_system,
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
    p.billing_provider_id_raw,
    p.number_problem,
    CASE
        WHEN p.patient_id IS NULL THEN 'missing_patient_id'
        WHEN k.patient_id IS NULL THEN 'unknown_patient'
        WHEN p.event_date IS NULL THEN
            CASE
                WHEN p.event_date_raw IS NULL
                    OR REGEXP_MATCHES(CAST(p.event_date_raw AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                    THEN 'missing_date'
                ELSE 'unparseable_date'
            END
        WHEN p.event_date < DATE '1900-01-01' THEN 'implausible_date'
        WHEN p.event_date > r.as_of_date THEN 'future_date'
        WHEN p.event_date < k.birth_date THEN 'date_before_birth'
        WHEN k.birth_date IS NULL AND YEAR(p.event_date) < k.birth_year THEN 'date_before_birth'
        WHEN c.code IS NULL THEN 'missing_code'
        WHEN p.site_id IS NULL
            OR ((p.site_id < '!' OR p.site_id >= CHR(128)) AND REGEXP_MATCHES(p.site_id, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$'))
            THEN 'missing_site_id'
        WHEN c.match_system IS NULL THEN 'unknown_code_system'
        WHEN p.number_problem IS NOT NULL THEN 'invalid_number'
    END AS reject_reason
FROM judged_procedures AS p
CROSS JOIN run_settings AS r
LEFT JOIN known_patients AS k ON k.patient_id = p.patient_id
LEFT JOIN procedure_codes AS c
    ON c.code_raw IS NOT DISTINCT FROM p.code_text
    AND c.code_system_raw IS NOT DISTINCT FROM p.code_system_text
