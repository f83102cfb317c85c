-- coverage_checked
-- Grain: one row per input row of the coverage table (accepted or rejected).
-- Implements: measure spec section 2 (coverage: enrolment or observation periods). An empty
--   end_date means the span is open (still enrolled). Quarantined: empty patient_id, unknown
--   patient, missing or unparseable start_date, unparseable end_date, end before start.
-- Values are read with the shared patterns of docs/development.md ("Reading values"): blanks of
--   every kind trimmed; a date only in the accepted shape (never a keyword such as epoch);
--   dates stored typed (Parquet) are used as they are.
WITH text_coverage AS (
    SELECT
        src_row,
        CAST(patient_id AS VARCHAR) AS patient_id,
        start_date,
        end_date
    FROM input_coverage
),
parsed_coverage AS (
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
        CASE
            WHEN start_date IS NOT NULL AND NOT REGEXP_MATCHES(CAST(start_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                THEN CAST(start_date AS VARCHAR)
        END AS start_date_given,
        CASE
            WHEN UPPER(TYPEOF(start_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(start_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(start_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS start_date,
        CASE
            WHEN end_date IS NOT NULL AND NOT REGEXP_MATCHES(CAST(end_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                THEN CAST(end_date AS VARCHAR)
        END AS end_date_given,
        CASE
            WHEN UPPER(TYPEOF(end_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(end_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(end_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS end_date
    FROM text_coverage
),
known_patients AS (
    SELECT patient_id FROM patients_checked WHERE reject_reason IS NULL
),
judged_coverage AS (
    SELECT
        c.src_row,
        c.patient_id,
        c.start_date,
        c.end_date,
        c.start_date_given,
        c.end_date_given,
        CASE
            WHEN c.patient_id IS NULL THEN 'missing_patient_id'
            WHEN k.patient_id IS NULL THEN 'unknown_patient'
            WHEN c.start_date_given IS NULL THEN 'missing_date'
            WHEN c.start_date IS NULL THEN 'unparseable_date'
            WHEN c.start_date < DATE '1900-01-01' THEN 'implausible_date'
            WHEN c.end_date_given IS NOT NULL AND c.end_date IS NULL THEN 'unparseable_date'
            WHEN c.end_date < c.start_date THEN 'end_before_start'
        END AS reject_reason,
        CASE
            WHEN c.patient_id IS NULL OR k.patient_id IS NULL THEN 'patient_id'
            WHEN c.start_date_given IS NULL OR c.start_date IS NULL OR c.start_date < DATE '1900-01-01'
                THEN 'start_date'
            ELSE 'end_date'
        END AS problem_column
    FROM parsed_coverage AS c
    LEFT JOIN known_patients AS k ON k.patient_id = c.patient_id
)
SELECT
    src_row,
    patient_id,
    start_date,
    end_date,
    reject_reason,
    CASE WHEN reject_reason IS NOT NULL THEN problem_column END AS reject_column,
    CASE
        WHEN reject_reason IS NULL THEN NULL
        WHEN problem_column = 'patient_id' THEN patient_id
        WHEN problem_column = 'start_date' THEN start_date_given
        ELSE end_date_given
    END AS reject_value
FROM judged_coverage
