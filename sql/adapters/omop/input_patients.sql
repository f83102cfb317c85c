-- input_patients
-- Grain: one row per row of person.
-- Implements: issue 4, OMOP adapter -> canonical patients: birth_date from birth_datetime, else
--   from year, month and day of birth when all three are there; birth_year = year_of_birth
--   (the audit counts age from 1 July when only the year is known); sex from
--   gender_concept_id (8507 M, 8532 F), else from gender_source_value, else U when either is
--   given. Year, month and day are whole numbers (docs/development.md "Reading values"):
--   "5.5" is no month, never rounded to 6.
WITH persons AS (
    SELECT
        src_row,
        NULLIF(TRIM(person_id), '') AS person_id,
        NULLIF(TRIM(year_of_birth), '') AS year_text,
        CASE
            WHEN r.decimal_comma
                THEN TRY_CAST(REPLACE(REGEXP_EXTRACT(year_of_birth, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+))(,0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '.', '') AS INTEGER)
            ELSE TRY_CAST(REPLACE(REGEXP_EXTRACT(year_of_birth, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+))(\.0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), ',', '') AS INTEGER)
        END AS birth_y,
        CASE
            WHEN r.decimal_comma
                THEN TRY_CAST(REPLACE(REGEXP_EXTRACT(month_of_birth, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+))(,0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '.', '') AS INTEGER)
            ELSE TRY_CAST(REPLACE(REGEXP_EXTRACT(month_of_birth, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+))(\.0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), ',', '') AS INTEGER)
        END AS birth_m,
        CASE
            WHEN r.decimal_comma
                THEN TRY_CAST(REPLACE(REGEXP_EXTRACT(day_of_birth, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+))(,0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '.', '') AS INTEGER)
            ELSE TRY_CAST(REPLACE(REGEXP_EXTRACT(day_of_birth, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+))(\.0+)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), ',', '') AS INTEGER)
        END AS birth_d,
        NULLIF(TRIM(birth_datetime), '') AS birth_datetime,
        NULLIF(TRIM(gender_concept_id), '') AS gender_concept_id,
        UPPER(NULLIF(TRIM(gender_source_value), '')) AS gender_source_value
    FROM adapter_src_person
    CROSS JOIN run_settings AS r
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
