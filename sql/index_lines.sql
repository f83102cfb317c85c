-- index_lines
-- Grain: one row per counting procedure line whose code is an index procedure (one family).
-- Implements: measure spec 3.1 (only lines whose status counts) and 3.2 (procedure families,
--   current and retired codes alike). This is the narrow table that travels on: about 3% of
--   procedure lines in a claims extract.
SELECT
    p.src_row,
    p.patient_id,
    p.site_id,
    p.event_date,
    v.value_set AS family,
    p.code,
    v.region,
    p.source_id,
    p.modifiers,
    p.allowed_amount,
    v.valid_from,
    v.valid_to
FROM procedures_checked AS p
JOIN value_set_codes AS v
    ON v.code_system = p.match_system
    AND v.code = p.code
    AND v.domain = 'procedure'
    AND v.role = 'family'
WHERE p.reject_reason IS NULL AND p.counts
