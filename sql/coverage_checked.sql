-- coverage_checked
-- Grain: one row per input row of the coverage table (accepted or rejected).
-- Implements: measure spec section 2 (coverage: enrolment or observation periods). An empty
--   end_date means the span is open (still enrolled). Quarantined: empty patient_id, unknown
--   patient, missing or unparseable start_date, unparseable end_date, end before start.
WITH parsed_coverage AS (
    SELECT
        src_row,
        NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') AS patient_id,
        NULLIF(TRIM(CAST(start_date AS VARCHAR)), '') AS start_date_text,
        TRY_CAST(TRIM(CAST(start_date AS VARCHAR)) AS DATE) AS start_date,
        NULLIF(TRIM(CAST(end_date AS VARCHAR)), '') AS end_date_text,
        TRY_CAST(TRIM(CAST(end_date AS VARCHAR)) AS DATE) AS end_date
    FROM input_coverage
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
        c.start_date_text,
        c.end_date_text,
        CASE
            WHEN c.patient_id IS NULL THEN 'missing_patient_id'
            WHEN k.patient_id IS NULL THEN 'unknown_patient'
            WHEN c.start_date_text IS NULL THEN 'missing_date'
            WHEN c.start_date IS NULL THEN 'unparseable_date'
            WHEN c.start_date < DATE '1900-01-01' THEN 'implausible_date'
            WHEN c.end_date_text IS NOT NULL AND c.end_date IS NULL THEN 'unparseable_date'
            WHEN c.end_date < c.start_date THEN 'end_before_start'
        END AS reject_reason,
        CASE
            WHEN c.patient_id IS NULL OR k.patient_id IS NULL THEN 'patient_id'
            WHEN c.start_date_text IS NULL OR c.start_date IS NULL OR c.start_date < DATE '1900-01-01'
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
        WHEN problem_column = 'start_date' THEN start_date_text
        ELSE end_date_text
    END AS reject_value
FROM judged_coverage
