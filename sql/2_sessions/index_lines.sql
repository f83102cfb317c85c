-- index_lines
-- Grain: one row per counting procedure line whose code is an index procedure (one family).
-- Implements: measure spec 3.1 (only lines whose status counts) and 3.2 (procedure families,
--   current and retired codes alike). This is the narrow table that travels on: about 3% of
--   procedure lines in a claims extract.
SELECT
    src_row,
    patient_id,
    site_id,
    event_date,
    value_set AS family,
    code,
    region,
    source_id,
    provider_id,
    billing_provider_id,
    modifiers,
    allowed_amount,
    valid_from,
    valid_to
FROM procedures_kept
WHERE reject_reason IS NULL AND counts AND role = 'family'
