-- omop_record_sites
-- Grain: one row per row of condition_occurrence and of procedure_occurrence.
-- Implements: issue 10, OMOP sites: many OMOP extracts record no care site on visits (OHDSI's
--   Eunomia Synthea27Nj has none at all). A record's site is, in this order: the care_site_id
--   of its visit (visit_care_site); the care_site_id of its provider, or when it names none of
--   its visit's provider (provider_care_site); then the fallback the user chose
--   ($site_fallback, setting omop_site_fallback): 'provider' makes the provider itself the
--   site, as 'provider:<provider_id>' so it never meets a care site id (provider), and
--   'unrecorded' puts every such record at one site '(site not recorded)' (not_recorded).
--   Otherwise the site stays empty (none): the audit quarantines such a procedure
--   (missing_site_id).
WITH records AS (
    SELECT
        'procedure_occurrence' AS record_table,
        src_row,
        NULLIF(TRIM(visit_occurrence_id), '') AS visit_id,
        NULLIF(TRIM(provider_id), '') AS provider_id
    FROM adapter_src_procedure_occurrence
    UNION ALL
    SELECT
        'condition_occurrence',
        src_row,
        NULLIF(TRIM(visit_occurrence_id), ''),
        NULLIF(TRIM(provider_id), '')
    FROM adapter_src_condition_occurrence
),
record_providers AS (
    SELECT
        r.record_table,
        r.src_row,
        v.care_site_id AS visit_site_id,
        COALESCE(r.provider_id, v.provider_id) AS provider_id
    FROM records AS r
    LEFT JOIN omop_visits AS v ON v.visit_occurrence_id = r.visit_id
)
SELECT
    r.record_table,
    CAST(r.src_row AS BIGINT) AS src_row,
    CASE
        WHEN r.visit_site_id IS NOT NULL THEN r.visit_site_id
        WHEN p.care_site_id IS NOT NULL THEN p.care_site_id
        WHEN $site_fallback = 'provider' AND r.provider_id IS NOT NULL
            THEN 'provider:' || r.provider_id
        WHEN $site_fallback = 'unrecorded' THEN '(site not recorded)'
    END AS site_id,
    CASE
        WHEN r.visit_site_id IS NOT NULL THEN 'visit_care_site'
        WHEN p.care_site_id IS NOT NULL THEN 'provider_care_site'
        WHEN $site_fallback = 'provider' AND r.provider_id IS NOT NULL THEN 'provider'
        WHEN $site_fallback = 'unrecorded' THEN 'not_recorded'
        ELSE 'none'
    END AS site_source
FROM record_providers AS r
LEFT JOIN omop_providers AS p ON p.provider_id = r.provider_id
ORDER BY r.record_table, r.src_row
