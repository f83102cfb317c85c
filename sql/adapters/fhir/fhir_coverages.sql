-- fhir_coverages
-- Grain: one row per non-blank line read as Coverage (from every file of the export).
-- Implements: issue 4, FHIR adapter -> canonical coverage: patient = beneficiary, start_date /
--   end_date = period.start / period.end (an open end means still covered). Not counted
--   (disposition): invalid_json, wrong_resource_type, duplicate_resource, status
--   entered-in-error (coverage_entered_in_error) or draft (coverage_draft).
WITH parsed_coverages AS (
    SELECT
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        NULLIF(TRIM(r.id), '') AS resource_id,
        r.meta.lastUpdated AS last_updated,
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
),
judged_coverages AS (
    SELECT
        *,
        CASE
            WHEN NOT valid_json THEN 'invalid_json'
            WHEN COALESCE(resource_type, '') <> 'Coverage' THEN 'wrong_resource_type'
        END AS parse_problem
    FROM parsed_coverages
),
numbered_coverages AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY CASE WHEN parse_problem IS NULL THEN resource_id END
            ORDER BY last_updated DESC NULLS LAST, src_file, src_row
        ) AS id_seq
    FROM judged_coverages
)
SELECT
    src_file,
    src_row,
    patient_id,
    start_date,
    end_date,
    COALESCE(
        parse_problem,
        CASE WHEN resource_id IS NOT NULL AND id_seq > 1 THEN 'duplicate_resource' END,
        CASE
            WHEN status = 'entered-in-error' THEN 'coverage_entered_in_error'
            WHEN status = 'draft' THEN 'coverage_draft'
        END
    ) AS disposition
FROM numbered_coverages
ORDER BY src_file, src_row
