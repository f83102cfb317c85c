-- check: index_procedures_outside_coverage
-- kind: plausibility
-- severity: warn
-- tables: procedures
-- description: An index procedure line (counting, of a procedure family) is dated outside every
--   coverage row of a patient who has coverage rows. A paid claim outside enrolment is unusual;
--   the session's history then starts on the session date itself, so it falls out of population
--   as insufficient_history (measure spec 2 and 3.5 rule 7).
WITH index_procedures AS (
    SELECT src_row, patient_id, event_date, code
    FROM procedures_kept
    WHERE reject_reason IS NULL AND counts AND role = 'family'
),
coverage_rows AS (
    SELECT patient_id, start_date, COALESCE(end_date, DATE '9999-12-31') AS end_date
    FROM coverage_checked
    WHERE reject_reason IS NULL
),
covered_procedures AS (
    SELECT DISTINCT i.src_row
    FROM index_procedures AS i
    JOIN coverage_rows AS c
        ON c.patient_id = i.patient_id
        AND i.event_date >= c.start_date
        AND i.event_date <= c.end_date
),
patients_with_coverage AS (
    SELECT DISTINCT patient_id FROM coverage_rows
)
SELECT
    'procedures' AS table_name,
    i.src_row AS row_number,
    'event_date' AS column_name,
    CAST(i.event_date AS VARCHAR) AS value,
    'index procedure ' || i.code || ' outside the patient''s coverage' AS detail
FROM index_procedures AS i
JOIN patients_with_coverage AS w ON w.patient_id = i.patient_id
LEFT JOIN covered_procedures AS c ON c.src_row = i.src_row
WHERE c.src_row IS NULL
