-- omop_concepts
-- Grain: one row per concept_id of the optional concept table (the first row of an id wins).
-- Implements: issue 4, OMOP adapter: concept_id -> concept_code + code_system, used where a
--   source value is missing, and to name the code system of a source value through its
--   *_source_concept_id. A small extract of the OHDSI vocabulary is enough.
WITH concept_rows AS (
    SELECT
        src_row,
        NULLIF(TRIM(concept_id), '') AS concept_id,
        NULLIF(TRIM(concept_code), '') AS concept_code,
        NULLIF(TRIM(vocabulary_id), '') AS vocabulary_id
    FROM adapter_src_concept
),
numbered_concepts AS (
    SELECT
        src_row,
        concept_id,
        concept_code,
        vocabulary_id,
        ROW_NUMBER() OVER (PARTITION BY concept_id ORDER BY src_row) AS concept_seq
    FROM concept_rows
    WHERE concept_id IS NOT NULL
)
SELECT
    c.concept_id,
    c.concept_code,
    c.vocabulary_id,
    COALESCE(v.code_system, UPPER(c.vocabulary_id)) AS code_system
FROM numbered_concepts AS c
LEFT JOIN omop_vocabularies AS v ON UPPER(v.vocabulary_id) = UPPER(c.vocabulary_id)
WHERE c.concept_seq = 1
