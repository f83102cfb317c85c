-- fhir_procedures
-- Grain: one row per non-blank line read as Procedure (from every file of the export).
-- Implements: issue 4, FHIR adapter -> canonical procedures: code = the Procedure.code coding of
--   the best-ranked system (CPT/HCPCS, ICD-10-PCS, SNOMED CT; fhir_code_systems); event_date =
--   performedDateTime, else performedPeriod.start, else the Encounter's date; site_id = the
--   Encounter's serviceProvider, else the first performer's onBehalfOf organisation, else the
--   location; source_id = the Encounter id; provider_id = the first performer's actor; status as
--   given (entered-in-error then does not count, measure 3.1). Not counted (disposition):
--   invalid_json, wrong_resource_type, duplicate_resource (fhir_resource_lines), then status
--   not-done (procedure_not_done) and preparation / on-hold (procedure_not_performed): such a
--   procedure did not happen.
WITH parsed_procedures AS (
    SELECT
        src_file,
        src_row,
        LOWER(TRIM(r.status)) AS status,
        REGEXP_EXTRACT(
            REGEXP_REPLACE(r.subject.reference, '/_history/.*$', ''), '([^/:]+)$', 1
        ) AS patient_ref,
        NULLIF(TRIM(r.subject.identifier.value), '') AS patient_identifier,
        REGEXP_EXTRACT(
            REGEXP_REPLACE(r.encounter.reference, '/_history/.*$', ''), '([^/:]+)$', 1
        ) AS encounter_id,
        SUBSTRING(
            COALESCE(
                NULLIF(TRIM(r.performedDateTime), ''),
                NULLIF(TRIM(r.performedPeriod.start), '')
            ),
            1,
            10
        ) AS performed_date,
        REGEXP_EXTRACT(
            REGEXP_REPLACE(r.performer[1].onBehalfOf.reference, '/_history/.*$', ''),
            '([^/:]+)$',
            1
        ) AS performer_organization,
        REGEXP_EXTRACT(
            REGEXP_REPLACE(r.location.reference, '/_history/.*$', ''), '([^/:]+)$', 1
        ) AS location_id,
        REGEXP_EXTRACT(
            REGEXP_REPLACE(r.performer[1].actor.reference, '/_history/.*$', ''), '([^/:]+)$', 1
        ) AS performer_id,
        r.code.coding AS codings
    FROM adapter_src_procedure
),
procedure_codings AS (
    SELECT pr.src_file, pr.src_row, UNNEST(pr.codings) AS coding
    FROM parsed_procedures AS pr
    JOIN fhir_resource_lines AS l
        ON l.key = 'procedure' AND l.src_file = pr.src_file AND l.src_row = pr.src_row
    WHERE l.parse_problem IS NULL
),
picked_codings AS (
    SELECT
        c.src_file,
        c.src_row,
        TRIM(c.coding.code) AS code,
        COALESCE(s.code_system, c.coding.system) AS code_system,
        ROW_NUMBER() OVER (
            PARTITION BY c.src_file, c.src_row
            ORDER BY COALESCE(s.procedure_rank, 99), c.coding.system, c.coding.code
        ) AS pick
    FROM procedure_codings AS c
    LEFT JOIN fhir_code_systems AS s ON s.system_uri = c.coding.system
    WHERE NULLIF(TRIM(c.coding.code), '') IS NOT NULL
)
SELECT
    pr.src_file,
    pr.src_row,
    COALESCE(NULLIF(pr.patient_ref, ''), pr.patient_identifier) AS patient_id,
    COALESCE(pr.performed_date, e.encounter_date) AS event_date,
    p.code,
    p.code_system,
    COALESCE(e.site_id, NULLIF(pr.performer_organization, ''), NULLIF(pr.location_id, ''))
        AS site_id,
    NULLIF(pr.encounter_id, '') AS source_id,
    pr.status,
    NULLIF(pr.performer_id, '') AS provider_id,
    COALESCE(
        l.disposition,
        CASE
            WHEN pr.status = 'not-done' THEN 'procedure_not_done'
            WHEN pr.status IN ('preparation', 'on-hold') THEN 'procedure_not_performed'
        END
    ) AS disposition
FROM parsed_procedures AS pr
JOIN fhir_resource_lines AS l
    ON l.key = 'procedure' AND l.src_file = pr.src_file AND l.src_row = pr.src_row
LEFT JOIN picked_codings AS p
    ON p.src_file = pr.src_file AND p.src_row = pr.src_row AND p.pick = 1
LEFT JOIN fhir_encounters AS e ON e.encounter_id = pr.encounter_id AND e.disposition IS NULL
ORDER BY pr.src_file, pr.src_row
