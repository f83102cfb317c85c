-- session_lines
-- Grain: one row per index line, with the session (after the merges of 3.3) it belongs to.
-- Implements: measure spec 3.3 (every counting index line lands in exactly one session).
SELECT
    l.src_row,
    f.patient_id,
    f.site_id,
    f.session_date,
    f.family,
    l.family AS line_family,
    l.code,
    l.region,
    l.source_id,
    l.provider_id,
    l.billing_provider_id,
    l.modifiers,
    l.allowed_amount
FROM index_lines AS l
JOIN session_merge_targets AS f
    ON f.patient_id = l.patient_id
    AND f.site_id = l.site_id
    AND f.session_date = l.event_date
    AND f.line_family = l.family
