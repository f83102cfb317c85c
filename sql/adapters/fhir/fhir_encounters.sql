-- fhir_encounters
-- Grain: one row per non-blank line read as Encounter (from every file of the export).
-- Implements: issue 4, FHIR adapter: an Encounter gives the conditions and procedures that
--   refer to it their date (period.start) and their site (serviceProvider, the organisation
--   responsible for the encounter), and its id links them (canonical source_id, measure 3.4).
--   References keep only the id ("Organization/1001" -> 1001), else the identifier value.
WITH parsed_encounters AS (
    SELECT
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        NULLIF(TRIM(r.id), '') AS resource_id,
        r.meta.lastUpdated AS last_updated,
        SUBSTRING(NULLIF(TRIM(r.period.start), ''), 1, 10) AS encounter_date,
        COALESCE(
            REGEXP_EXTRACT(
                REGEXP_REPLACE(r.serviceProvider.reference, '/_history/.*$', ''), '([^/:]+)$', 1
            ),
            NULLIF(TRIM(r.serviceProvider.identifier.value), '')
        ) AS site_id
    FROM adapter_src_encounter
),
judged_encounters AS (
    SELECT
        *,
        CASE
            WHEN NOT valid_json THEN 'invalid_json'
            WHEN COALESCE(resource_type, '') <> 'Encounter' THEN 'wrong_resource_type'
        END AS parse_problem
    FROM parsed_encounters
),
numbered_encounters AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY CASE WHEN parse_problem IS NULL THEN resource_id END
            ORDER BY last_updated DESC NULLS LAST, src_file, src_row
        ) AS id_seq
    FROM judged_encounters
)
SELECT
    src_file,
    src_row,
    resource_id AS encounter_id,
    encounter_date,
    NULLIF(site_id, '') AS site_id,
    COALESCE(
        parse_problem,
        CASE WHEN resource_id IS NOT NULL AND id_seq > 1 THEN 'duplicate_resource' END
    ) AS disposition
FROM numbered_encounters
ORDER BY src_file, src_row
