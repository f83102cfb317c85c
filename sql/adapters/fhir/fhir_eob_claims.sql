-- fhir_eob_claims
-- Grain: one row per non-blank line read as ExplanationOfBenefit (one adjudicated claim), from
--   every file of the export.
-- Implements: issue 4, FHIR adapter (CARIN Blue Button): only the final version of a claim
--   counts. An EOB that another EOB names under related with relationship 'prior' (by id or by
--   an identifier value), or that names its own 'replacedby', is superseded_claim_version;
--   status cancelled is voided_claim, entered-in-error claim_entered_in_error, draft
--   claim_draft; before these, invalid_json, wrong_resource_type and duplicate_resource
--   (fhir_resource_lines). The site is the EOB's facility, else its (billing) provider - as for
--   claim files, so the professional and the institutional claim of one procedure share a
--   site; the rendering clinician is the careTeam member with role performing or rendering; the
--   billing provider is the EOB's provider (CARIN Blue Button: the billing provider).
WITH parsed_claims AS (
    SELECT
        src_file,
        src_row,
        LOWER(TRIM(r.status)) AS status,
        LOWER(TRIM(r.type.coding[1].code)) AS claim_type,
        COALESCE(
            NULLIF(
                REGEXP_EXTRACT(
                    REGEXP_REPLACE(r.patient.reference, '/_history/.*$', ''), '([^/:]+)$', 1
                ),
                ''
            ),
            NULLIF(TRIM(r.patient.identifier.value), '')
        ) AS patient_id,
        SUBSTRING(NULLIF(TRIM(r.billablePeriod.start), ''), 1, 10) AS billable_start,
        COALESCE(
            NULLIF(
                REGEXP_EXTRACT(
                    REGEXP_REPLACE(r.facility.reference, '/_history/.*$', ''), '([^/:]+)$', 1
                ),
                ''
            ),
            NULLIF(TRIM(r.facility.identifier.value), ''),
            NULLIF(
                REGEXP_EXTRACT(
                    REGEXP_REPLACE(r.provider.reference, '/_history/.*$', ''), '([^/:]+)$', 1
                ),
                ''
            ),
            NULLIF(TRIM(r.provider.identifier.value), '')
        ) AS site_id,
        COALESCE(
            NULLIF(
                REGEXP_EXTRACT(
                    REGEXP_REPLACE(r.provider.reference, '/_history/.*$', ''), '([^/:]+)$', 1
                ),
                ''
            ),
            NULLIF(TRIM(r.provider.identifier.value), '')
        ) AS billing_provider_id,
        r.identifier AS identifiers,
        r.related AS related,
        r.careTeam AS care_team,
        r.item AS items,
        r.diagnosis AS diagnoses
    FROM adapter_src_eob
),
usable_claims AS (
    SELECT c.src_file, c.src_row, l.resource_id, c.identifiers, c.related, c.care_team
    FROM parsed_claims AS c
    JOIN fhir_resource_lines AS l
        ON l.key = 'eob' AND l.src_file = c.src_file AND l.src_row = c.src_row
    WHERE l.disposition IS NULL
),
claim_identifiers AS (
    SELECT src_file, src_row, UNNEST(identifiers) AS ident
    FROM usable_claims
),
claim_numbers AS (
    SELECT src_file, src_row, resource_id AS claim_number
    FROM usable_claims
    WHERE resource_id IS NOT NULL
    UNION
    SELECT src_file, src_row, TRIM(ident.value) AS claim_number
    FROM claim_identifiers
    WHERE NULLIF(TRIM(ident.value), '') IS NOT NULL
),
claim_relations AS (
    SELECT src_file, src_row, UNNEST(related) AS rel
    FROM usable_claims
),
relations AS (
    SELECT
        src_file,
        src_row,
        LOWER(TRIM(rel.relationship.coding[1].code)) AS relationship,
        COALESCE(
            NULLIF(TRIM(rel.reference.value), ''),
            NULLIF(
                REGEXP_EXTRACT(
                    REGEXP_REPLACE(rel.claim.reference, '/_history/.*$', ''), '([^/:]+)$', 1
                ),
                ''
            )
        ) AS other_number
    FROM claim_relations
),
superseded_claims AS (
    SELECT n.src_file, n.src_row
    FROM relations AS r
    JOIN claim_numbers AS n ON n.claim_number = r.other_number
    WHERE r.relationship = 'prior' AND (n.src_file <> r.src_file OR n.src_row <> r.src_row)
    UNION
    SELECT src_file, src_row
    FROM relations
    WHERE relationship = 'replacedby'
),
claim_team AS (
    SELECT src_file, src_row, UNNEST(care_team) AS member
    FROM usable_claims
),
rendering_providers AS (
    SELECT
        src_file,
        src_row,
        COALESCE(
            NULLIF(
                REGEXP_EXTRACT(
                    REGEXP_REPLACE(member.provider.reference, '/_history/.*$', ''),
                    '([^/:]+)$',
                    1
                ),
                ''
            ),
            NULLIF(TRIM(member.provider.identifier.value), '')
        ) AS provider_id,
        ROW_NUMBER() OVER (
            PARTITION BY src_file, src_row
            ORDER BY TRY_CAST(member.sequence AS INTEGER), member.sequence
        ) AS pick
    FROM claim_team
    WHERE LOWER(member.role.coding[1].code) IN ('performing', 'rendering')
)
SELECT
    c.src_file,
    c.src_row,
    l.resource_id AS claim_id,
    c.patient_id,
    c.claim_type,
    c.billable_start,
    c.site_id,
    p.provider_id,
    c.billing_provider_id,
    c.status,
    c.items,
    c.diagnoses,
    COALESCE(
        l.disposition,
        CASE
            WHEN s.src_row IS NOT NULL THEN 'superseded_claim_version'
            WHEN c.status = 'cancelled' THEN 'voided_claim'
            WHEN c.status = 'entered-in-error' THEN 'claim_entered_in_error'
            WHEN c.status = 'draft' THEN 'claim_draft'
        END
    ) AS claim_disposition
FROM parsed_claims AS c
JOIN fhir_resource_lines AS l
    ON l.key = 'eob' AND l.src_file = c.src_file AND l.src_row = c.src_row
LEFT JOIN (SELECT DISTINCT src_file, src_row FROM superseded_claims) AS s
    ON s.src_file = c.src_file AND s.src_row = c.src_row
LEFT JOIN rendering_providers AS p
    ON p.src_file = c.src_file AND p.src_row = c.src_row AND p.pick = 1
ORDER BY c.src_file, c.src_row
