-- input_diagnoses
-- Grain: one row per row of condition_occurrence.
-- Implements: issue 4, OMOP adapter -> canonical diagnoses: code = condition_source_value (the
--   code as billed), its code_system from the vocabulary of condition_source_concept_id when
--   the concept table has it, else ICD10CM; where the source value is empty, the concept_code
--   and vocabulary of condition_source_concept_id, else of condition_concept_id (standard
--   concepts are SNOMED). event_date = condition_start_date (or the date of its datetime);
--   source_id = visit_occurrence_id; site_id = the visit's care site, else the
--   provider's, else the chosen fallback (omop_record_sites).
WITH conditions AS (
    SELECT
        src_row,
        NULLIF(TRIM(person_id), '') AS person_id,
        COALESCE(
            NULLIF(TRIM(condition_start_date), ''),
            NULLIF(TRIM(condition_start_datetime), '')
        ) AS start_text,
        NULLIF(TRIM(condition_source_value), '') AS source_value,
        NULLIF(TRIM(condition_source_concept_id), '') AS source_concept_id,
        NULLIF(TRIM(condition_concept_id), '') AS concept_id,
        NULLIF(TRIM(visit_occurrence_id), '') AS visit_id
    FROM adapter_src_condition_occurrence
)
SELECT
    CAST(c.src_row AS BIGINT) AS src_row,
    c.person_id AS patient_id,
    CASE
        WHEN REGEXP_MATCHES(c.start_text, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]')
            THEN SUBSTRING(c.start_text, 1, 10)
        ELSE c.start_text
    END AS event_date,
    COALESCE(c.source_value, sc.concept_code, sd.concept_code) AS code,
    CASE
        WHEN c.source_value IS NOT NULL THEN COALESCE(sc.code_system, 'ICD10CM')
        WHEN sc.concept_code IS NOT NULL THEN sc.code_system
        ELSE sd.code_system
    END AS code_system,
    c.visit_id AS source_id,
    rs.site_id
FROM conditions AS c
LEFT JOIN omop_concepts AS sc ON sc.concept_id = c.source_concept_id
LEFT JOIN omop_concepts AS sd ON sd.concept_id = c.concept_id
LEFT JOIN omop_record_sites AS rs
    ON rs.record_table = 'condition_occurrence' AND rs.src_row = c.src_row
ORDER BY c.src_row
