-- check: patients_without_birth
-- kind: completeness
-- severity: warn
-- tables: patients
-- description: A patient has neither a usable birth_date nor a usable birth_year (empty,
--   unreadable, before 1900 or after the as-of date). The patient is kept, and every session of
--   theirs falls out of population as age_unknown (measure 3.5 rule 2).
SELECT
    'patients' AS table_name,
    src_row AS row_number,
    COALESCE(value_issue_column, 'birth_date') AS column_name,
    value_issue_value AS value,
    COALESCE(value_issue, 'no birth_date or birth_year') AS detail
FROM patients_checked
WHERE reject_reason IS NULL AND birth_date IS NULL AND birth_year IS NULL
