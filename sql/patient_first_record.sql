-- patient_first_record
-- Grain: one row per patient with at least one accepted diagnosis or procedure row.
-- Implements: measure spec section 2 (coverage): for a patient with no coverage rows, history
--   starts at the patient's earliest record of any kind (any diagnosis, any procedure line,
--   counting or not).
WITH record_dates AS (
    SELECT patient_id, MIN(event_date) AS first_date
    FROM diagnoses_checked
    WHERE reject_reason IS NULL
    GROUP BY patient_id
    UNION ALL
    SELECT patient_id, MIN(event_date) AS first_date
    FROM procedures_checked
    WHERE reject_reason IS NULL
    GROUP BY patient_id
)
SELECT patient_id, MIN(first_date) AS first_record_date
FROM record_dates
GROUP BY patient_id
