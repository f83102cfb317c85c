-- input_coverage
-- Grain: one row per Coverage in use (fhir_coverages without a disposition).
-- Implements: issue 4, FHIR adapter -> canonical coverage (measure spec section 2).
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    patient_id,
    start_date,
    end_date
FROM fhir_coverages
WHERE disposition IS NULL
ORDER BY src_file, src_row
