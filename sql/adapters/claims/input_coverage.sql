-- input_coverage
-- Grain: one row per member-file row that carries an eligibility start or end date.
-- Implements: issue 4, claims adapter -> canonical coverage: each eligibility span is a coverage
--   row (an empty end means still enrolled); dates written YYYYMMDD become YYYY-MM-DD. Spans that
--   abut or overlap are merged by the audit (measure spec section 2), not here.
WITH member_spans AS (
    SELECT
        src_row,
        NULLIF(TRIM(member_id), '') AS member_id,
        NULLIF(TRIM(eligibility_start), '') AS start_text,
        NULLIF(TRIM(eligibility_end), '') AS end_text
    FROM adapter_src_members
)
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    member_id AS patient_id,
    CASE
        WHEN REGEXP_MATCHES(start_text, '^[0-9]{8}$')
            THEN SUBSTRING(start_text, 1, 4) || '-' || SUBSTRING(start_text, 5, 2) || '-'
                || SUBSTRING(start_text, 7, 2)
        ELSE start_text
    END AS start_date,
    CASE
        WHEN REGEXP_MATCHES(end_text, '^[0-9]{8}$')
            THEN SUBSTRING(end_text, 1, 4) || '-' || SUBSTRING(end_text, 5, 2) || '-'
                || SUBSTRING(end_text, 7, 2)
        ELSE end_text
    END AS end_date
FROM member_spans
WHERE start_text IS NOT NULL OR end_text IS NOT NULL
ORDER BY src_row
