-- check: events_before_birth
-- kind: plausibility
-- severity: warn
-- tables: diagnoses, procedures
-- description: A diagnosis or procedure is dated before the patient's birth date (or before the
--   patient's birth year when only the year is known). The row is quarantined
--   (date_before_birth). Many such rows for one patient usually mean a wrong birth date.
-- Reads the engine's verdict (date_before_birth in *_kept): every reason the engine tests first
--   (no patient, no or unreadable date, before 1900, after the as-of date) leaves "before
--   birth" undecidable or already impossible, so the verdict is exact.
WITH before_birth AS (
    SELECT DISTINCT 'diagnoses' AS table_name, src_row, patient_id, reject_value
    FROM diagnoses_kept
    WHERE reject_reason = 'date_before_birth'
    UNION ALL
    SELECT 'procedures', src_row, patient_id, reject_value
    FROM procedures_kept
    WHERE reject_reason = 'date_before_birth'
),
births AS (
    SELECT patient_id, birth_date, birth_year
    FROM patients_checked
    WHERE reject_reason IS NULL
)
SELECT
    e.table_name,
    e.src_row AS row_number,
    'event_date' AS column_name,
    e.reject_value AS value,
    'before birth ' || COALESCE(CAST(b.birth_date AS VARCHAR), CAST(b.birth_year AS VARCHAR))
        AS detail
FROM before_birth AS e
LEFT JOIN births AS b ON b.patient_id = e.patient_id
