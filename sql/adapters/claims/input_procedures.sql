-- input_procedures
-- Grain: one row per claim line that survives claims_line_dispositions (the final version of
--   each claim, without duplicates, reversals and the lines they reverse).
-- Implements: issue 4, claims adapter -> canonical procedures (measure spec section 2): code =
--   HCPCS as text, code_system HCPCS, site_id = facility id else billing provider, source_id =
--   claim id, provider_id = rendering provider, billing_provider_id = billing provider, status from line status / denial code (the audit
--   drops denied lines by status, measure 3.1). Values stay text: the audit parses and
--   quarantines them.
SELECT
    CAST(l.src_row AS BIGINT) AS src_row,
    l.member_id AS patient_id,
    l.event_date,
    l.hcpcs AS code,
    CASE WHEN l.hcpcs IS NULL THEN CAST(NULL AS VARCHAR) ELSE 'HCPCS' END AS code_system,
    l.site_id,
    l.claim_id AS source_id,
    l.line_number,
    l.modifiers,
    l.units,
    l.allowed_amount,
    l.status,
    l.rendering_provider AS provider_id,
    l.billing_provider AS billing_provider_id
FROM claims_lines AS l
JOIN claims_line_dispositions AS d ON d.src_row = l.src_row
WHERE d.disposition IS NULL
ORDER BY l.src_row
