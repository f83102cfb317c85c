-- input_coverage
-- Grain: one row per row of observation_period.
-- Implements: issue 4, OMOP adapter -> canonical coverage: an observation period is a span in
--   which the person's events are expected to be recorded, which is what coverage means to the
--   audit (history start, measure spec section 2). A date with a time part keeps the date.
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    NULLIF(TRIM(person_id), '') AS patient_id,
    SUBSTRING(NULLIF(TRIM(observation_period_start_date), ''), 1, 10) AS start_date,
    SUBSTRING(NULLIF(TRIM(observation_period_end_date), ''), 1, 10) AS end_date
FROM adapter_src_observation_period
ORDER BY src_row
