-- anchor_indications
-- Grain: one row per anchor x indication diagnosis (code, value set) that matters to the rules.
-- Implements: measure spec 3.4: a session's indication diagnoses are the patient's diagnoses that
--   share a source_id with any of its lines, together with the patient's diagnoses on the
--   session date (at any site).
WITH same_day_diagnoses AS (
    SELECT a.anchor_id, d.code, d.value_set, d.role, d.region, d.event_date
    FROM anchors AS a
    JOIN dx_of_interest AS d
        ON d.patient_id = a.patient_id AND d.event_date = a.anchor_date
),
same_source_diagnoses AS (
    SELECT a.anchor_id, d.code, d.value_set, d.role, d.region, d.event_date
    FROM anchors AS a
    JOIN anchor_sources AS s ON s.anchor_id = a.anchor_id
    JOIN dx_of_interest AS d
        ON d.patient_id = a.patient_id AND d.source_id = s.source_id
)
SELECT anchor_id, code, value_set, role, region, event_date FROM same_day_diagnoses
UNION
SELECT anchor_id, code, value_set, role, region, event_date FROM same_source_diagnoses
