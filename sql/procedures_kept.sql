-- procedures_kept
-- Grain: one row per rejected procedure line, and one row per accepted line whose code is in a
--   procedure value set of the pack (an index family, or the unlisted code the data-quality
--   check reads). Every other line is only counted (procedures_summary).
-- Implements: the "filter early and narrow" rule: about 3% of claim lines are index procedures
--   (measure spec 3.2), and only they, with the rejected rows for the quarantine, travel on.
SELECT
    p.src_row,
    p.patient_id,
    p.event_date,
    p.code,
    p.code_system,
    p.site_id,
    p.source_id,
    p.line_number,
    p.modifiers,
    p.allowed_amount,
    p.status,
    p.counts,
    p.reject_reason,
    p.reject_column,
    p.reject_value,
    v.value_set,
    v.role,
    v.region,
    v.valid_from,
    v.valid_to
FROM procedures_checked AS p
LEFT JOIN value_set_codes AS v
    ON p.reject_reason IS NULL
    AND v.code_system = p.match_system
    AND v.code = p.code
    AND v.domain = 'procedure'
WHERE p.reject_reason IS NOT NULL OR v.value_set IS NOT NULL
