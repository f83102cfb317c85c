-- fhir_organizations
-- Grain: one row per non-blank line read as Organization (from every file of the export).
-- Implements: issue 4, FHIR adapter -> canonical sites: site_id = Organization.id (what
--   Encounter.serviceProvider and EOB provider refer to), site_name = name, site_group = the
--   parent organisation (partOf). Not counted (disposition, fhir_resource_lines): invalid_json,
--   wrong_resource_type, duplicate_resource.
WITH parsed_organizations AS (
    SELECT
        src_file,
        src_row,
        NULLIF(TRIM(r.name), '') AS site_name,
        NULLIF(
            REGEXP_EXTRACT(
                REGEXP_REPLACE(r.partOf.reference, '/_history/.*$', ''), '([^/:]+)$', 1
            ),
            ''
        ) AS parent_id
    FROM adapter_src_organization
)
SELECT
    o.src_file,
    o.src_row,
    l.resource_id AS site_id,
    o.site_name,
    o.parent_id AS site_group,
    l.disposition
FROM parsed_organizations AS o
JOIN fhir_resource_lines AS l
    ON l.key = 'organization' AND l.src_file = o.src_file AND l.src_row = o.src_row
ORDER BY o.src_file, o.src_row
