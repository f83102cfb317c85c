-- input_procedures
-- Grain: one row per row of procedure_occurrence.
-- Implements: issue 4, OMOP adapter -> canonical procedures: code = procedure_source_value, its
--   code_system from the vocabulary of procedure_source_concept_id when the concept table has
--   it (CPT4 -> HCPCS, ICD10PCS, SNOMED, OPCS4), else HCPCS; where the source value is empty,
--   the concept_code and vocabulary of procedure_source_concept_id, else procedure_concept_id.
--   event_date = procedure_date (or the date of procedure_datetime); site_id = the visit's
--   care site, else the provider's, else the chosen fallback (omop_record_sites); source_id =
--   visit_occurrence_id; modifiers = modifier_source_value (else the modifier concept's code);
--   units = quantity; allowed_amount = the sum of cost.amount_allowed over the procedure's cost
--   rows (cost_domain_id 'Procedure'), each read in the notation of the run
--   (run_settings.decimal_comma; docs/development.md "Reading values") and the sum passed on in
--   it; when one of them is not a number, that text is passed on instead, for the audit to
--   quarantine (invalid_number), never a sum without it. OMOP holds resolved facts:
--   every row counts (no status). provider_id = procedure_occurrence.provider_id (the rendering
--   provider); the CDM records no billing provider (billing_provider_id is null).
WITH procedures AS (
    SELECT
        src_row,
        NULLIF(TRIM(procedure_occurrence_id), '') AS procedure_id,
        NULLIF(TRIM(person_id), '') AS person_id,
        COALESCE(NULLIF(TRIM(procedure_date), ''), NULLIF(TRIM(procedure_datetime), ''))
            AS date_text,
        NULLIF(TRIM(procedure_source_value), '') AS source_value,
        NULLIF(TRIM(procedure_source_concept_id), '') AS source_concept_id,
        NULLIF(TRIM(procedure_concept_id), '') AS concept_id,
        NULLIF(TRIM(modifier_source_value), '') AS modifier_source_value,
        NULLIF(TRIM(modifier_concept_id), '') AS modifier_concept_id,
        NULLIF(TRIM(quantity), '') AS quantity,
        NULLIF(TRIM(visit_occurrence_id), '') AS visit_id,
        NULLIF(TRIM(provider_id), '') AS provider_id
    FROM adapter_src_procedure_occurrence
),
read_costs AS (
    SELECT
        NULLIF(TRIM(c.cost_event_id), '') AS procedure_id,
        CASE
            WHEN NOT REGEXP_MATCHES(COALESCE(c.amount_allowed, ''), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                THEN c.amount_allowed
        END AS amount_text,
        CASE
            WHEN r.decimal_comma
                THEN TRY_CAST(REPLACE(REPLACE(REPLACE(REPLACE(REGEXP_EXTRACT(c.amount_allowed, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*(([+-]|[+-]?\$ ?|\$ ?[+-])?([0-9]+|[0-9]{1,3}(\.[0-9]{3})+)(,[0-9]+)?)[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '$', ''), ' ', ''), '.', ''), ',', '.') AS DECIMAL(18, 2))
            ELSE TRY_CAST(REPLACE(REPLACE(REPLACE(REGEXP_EXTRACT(c.amount_allowed, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*(([+-]|[+-]?\$ ?|\$ ?[+-])?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?)[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), '$', ''), ' ', ''), ',', '') AS DECIMAL(18, 2))
        END AS amount
    FROM adapter_src_cost AS c
    CROSS JOIN run_settings AS r
    WHERE c.cost_domain_id IS NULL OR LOWER(TRIM(c.cost_domain_id)) = 'procedure'
),
procedure_costs AS (
    SELECT
        procedure_id,
        SUM(amount) AS allowed_amount,
        MIN(amount_text) FILTER (WHERE amount_text IS NOT NULL AND amount IS NULL)
            AS allowed_amount_unread
    FROM read_costs
    GROUP BY procedure_id
)
SELECT
    CAST(p.src_row AS BIGINT) AS src_row,
    p.person_id AS patient_id,
    CASE
        WHEN REGEXP_MATCHES(p.date_text, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]')
            THEN SUBSTRING(p.date_text, 1, 10)
        ELSE p.date_text
    END AS event_date,
    COALESCE(p.source_value, sc.concept_code, sd.concept_code) AS code,
    CASE
        WHEN p.source_value IS NOT NULL THEN COALESCE(sc.code_system, 'HCPCS')
        WHEN sc.concept_code IS NOT NULL THEN sc.code_system
        ELSE sd.code_system
    END AS code_system,
    rs.site_id,
    p.visit_id AS source_id,
    CAST(NULL AS VARCHAR) AS line_number,
    COALESCE(p.modifier_source_value, mc.concept_code) AS modifiers,
    p.quantity AS units,
    CASE
        WHEN k.allowed_amount_unread IS NOT NULL THEN k.allowed_amount_unread
        WHEN r.decimal_comma THEN REPLACE(CAST(k.allowed_amount AS VARCHAR), '.', ',')
        ELSE CAST(k.allowed_amount AS VARCHAR)
    END AS allowed_amount,
    CAST(NULL AS VARCHAR) AS status,
    p.provider_id,
    CAST(NULL AS VARCHAR) AS billing_provider_id
FROM procedures AS p
CROSS JOIN run_settings AS r
LEFT JOIN omop_concepts AS sc ON sc.concept_id = p.source_concept_id
LEFT JOIN omop_concepts AS sd ON sd.concept_id = p.concept_id
LEFT JOIN omop_concepts AS mc ON mc.concept_id = p.modifier_concept_id
LEFT JOIN omop_record_sites AS rs
    ON rs.record_table = 'procedure_occurrence' AND rs.src_row = p.src_row
LEFT JOIN procedure_costs AS k ON k.procedure_id = p.procedure_id
ORDER BY p.src_row
