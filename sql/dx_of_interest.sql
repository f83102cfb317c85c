-- dx_of_interest
-- Grain: one row per accepted diagnosis row x diagnosis value set it belongs to.
-- Implements: measure spec 3.4 and 4 (diagnoses sorted into AXIAL, RADICULAR and the other sets
--   the rules read: chronic pain, clinical trial, the exclusions). ICD-10 (WHO) codes match the
--   ICD-10-CM sets where the code exists. Only diagnoses in some value set travel on.
SELECT
    d.src_row,
    d.patient_id,
    d.event_date,
    d.code,
    d.source_id,
    d.site_id,
    v.value_set,
    v.role,
    v.region,
    v.valid_from,
    v.valid_to
FROM diagnoses_checked AS d
JOIN value_set_codes AS v
    ON v.code_system = d.match_system
    AND v.code = d.code
    AND v.domain = 'diagnosis'
WHERE d.reject_reason IS NULL
