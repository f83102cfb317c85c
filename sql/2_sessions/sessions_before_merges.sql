-- sessions_before_merges
-- Grain: one row per patient x site x date x family, before the "with or without" merges.
-- Implements: measure spec 3.3, first sentence: a session is all counting lines of one family for
--   one patient at one site on one date, so add-on codes, bilateral modifiers, units and several
--   levels never make more than one session.
SELECT
    patient_id,
    site_id,
    event_date AS session_date,
    family,
    COUNT(*) AS line_count
FROM index_lines
GROUP BY patient_id, site_id, event_date, family
