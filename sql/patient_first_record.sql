-- patient_first_record
-- Grain: one row per patient with at least one accepted diagnosis or procedure row.
-- Implements: measure spec section 2 (coverage): for a patient with no coverage rows, history
--   starts at the patient's earliest record of any kind (any diagnosis, any procedure line,
--   counting or not).
WITH record_dates AS (
    SELECT patient_id, first_accepted_date
    FROM diagnoses_summary
    WHERE summary_level = 'patient' AND first_accepted_date IS NOT NULL
    UNION ALL
    SELECT patient_id, first_accepted_date
    FROM procedures_summary
    WHERE summary_level = 'patient' AND first_accepted_date IS NOT NULL
)
SELECT patient_id, MIN(first_accepted_date) AS first_record_date
FROM record_dates
GROUP BY patient_id
