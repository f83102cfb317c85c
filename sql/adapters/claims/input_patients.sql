-- input_patients
-- Grain: one row per member (the member's first row in the member file); rows without a
--   member id each pass on, so the audit quarantines them by name.
-- Implements: issue 4, claims adapter -> canonical patients: birth date (YYYYMMDD accepted) or
--   birth year as given; sex M/F/U, also from male/female and the CMS codes 1 = M, 2 = F,
--   0 = U. Later rows of a member (one per eligibility span) are accounted as
--   repeated_member_row.
WITH member_rows AS (
    SELECT
        src_row,
        NULLIF(TRIM(member_id), '') AS member_id,
        NULLIF(TRIM(birth_date), '') AS birth_date,
        NULLIF(TRIM(birth_year), '') AS birth_year,
        UPPER(NULLIF(TRIM(sex), '')) AS sex
    FROM adapter_src_members
),
numbered_members AS (
    SELECT
        src_row,
        member_id,
        birth_date,
        birth_year,
        sex,
        ROW_NUMBER() OVER (PARTITION BY member_id ORDER BY src_row) AS member_seq
    FROM member_rows
)
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    member_id AS patient_id,
    CASE
        WHEN REGEXP_MATCHES(birth_date, '^[0-9]{8}$')
            THEN SUBSTRING(birth_date, 1, 4) || '-' || SUBSTRING(birth_date, 5, 2) || '-'
                || SUBSTRING(birth_date, 7, 2)
        WHEN REGEXP_MATCHES(birth_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]')
            THEN SUBSTRING(birth_date, 1, 10)
        ELSE birth_date
    END AS birth_date,
    birth_year,
    CASE
        WHEN sex IN ('MALE', '1') THEN 'M'
        WHEN sex IN ('FEMALE', '2') THEN 'F'
        WHEN sex IN ('UNKNOWN', '0') THEN 'U'
        ELSE sex
    END AS sex
FROM numbered_members
WHERE member_id IS NULL OR member_seq = 1
ORDER BY src_row
