-- anchor_indications
-- Grain: one row per anchor x indication diagnosis (code, value set) that matters to the rules.
-- Implements: measure spec 3.4: a session's indication diagnoses are the patient's diagnoses that
--   share a source_id with any of its lines, together with the patient's diagnoses on the
--   session date (at any site). A visit (3.6) is itself a spine-pain diagnosis; of its
--   indication only the markers matter to rules 1, 2, 4-7 (a chronic-pain code), so only those
--   are looked up: on the visit date, or sharing a source_id with the visit's own diagnoses.
WITH session_anchors AS (
    SELECT anchor_id, patient_id, anchor_date FROM anchors WHERE anchor_type = 'session'
),
same_day_diagnoses AS (
    SELECT a.anchor_id, d.code, d.value_set, d.role, d.region, d.event_date
    FROM session_anchors AS a
    JOIN value_set_diagnoses AS d
        ON d.patient_id = a.patient_id AND d.event_date = a.anchor_date
),
same_source_diagnoses AS (
    SELECT a.anchor_id, d.code, d.value_set, d.role, d.region, d.event_date
    FROM session_anchors AS a
    JOIN session_source_ids AS s ON s.anchor_id = a.anchor_id
    JOIN value_set_diagnoses AS d
        ON d.patient_id = a.patient_id AND d.source_id = s.source_id
),
marker_diagnoses AS (
    SELECT patient_id, event_date, source_id, code, value_set, role, region
    FROM value_set_diagnoses
    WHERE role IN ('chronic_marker', 'trial_marker')
),
visit_same_day_markers AS (
    SELECT a.anchor_id, m.code, m.value_set, m.role, m.region, m.event_date
    FROM anchors AS a
    JOIN marker_diagnoses AS m
        ON m.patient_id = a.patient_id AND m.event_date = a.anchor_date
    WHERE a.anchor_type = 'visit'
),
visit_same_source_markers AS (
    SELECT a.anchor_id, m.code, m.value_set, m.role, m.region, m.event_date
    FROM marker_diagnoses AS m
    JOIN value_set_diagnoses AS v
        ON v.patient_id = m.patient_id AND v.source_id = m.source_id AND v.role = 'pain_type'
    JOIN anchors AS a
        ON a.anchor_type = 'visit'
        AND a.patient_id = v.patient_id
        AND a.site_id = v.site_id
        AND a.anchor_date = v.event_date
)
SELECT anchor_id, code, value_set, role, region, event_date FROM same_day_diagnoses
UNION
SELECT anchor_id, code, value_set, role, region, event_date FROM same_source_diagnoses
UNION
SELECT anchor_id, code, value_set, role, region, event_date FROM visit_same_day_markers
UNION
SELECT anchor_id, code, value_set, role, region, event_date FROM visit_same_source_markers
