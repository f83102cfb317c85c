-- procedures_kept
-- Grain: one row per rejected procedure line, and one row per accepted line whose code is in a
--   procedure value set of the pack (an index family, or the unlisted code the data-quality
--   check reads). Every other line is only counted (procedures_summary).
-- Implements: the "filter early and narrow" rule: about 3% of claim lines are index procedures
--   (measure spec 3.2), and only they, with the rejected rows for the quarantine, travel on.
--   Measure spec 3.1 (status: which lines count): status is compared in lower case with blanks
--   (of every kind, docs/development.md "Reading values") and hyphens read as underscores
--   ("Entered in error"); blanks at either end are trimmed, so "denied<TAB>" is denied.
--   Modifiers are separated by commas, semicolons or blanks ("50,RT", "50; Q0", "50 Q0"). These,
--   the trimmed ids (site_id, source_id, provider_id, billing_provider_id) and the quarantine's
--   column and value are derived here, after the filter, for the kept rows only.
WITH kept_procedures AS (
    SELECT
        p.src_row,
        p.patient_id,
        p.event_date,
        p.event_date_raw,
        p.code,
        p.code_raw,
        p.code_system,
        p.site_id AS site_id_text,
        CAST(p.source_id_raw AS VARCHAR) AS source_id_text,
        p.line_number,
        p.line_number_raw,
        CAST(p.modifiers_raw AS VARCHAR) AS modifiers_text,
        p.units,
        p.units_raw,
        p.allowed_amount,
        p.allowed_amount_raw,
        CAST(p.status_raw AS VARCHAR) AS status_text,
        CAST(p.provider_id_raw AS VARCHAR) AS provider_id_text,
        CAST(p.billing_provider_id_raw AS VARCHAR) AS billing_provider_id_text,
        p.number_problem,
        p.reject_reason,
        v.value_set,
        v.role,
        v.region,
        v.valid_from,
        v.valid_to
    FROM procedures_checked AS p
    LEFT JOIN value_set_codes AS v
        ON p.reject_reason IS NULL
        AND v.code_system = p.match_system
        AND v.code = p.code
        AND v.domain = 'procedure'
    WHERE p.reject_reason IS NOT NULL OR v.value_set IS NOT NULL
),
normalised_procedures AS (
    SELECT
        src_row,
        patient_id,
        event_date,
        event_date_raw,
        code,
        code_raw,
        code_system,
        NULLIF(
            CASE
                WHEN site_id_text < '!' OR SUBSTRING(site_id_text, -1) < '!' OR OCTET_LENGTH(ENCODE(site_id_text)) <> LENGTH(site_id_text)
                    THEN REGEXP_REPLACE(site_id_text, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE site_id_text
            END,
            ''
        ) AS site_id,
        NULLIF(
            CASE
                WHEN source_id_text < '!' OR SUBSTRING(source_id_text, -1) < '!' OR OCTET_LENGTH(ENCODE(source_id_text)) <> LENGTH(source_id_text)
                    THEN REGEXP_REPLACE(source_id_text, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE source_id_text
            END,
            ''
        ) AS source_id,
        line_number,
        line_number_raw,
        NULLIF(
            UPPER(
                REPLACE(
                    REGEXP_REPLACE(
                        CASE
                            WHEN modifiers_text < '!' OR SUBSTRING(modifiers_text, -1) < '!' OR OCTET_LENGTH(ENCODE(modifiers_text)) <> LENGTH(modifiers_text)
                                THEN REGEXP_REPLACE(modifiers_text, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                            ELSE modifiers_text
                        END,
                        '[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]',
                        ',',
                        'g'
                    ),
                    ';',
                    ','
                )
            ),
            ''
        ) AS modifiers,
        units,
        units_raw,
        allowed_amount,
        allowed_amount_raw,
        NULLIF(
            REPLACE(
                REGEXP_REPLACE(
                    LOWER(
                        CASE
                            WHEN status_text < '!' OR SUBSTRING(status_text, -1) < '!' OR OCTET_LENGTH(ENCODE(status_text)) <> LENGTH(status_text)
                                THEN REGEXP_REPLACE(status_text, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                            ELSE status_text
                        END
                    ),
                    '[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]',
                    '_',
                    'g'
                ),
                '-',
                '_'
            ),
            ''
        ) AS status,
        NULLIF(
            CASE
                WHEN provider_id_text < '!' OR SUBSTRING(provider_id_text, -1) < '!' OR OCTET_LENGTH(ENCODE(provider_id_text)) <> LENGTH(provider_id_text)
                    THEN REGEXP_REPLACE(provider_id_text, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE provider_id_text
            END,
            ''
        ) AS provider_id,
        NULLIF(
            CASE
                WHEN billing_provider_id_text < '!' OR SUBSTRING(billing_provider_id_text, -1) < '!' OR OCTET_LENGTH(ENCODE(billing_provider_id_text)) <> LENGTH(billing_provider_id_text)
                    THEN REGEXP_REPLACE(billing_provider_id_text, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE billing_provider_id_text
            END,
            ''
        ) AS billing_provider_id,
        number_problem,
        reject_reason,
        value_set,
        role,
        region,
        valid_from,
        valid_to
    FROM kept_procedures
)
SELECT
    src_row,
    patient_id,
    event_date,
    code,
    code_system,
    site_id,
    source_id,
    line_number,
    modifiers,
    allowed_amount,
    status,
    provider_id,
    billing_provider_id,
    (status IS NULL OR status NOT IN (SELECT status FROM non_counting_statuses)) AS counts,
    reject_reason,
    CASE
        WHEN reject_reason IN ('missing_patient_id', 'unknown_patient') THEN 'patient_id'
        WHEN reject_reason IN (
            'missing_date', 'unparseable_date', 'implausible_date', 'future_date', 'date_before_birth'
        ) THEN 'event_date'
        WHEN reject_reason = 'missing_code' THEN 'code'
        WHEN reject_reason = 'missing_site_id' THEN 'site_id'
        WHEN reject_reason = 'unknown_code_system' THEN 'code_system'
        WHEN reject_reason = 'invalid_number' THEN number_problem
    END AS reject_column,
    CASE
        WHEN reject_reason IN ('missing_patient_id', 'unknown_patient') THEN patient_id
        WHEN reject_reason IN (
            'missing_date', 'unparseable_date', 'implausible_date', 'future_date', 'date_before_birth'
        ) THEN CAST(event_date_raw AS VARCHAR)
        WHEN reject_reason = 'missing_code' THEN CAST(code_raw AS VARCHAR)
        WHEN reject_reason = 'unknown_code_system' THEN code_system
        WHEN reject_reason <> 'invalid_number' THEN NULL
        WHEN number_problem = 'line_number' THEN CAST(line_number_raw AS VARCHAR)
        WHEN number_problem = 'units' THEN CAST(units_raw AS VARCHAR)
        ELSE CAST(allowed_amount_raw AS VARCHAR)
    END AS reject_value,
    value_set,
    role,
    region,
    valid_from,
    valid_to
FROM normalised_procedures
