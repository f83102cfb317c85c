-- patients_checked
-- Grain: one row per input row of the patients table (accepted or rejected).
-- Implements: measure spec section 2 (patients: patient_id unique; birth_date or birth_year;
--   age from 1 July of birth_year when only the year is known) and the quarantine rules of the
--   core issue (empty patient_id, duplicate patient_id). A birth value that cannot be used is set
--   to null and reported as a value issue: the patient is kept and later falls to rule 2
--   (age_unknown) rather than vanishing with all their events.
-- Values are read with the shared patterns of docs/development.md ("Reading values"): blanks of
--   every kind trimmed; a date only in the accepted shape (never a keyword such as epoch); a
--   year only as a whole number in the run's notation (run_settings.decimal_comma). Dates and
--   numbers stored typed (Parquet) are used as they are.
WITH text_patients AS (
    SELECT
        src_row,
        CAST(patient_id AS VARCHAR) AS patient_id,
        birth_date,
        birth_year,
        CAST(sex AS VARCHAR) AS sex
    FROM input_patients
),
parsed_patients AS (
    SELECT
        p.src_row,
        NULLIF(
            CASE
                WHEN p.patient_id < '!' OR SUBSTRING(p.patient_id, -1) < '!' OR OCTET_LENGTH(ENCODE(p.patient_id)) <> LENGTH(p.patient_id)
                    THEN REGEXP_REPLACE(p.patient_id, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE p.patient_id
            END,
            ''
        ) AS patient_id,
        CASE
            WHEN p.birth_date IS NOT NULL AND NOT REGEXP_MATCHES(CAST(p.birth_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                THEN CAST(p.birth_date AS VARCHAR)
        END AS birth_date_given,
        CASE
            WHEN UPPER(TYPEOF(p.birth_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(p.birth_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(p.birth_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS birth_date_parsed,
        CASE
            WHEN p.birth_year IS NOT NULL AND NOT REGEXP_MATCHES(CAST(p.birth_year AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                THEN CAST(p.birth_year AS VARCHAR)
        END AS birth_year_given,
        CASE
            WHEN UPPER(TYPEOF(p.birth_year)) NOT IN ('VARCHAR', 'STRING') THEN
                CASE
                    WHEN TRY_CAST(p.birth_year AS DOUBLE) = FLOOR(TRY_CAST(p.birth_year AS DOUBLE))
                        THEN TRY_CAST(p.birth_year AS INTEGER)
                END
            WHEN r.decimal_comma
                THEN TRY_CAST(REPLACE(REGEXP_EXTRACT(CAST(p.birth_year AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+))(,0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '.', '') AS INTEGER)
            ELSE TRY_CAST(REPLACE(REGEXP_EXTRACT(CAST(p.birth_year AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+))(\.0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), ',', '') AS INTEGER)
        END AS birth_year_parsed,
        UPPER(
            NULLIF(
                CASE
                    WHEN p.sex < '!' OR SUBSTRING(p.sex, -1) < '!' OR OCTET_LENGTH(ENCODE(p.sex)) <> LENGTH(p.sex)
                        THEN REGEXP_REPLACE(p.sex, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                    ELSE p.sex
                END,
                ''
            )
        ) AS sex
    FROM text_patients AS p
    CROSS JOIN run_settings AS r
),
numbered_patients AS (
    SELECT
        src_row,
        patient_id,
        birth_date_given,
        birth_date_parsed,
        birth_year_given,
        birth_year_parsed,
        sex,
        ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY src_row) AS id_seq
    FROM parsed_patients
),
judged_patients AS (
    SELECT
        src_row,
        patient_id,
        sex,
        birth_date_given,
        birth_year_given,
        CASE
            WHEN birth_date_parsed IS NULL THEN NULL
            WHEN birth_date_parsed < DATE '1900-01-01' THEN NULL
            WHEN birth_date_parsed > CAST($as_of_date AS DATE) THEN NULL
            ELSE birth_date_parsed
        END AS birth_date,
        CASE
            WHEN birth_year_parsed IS NULL THEN NULL
            WHEN birth_year_parsed < 1900 THEN NULL
            WHEN birth_year_parsed > YEAR(CAST($as_of_date AS DATE)) THEN NULL
            ELSE birth_year_parsed
        END AS birth_year,
        CASE
            WHEN patient_id IS NULL THEN 'missing_patient_id'
            WHEN id_seq > 1 THEN 'duplicate_patient_id'
        END AS reject_reason,
        CASE
            WHEN birth_date_given IS NOT NULL AND birth_date_parsed IS NULL THEN 'unparseable_date'
            WHEN birth_date_parsed < DATE '1900-01-01' THEN 'implausible_date'
            WHEN birth_date_parsed > CAST($as_of_date AS DATE) THEN 'future_date'
            WHEN birth_year_given IS NOT NULL AND birth_year_parsed IS NULL THEN 'unparseable_year'
            WHEN birth_year_parsed < 1900 THEN 'implausible_year'
            WHEN birth_year_parsed > YEAR(CAST($as_of_date AS DATE)) THEN 'future_year'
        END AS value_issue
    FROM numbered_patients
)
SELECT
    src_row,
    patient_id,
    birth_date,
    birth_year,
    sex,
    reject_reason,
    CASE WHEN reject_reason IS NOT NULL THEN 'patient_id' END AS reject_column,
    CASE WHEN reject_reason IS NOT NULL THEN patient_id END AS reject_value,
    value_issue,
    CASE
        WHEN value_issue IN ('unparseable_date', 'implausible_date', 'future_date') THEN 'birth_date'
        WHEN value_issue IS NOT NULL THEN 'birth_year'
    END AS value_issue_column,
    CASE
        WHEN value_issue IN ('unparseable_date', 'implausible_date', 'future_date')
            THEN birth_date_given
        WHEN value_issue IS NOT NULL THEN birth_year_given
    END AS value_issue_value
FROM judged_patients
