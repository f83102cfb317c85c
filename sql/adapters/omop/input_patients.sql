-- input_patients
-- Grain: one row per row of person.
-- Implements: issue 4, OMOP adapter -> canonical patients: birth_date from birth_datetime, else
--   from year, month and day of birth when all three are there; birth_year = year_of_birth
--   (the audit counts age from 1 July when only the year is known); sex from
--   gender_concept_id (8507 M, 8532 F), else from gender_source_value, else U when either is
--   given.
WITH persons AS (
    SELECT
        src_row,
        NULLIF(TRIM(person_id), '') AS person_id,
        NULLIF(TRIM(year_of_birth), '') AS year_text,
        TRY_CAST(TRY_CAST(NULLIF(TRIM(year_of_birth), '') AS DOUBLE) AS INTEGER) AS birth_y,
        TRY_CAST(TRY_CAST(NULLIF(TRIM(month_of_birth), '') AS DOUBLE) AS INTEGER) AS birth_m,
        TRY_CAST(TRY_CAST(NULLIF(TRIM(day_of_birth), '') AS DOUBLE) AS INTEGER) AS birth_d,
        NULLIF(TRIM(birth_datetime), '') AS birth_datetime,
        NULLIF(TRIM(gender_concept_id), '') AS gender_concept_id,
        UPPER(NULLIF(TRIM(gender_source_value), '')) AS gender_source_value
    FROM adapter_src_person
)
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    person_id AS patient_id,
    CASE
        WHEN birth_datetime IS NOT NULL THEN SUBSTRING(birth_datetime, 1, 10)
        WHEN birth_y IS NOT NULL AND birth_m IS NOT NULL AND birth_d IS NOT NULL
            THEN CAST(birth_y AS VARCHAR) || '-' || LPAD(CAST(birth_m AS VARCHAR), 2, '0') || '-'
                || LPAD(CAST(birth_d AS VARCHAR), 2, '0')
    END AS birth_date,
    year_text AS birth_year,
    CASE
        WHEN gender_concept_id = '8507' THEN 'M'
        WHEN gender_concept_id = '8532' THEN 'F'
        WHEN gender_source_value IN ('M', 'MALE') THEN 'M'
        WHEN gender_source_value IN ('F', 'FEMALE') THEN 'F'
        WHEN gender_concept_id IS NOT NULL OR gender_source_value IS NOT NULL THEN 'U'
    END AS sex
FROM persons
ORDER BY src_row
