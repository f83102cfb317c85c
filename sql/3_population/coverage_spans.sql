-- coverage_spans
-- Grain: one row per continuous coverage span per patient.
-- Implements: measure spec section 2 (coverage): spans that overlap or abut (next start on the
--   day after the previous end) merge into one continuous span. An open end is 9999-12-31.
WITH coverage_rows AS (
    SELECT
        patient_id,
        start_date,
        COALESCE(end_date, DATE '9999-12-31') AS end_date
    FROM coverage_checked
    WHERE reject_reason IS NULL
),
coverage_with_previous_end AS (
    SELECT
        patient_id,
        start_date,
        end_date,
        MAX(end_date) OVER (
            PARTITION BY patient_id
            ORDER BY start_date, end_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS previous_max_end
    FROM coverage_rows
),
coverage_span_starts AS (
    SELECT
        patient_id,
        start_date,
        end_date,
        CASE
            WHEN previous_max_end IS NULL THEN 1
            WHEN DATE_DIFF('day', previous_max_end, start_date) > 1 THEN 1
            ELSE 0
        END AS starts_span
    FROM coverage_with_previous_end
),
coverage_numbered AS (
    SELECT
        patient_id,
        start_date,
        end_date,
        SUM(starts_span) OVER (
            PARTITION BY patient_id
            ORDER BY start_date, end_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS span_number
    FROM coverage_span_starts
)
SELECT
    patient_id,
    span_number,
    MIN(start_date) AS span_start,
    MAX(end_date) AS span_end
FROM coverage_numbered
GROUP BY patient_id, span_number
