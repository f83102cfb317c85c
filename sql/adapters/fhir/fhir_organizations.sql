-- fhir_organizations
-- Grain: one row per non-blank line read as Organization (from every file of the export).
-- Implements: issue 4, FHIR adapter -> canonical sites: site_id = Organization.id (what
--   Encounter.serviceProvider and EOB provider refer to), site_name = name, site_group = the
--   parent organisation (partOf). Not counted (disposition): invalid_json, wrong_resource_type,
--   duplicate_resource.
WITH parsed_organizations AS (
    SELECT
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        NULLIF(TRIM(r.id), '') AS resource_id,
        r.meta.lastUpdated AS last_updated,
        NULLIF(TRIM(r.name), '') AS site_name,
        NULLIF(
            REGEXP_EXTRACT(
                REGEXP_REPLACE(r.partOf.reference, '/_history/.*$', ''), '([^/:]+)$', 1
            ),
            ''
        ) AS parent_id
    FROM adapter_src_organization
),
judged_organizations AS (
    SELECT
        *,
        CASE
            WHEN NOT valid_json THEN 'invalid_json'
            WHEN COALESCE(resource_type, '') <> 'Organization' THEN 'wrong_resource_type'
        END AS parse_problem
    FROM parsed_organizations
),
numbered_organizations AS (
    SELECT
        *,
        ROW_NUMBER() OVER (
            PARTITION BY CASE WHEN parse_problem IS NULL THEN resource_id END
            ORDER BY last_updated DESC NULLS LAST, src_file, src_row
        ) AS id_seq
    FROM judged_organizations
)
SELECT
    src_file,
    src_row,
    resource_id AS site_id,
    site_name,
    parent_id AS site_group,
    COALESCE(
        parse_problem,
        CASE WHEN resource_id IS NOT NULL AND id_seq > 1 THEN 'duplicate_resource' END
    ) AS disposition
FROM numbered_organizations
ORDER BY src_file, src_row
