-- omop_visits
-- Grain: one row per visit_occurrence_id (the first row of an id wins).
-- Implements: issue 4, OMOP adapter: a condition's or procedure's site is the care_site of its
--   visit (visit_occurrence.care_site_id), else of its provider, or of the visit's provider
--   (omop_record_sites), and the visit id links a visit's conditions to its procedures
--   (canonical source_id, measure 3.4).
WITH visit_rows AS (
    SELECT
        src_row,
        NULLIF(TRIM(visit_occurrence_id), '') AS visit_occurrence_id,
        NULLIF(TRIM(care_site_id), '') AS care_site_id,
        NULLIF(TRIM(provider_id), '') AS provider_id,
        ROW_NUMBER() OVER (
            PARTITION BY NULLIF(TRIM(visit_occurrence_id), '') ORDER BY src_row
        ) AS visit_seq
    FROM adapter_src_visit_occurrence
)
SELECT visit_occurrence_id, care_site_id, provider_id
FROM visit_rows
WHERE visit_occurrence_id IS NOT NULL AND visit_seq = 1
