-- fhir_coverages
-- Grain: one row per non-blank line read as Coverage (from every file of the export).
-- Implements: issue 4, FHIR adapter -> canonical coverage: patient = beneficiary, start_date /
--   end_date = period.start / period.end (an open end means still covered). Not counted
--   (disposition): invalid_json, wrong_resource_type, duplicate_resource (fhir_resource_lines),
--   then status entered-in-error (coverage_entered_in_error) or draft (coverage_draft).
WITH parsed_coverages AS (
    SELECT
        src_file,
        src_row,
        LOWER(TRIM(r.status)) AS status,
        COALESCE(
            NULLIF(
                REGEXP_EXTRACT(
                    REGEXP_REPLACE(r.beneficiary.reference, '/_history/.*$', ''), '([^/:]+)$', 1
                ),
                ''
            ),
            NULLIF(TRIM(r.beneficiary.identifier.value), '')
        ) AS patient_id,
        SUBSTRING(NULLIF(TRIM(r.period.start), ''), 1, 10) AS start_date,
        SUBSTRING(NULLIF(TRIM(r.period."end"), ''), 1, 10) AS end_date
    FROM adapter_src_coverage
)
SELECT
    c.src_file,
    c.src_row,
    c.patient_id,
    c.start_date,
    c.end_date,
    COALESCE(
        l.disposition,
        CASE
            WHEN c.status = 'entered-in-error' THEN 'coverage_entered_in_error'
            WHEN c.status = 'draft' THEN 'coverage_draft'
        END
    ) AS disposition
FROM parsed_coverages AS c
JOIN fhir_resource_lines AS l
    ON l.key = 'coverage' AND l.src_file = c.src_file AND l.src_row = c.src_row
ORDER BY c.src_file, c.src_row
