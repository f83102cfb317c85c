-- session_source_ids
-- Grain: one row per session anchor x source_id (claim or encounter id) of its lines.
-- Implements: measure spec 3.4: a session's indication includes the patient's diagnoses that
--   share a source_id with any of its lines (merged lines included). Visits find theirs in
--   anchor_indications directly.
SELECT DISTINCT a.anchor_id, l.source_id
FROM anchors AS a
JOIN session_lines AS l
    ON l.patient_id = a.patient_id
    AND l.site_id = a.site_id
    AND l.session_date = a.anchor_date
    AND l.family = a.family
WHERE a.anchor_type = 'session' AND l.source_id IS NOT NULL
