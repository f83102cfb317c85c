-- patients_checked
-- Grain: one row per input row of the patients table (accepted or rejected).
-- Implements: measure spec section 2 (patients: patient_id unique; birth_date or birth_year;
--   age from 1 July of birth_year when only the year is known) and the quarantine rules of the
--   core issue (empty patient_id, duplicate patient_id). A birth value that cannot be used is set
--   to null and reported as a value issue: the patient is kept and later falls to rule 2
--   (age_unknown) rather than vanishing with all their events.
WITH parsed_patients AS (
    SELECT
        src_row,
        NULLIF(TRIM(CAST(patient_id AS VARCHAR)), '') AS patient_id,
        NULLIF(TRIM(CAST(birth_date AS VARCHAR)), '') AS birth_date_text,
        TRY_CAST(TRIM(CAST(birth_date AS VARCHAR)) AS DATE) AS birth_date_parsed,
        NULLIF(TRIM(CAST(birth_year AS VARCHAR)), '') AS birth_year_text,
        TRY_CAST(TRY_CAST(TRIM(CAST(birth_year AS VARCHAR)) AS DOUBLE) AS INTEGER) AS birth_year_parsed,
        UPPER(NULLIF(TRIM(CAST(sex AS VARCHAR)), '')) AS sex
    FROM input_patients
),
numbered_patients AS (
    SELECT
        src_row,
        patient_id,
        birth_date_text,
        birth_date_parsed,
        birth_year_text,
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
        birth_date_text,
        birth_year_text,
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
            WHEN birth_date_text IS NOT NULL AND birth_date_parsed IS NULL THEN 'unparseable_date'
            WHEN birth_date_parsed < DATE '1900-01-01' THEN 'implausible_date'
            WHEN birth_date_parsed > CAST($as_of_date AS DATE) THEN 'future_date'
            WHEN birth_year_text IS NOT NULL AND birth_year_parsed IS NULL THEN 'unparseable_year'
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
            THEN birth_date_text
        WHEN value_issue IS NOT NULL THEN birth_year_text
    END AS value_issue_value
FROM judged_patients
