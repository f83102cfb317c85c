-- export_cohort
-- Grain: one row per cohort and patient (the OMOP CDM cohort table).
-- Implements: docs/export.md "The OMOP cohort": a patient is in a cohort when at least one of
--   their sessions in the run has one of the cohort's outcomes (cohort_outcomes, from
--   audit/data/export_cohorts.csv); cohort_start_date and cohort_end_date are the first and
--   last such session date, put in the export's date mode ($date_mode, as in export_sessions).
--   subject_id: with $cohort_ids = 'source' the source person_id (an OMOP run; checked a whole
--   number by the caller), else the patient's number in export_cohort_subjects.
WITH qualifying_sessions AS (
    SELECT o.cohort_definition_id, s.patient_id, s.session_date
    FROM run_sessions AS s
    INNER JOIN cohort_outcomes AS o ON o.outcome = s.outcome
),
cohort_spans AS (
    SELECT
        cohort_definition_id,
        patient_id,
        MIN(session_date) AS first_date,
        MAX(session_date) AS last_date
    FROM qualifying_sessions
    GROUP BY cohort_definition_id, patient_id
),
keyed_spans AS (
    SELECT
        c.cohort_definition_id,
        CASE
            WHEN $cohort_ids = 'source' THEN TRY_CAST(c.patient_id AS BIGINT)
            ELSE n.subject_id
        END AS subject_id,
        k.shift_days,
        c.first_date,
        c.last_date
    FROM cohort_spans AS c
    INNER JOIN patient_keys AS k ON k.patient_id = c.patient_id
    LEFT JOIN export_cohort_subjects AS n ON n.patient_pseudonym = k.patient_pseudonym
)
SELECT
    CAST(cohort_definition_id AS INTEGER) AS cohort_definition_id,
    CAST(subject_id AS BIGINT) AS subject_id,
    CAST(
        CASE $date_mode
            WHEN 'exact' THEN first_date
            WHEN 'month' THEN CAST(DATE_TRUNC('month', first_date) AS DATE)
            ELSE CAST(first_date + shift_days AS DATE)
        END AS DATE
    ) AS cohort_start_date,
    CAST(
        CASE $date_mode
            WHEN 'exact' THEN last_date
            WHEN 'month' THEN CAST(DATE_TRUNC('month', last_date) AS DATE)
            ELSE CAST(last_date + shift_days AS DATE)
        END AS DATE
    ) AS cohort_end_date
FROM keyed_spans
ORDER BY cohort_definition_id, subject_id
