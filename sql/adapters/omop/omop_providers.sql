-- omop_providers
-- Grain: one row per provider_id of the optional provider table (the first row of an id wins).
-- Implements: issue 10, OMOP sites: a record whose visit names no care site takes the care
--   site of its provider (provider.care_site_id).
WITH provider_rows AS (
    SELECT
        src_row,
        NULLIF(TRIM(provider_id), '') AS provider_id,
        NULLIF(TRIM(care_site_id), '') AS care_site_id,
        ROW_NUMBER() OVER (PARTITION BY NULLIF(TRIM(provider_id), '') ORDER BY src_row)
            AS provider_seq
    FROM adapter_src_provider
)
SELECT provider_id, care_site_id
FROM provider_rows
WHERE provider_id IS NOT NULL AND provider_seq = 1
