-- input_procedures
-- Grain: one row per Procedure in use, then one row per EOB item in use.
-- Implements: issue 4, FHIR adapter -> canonical procedures (measure spec section 2): clinical
--   procedures (fhir_procedures) and adjudicated claim lines (fhir_eob_items). src_row is the
--   row's key in this table (procedures first, then EOB items, each in file, line and item
--   order): unique, as the engine needs (a trial modifier is found per row), although the items
--   of one EOB share its line and an export may come in several files. src_file and src_line
--   say where the row came from (the adapter moves them into input_row_sources, which the
--   quarantine reports).
WITH procedure_rows AS (
    SELECT
        1 AS source_rank,
        src_file,
        src_row,
        0 AS item_key,
        patient_id,
        event_date,
        code,
        code_system,
        site_id,
        source_id,
        CAST(NULL AS VARCHAR) AS line_number,
        CAST(NULL AS VARCHAR) AS modifiers,
        CAST(NULL AS VARCHAR) AS units,
        CAST(NULL AS VARCHAR) AS allowed_amount,
        status,
        provider_id,
        CAST(NULL AS VARCHAR) AS billing_provider_id
    FROM fhir_procedures
    WHERE disposition IS NULL
    UNION ALL
    SELECT
        2 AS source_rank,
        src_file,
        src_row,
        item_key,
        patient_id,
        event_date,
        code,
        code_system,
        site_id,
        source_id,
        line_number,
        modifiers,
        units,
        allowed_amount,
        status,
        provider_id,
        billing_provider_id
    FROM fhir_eob_items
    WHERE disposition IS NULL
)
SELECT
    CAST(ROW_NUMBER() OVER (ORDER BY source_rank, src_file, src_row, item_key) AS BIGINT)
        AS src_row,
    patient_id,
    event_date,
    code,
    code_system,
    site_id,
    source_id,
    line_number,
    modifiers,
    units,
    allowed_amount,
    status,
    provider_id,
    billing_provider_id,
    src_file,
    CAST(src_row AS BIGINT) AS src_line
FROM procedure_rows
ORDER BY source_rank, src_file, src_line, item_key
