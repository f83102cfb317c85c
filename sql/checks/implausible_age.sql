-- check: implausible_age
-- kind: plausibility
-- severity: warn
-- tables: patients
-- description: A patient's birth date or year (from 1900 on) makes them older than 115 years on
--   the as-of date: almost surely a placeholder (1901-01-01) or a typing error (1905 for 1995)
--   rather than a real birth. The patient is kept with that birth (only a warning): an adult
--   age classifies every session the same (measure 3.5 rule 1 asks only for the minimum age),
--   while making the birth unknown would move every session out of population (age_unknown);
--   and an old extract audited years later holds people who were alive when it was taken.
--   Births before 1900 are not used at all (dates_before_1900).
-- Reads the engine's births (patients_checked) with its age rule (anchor_population: whole
--   years, from 1 July when only the year is known).
WITH births AS (
    SELECT
        p.src_row,
        CASE WHEN p.birth_date IS NOT NULL THEN 'birth_date' ELSE 'birth_year' END AS column_name,
        COALESCE(CAST(p.birth_date AS VARCHAR), CAST(p.birth_year AS VARCHAR)) AS value,
        COALESCE(p.birth_date, MAKE_DATE(p.birth_year, 7, 1)) AS birth_date,
        r.as_of_date
    FROM patients_checked AS p
    CROSS JOIN run_settings AS r
    WHERE p.reject_reason IS NULL AND (p.birth_date IS NOT NULL OR p.birth_year IS NOT NULL)
),
aged AS (
    SELECT
        src_row,
        column_name,
        value,
        as_of_date,
        YEAR(as_of_date) - YEAR(birth_date)
            - CASE
                WHEN MONTH(as_of_date) < MONTH(birth_date) THEN 1
                WHEN MONTH(as_of_date) = MONTH(birth_date) AND DAY(as_of_date) < DAY(birth_date)
                    THEN 1
                ELSE 0
            END AS age
    FROM births
)
SELECT
    'patients' AS table_name,
    src_row AS row_number,
    column_name,
    value,
    'age ' || CAST(age AS VARCHAR) || ' on the as-of date ' || CAST(as_of_date AS VARCHAR) AS detail
FROM aged
WHERE age > 115
