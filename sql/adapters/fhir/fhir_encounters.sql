-- fhir_encounters
-- Grain: one row per non-blank line read as Encounter (from every file of the export).
-- Implements: issue 4, FHIR adapter: an Encounter gives the conditions and procedures that
--   refer to it their date (period.start) and their site (serviceProvider, the organisation
--   responsible for the encounter), and its id links them (canonical source_id, measure 3.4).
--   References keep only the id ("Organization/1001" -> 1001), else the identifier value.
--   Lines not used (disposition, fhir_resource_lines): invalid_json, wrong_resource_type,
--   duplicate_resource.
WITH parsed_encounters AS (
    SELECT
        src_file,
        src_row,
        SUBSTRING(NULLIF(TRIM(r.period.start), ''), 1, 10) AS encounter_date,
        COALESCE(
            REGEXP_EXTRACT(
                REGEXP_REPLACE(r.serviceProvider.reference, '/_history/.*$', ''), '([^/:]+)$', 1
            ),
            NULLIF(TRIM(r.serviceProvider.identifier.value), '')
        ) AS site_id
    FROM adapter_src_encounter
)
SELECT
    e.src_file,
    e.src_row,
    l.resource_id AS encounter_id,
    e.encounter_date,
    NULLIF(e.site_id, '') AS site_id,
    l.disposition
FROM parsed_encounters AS e
JOIN fhir_resource_lines AS l
    ON l.key = 'encounter' AND l.src_file = e.src_file AND l.src_row = e.src_row
ORDER BY e.src_file, e.src_row
