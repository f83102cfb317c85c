-- input_procedures
-- Grain: one row per claim line that survives claims_line_dispositions (the final version of
--   each claim, without duplicates, reversals and the lines they reverse).
-- Implements: issue 4, claims adapter -> canonical procedures (measure spec section 2): code =
--   HCPCS as text, code_system HCPCS, site_id = facility id else billing provider, source_id =
--   claim id, provider_id = rendering provider, status from line status / denial code (the audit
--   drops denied lines by status, measure 3.1). Values stay text: the audit parses and
--   quarantines them.
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    member_id AS patient_id,
    event_date,
    hcpcs AS code,
    CASE WHEN hcpcs IS NULL THEN CAST(NULL AS VARCHAR) ELSE 'HCPCS' END AS code_system,
    site_id,
    claim_id AS source_id,
    line_number,
    modifiers,
    units,
    allowed_amount,
    status,
    rendering_provider AS provider_id
FROM claims_line_dispositions
WHERE disposition IS NULL
ORDER BY src_row
