-- fhir_resource_lines
-- Grain: one row per non-blank line of the export read as a resource type the audit reads
--   (key: patient, encounter, condition, procedure, eob, coverage, organization), from every
--   file; (key, src_file, src_row) is unique.
-- Implements: issue 4, FHIR adapter: the one parse and numbering of a resource line, which each
--   per-type step (fhir_patients ... fhir_organizations) joins to. resource_id = the trimmed
--   id (null when blank); parse_problem = invalid_json (not JSON) or wrong_resource_type (its
--   resourceType is not the type it is read as: another type, or none); disposition = the
--   parse problem, else duplicate_resource for the same non-blank id of the same type again
--   (the latest meta.lastUpdated, then the first file by name and line, is kept), else null.
--   The fields are read from the per-type structures (adapter_src_<key>.r), as the per-type
--   steps read theirs.
WITH staged_lines AS (
    SELECT
        'patient' AS key,
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        r.id AS id,
        r.meta.lastUpdated AS last_updated
    FROM adapter_src_patient
    UNION ALL
    SELECT
        'encounter' AS key,
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        r.id AS id,
        r.meta.lastUpdated AS last_updated
    FROM adapter_src_encounter
    UNION ALL
    SELECT
        'condition' AS key,
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        r.id AS id,
        r.meta.lastUpdated AS last_updated
    FROM adapter_src_condition
    UNION ALL
    SELECT
        'procedure' AS key,
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        r.id AS id,
        r.meta.lastUpdated AS last_updated
    FROM adapter_src_procedure
    UNION ALL
    SELECT
        'eob' AS key,
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        r.id AS id,
        r.meta.lastUpdated AS last_updated
    FROM adapter_src_eob
    UNION ALL
    SELECT
        'coverage' AS key,
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        r.id AS id,
        r.meta.lastUpdated AS last_updated
    FROM adapter_src_coverage
    UNION ALL
    SELECT
        'organization' AS key,
        src_file,
        src_row,
        valid_json,
        r.resourceType AS resource_type,
        r.id AS id,
        r.meta.lastUpdated AS last_updated
    FROM adapter_src_organization
),
judged_lines AS (
    SELECT
        s.key,
        s.src_file,
        s.src_row,
        NULLIF(TRIM(s.id), '') AS resource_id,
        s.last_updated,
        CASE
            WHEN NOT s.valid_json THEN 'invalid_json'
            WHEN COALESCE(s.resource_type, '') <> t.line_type THEN 'wrong_resource_type'
        END AS parse_problem
    FROM staged_lines AS s
    JOIN adapter_resource_types AS t ON t.key = s.key
),
numbered_lines AS (
    SELECT
        key,
        src_file,
        src_row,
        resource_id,
        parse_problem,
        ROW_NUMBER() OVER (
            PARTITION BY key, CASE WHEN parse_problem IS NULL THEN resource_id END
            ORDER BY last_updated DESC NULLS LAST, src_file, src_row
        ) AS id_seq
    FROM judged_lines
)
SELECT
    key,
    src_file,
    src_row,
    resource_id,
    parse_problem,
    COALESCE(
        parse_problem,
        CASE WHEN resource_id IS NOT NULL AND id_seq > 1 THEN 'duplicate_resource' END
    ) AS disposition
FROM numbered_lines
ORDER BY key, src_file, src_row
