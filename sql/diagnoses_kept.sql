-- diagnoses_kept
-- Grain: one row per rejected diagnosis row, and one row per accepted diagnosis row x diagnosis
--   value set it belongs to. Every other accepted row is only counted (diagnoses_summary).
-- Implements: the "filter early and narrow" rule: one scan of the diagnoses keeps just what the
--   rules read (measure spec 3.4, 4: AXIAL, RADICULAR, chronic pain, trial, exclusions; equality
--   join on normalised codes) and what the quarantine needs.
SELECT
    d.src_row,
    d.patient_id,
    d.event_date,
    d.code,
    d.code_system,
    d.source_id,
    d.site_id,
    d.reject_reason,
    d.reject_column,
    d.reject_value,
    v.value_set,
    v.role,
    v.region,
    v.valid_from,
    v.valid_to
FROM diagnoses_checked AS d
LEFT JOIN value_set_codes AS v
    ON d.reject_reason IS NULL
    AND v.code_system = d.match_system
    AND v.code = d.code
    AND v.domain = 'diagnosis'
WHERE d.reject_reason IS NOT NULL OR v.value_set IS NOT NULL
