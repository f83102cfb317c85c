-- anchor_sources
-- Grain: one row per anchor x source_id (claim or encounter id) of its own records.
-- Implements: measure spec 3.4: a session's indication includes the patient's diagnoses that
--   share a source_id with any of its lines (merged lines included). For a visit, the source ids
--   of its own spine-pain diagnosis rows play the same part.
SELECT DISTINCT a.anchor_id, l.source_id
FROM anchors AS a
JOIN session_lines AS l
    ON l.patient_id = a.patient_id
    AND l.site_id = a.site_id
    AND l.session_date = a.anchor_date
    AND l.family = a.family
WHERE a.anchor_type = 'session' AND l.source_id IS NOT NULL
UNION
SELECT DISTINCT a.anchor_id, d.source_id
FROM anchors AS a
JOIN dx_of_interest AS d
    ON d.patient_id = a.patient_id
    AND d.site_id = a.site_id
    AND d.event_date = a.anchor_date
WHERE a.anchor_type = 'visit' AND d.role = 'pain_type' AND d.source_id IS NOT NULL
