-- check: patients_without_coverage
-- kind: completeness
-- severity: warn
-- tables: patients
-- description: A patient with an index procedure (a counting line of a procedure family) has no
--   usable coverage row, although the extract has a coverage table with rows. Their history
--   then starts at their earliest record of any kind (measure spec 2, coverage), which may be
--   too late or too early; check that coverage covers every patient.
WITH index_patients AS (
    SELECT DISTINCT patient_id
    FROM procedures_kept
    WHERE reject_reason IS NULL AND counts AND role = 'family'
),
covered_patients AS (
    SELECT DISTINCT patient_id
    FROM coverage_checked
    WHERE reject_reason IS NULL
),
coverage_given AS (
    SELECT COUNT(*) AS coverage_rows FROM input_coverage
)
SELECT
    'patients' AS table_name,
    p.src_row AS row_number,
    'patient_id' AS column_name,
    p.patient_id AS value,
    'index procedure but no coverage row' AS detail
FROM patients_checked AS p
JOIN index_patients AS i ON i.patient_id = p.patient_id
CROSS JOIN coverage_given AS g
LEFT JOIN covered_patients AS c ON c.patient_id = p.patient_id
WHERE p.reject_reason IS NULL AND c.patient_id IS NULL AND g.coverage_rows > 0
