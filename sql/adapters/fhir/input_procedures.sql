-- input_procedures
-- Grain: one row per Procedure in use, then one row per EOB item in use.
-- Implements: issue 4, FHIR adapter -> canonical procedures (measure spec section 2): clinical
--   procedures (fhir_procedures) and adjudicated claim lines (fhir_eob_items). src_row is the
--   line in Procedure.ndjson or ExplanationOfBenefit.ndjson respectively (the items of one EOB
--   share its line).
SELECT
    CAST(src_row AS BIGINT) AS src_row,
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
    provider_id
FROM fhir_procedures
WHERE disposition IS NULL
UNION ALL
SELECT
    CAST(src_row AS BIGINT) AS src_row,
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
    provider_id
FROM fhir_eob_items
WHERE disposition IS NULL
