-- value_set_diagnoses
-- Grain: one row per accepted diagnosis row x diagnosis value set it belongs to. A view over
--   diagnoses_kept (a filter and a projection): its rows are not held a second time.
-- Implements: measure spec 3.4 and 4 (diagnoses sorted into AXIAL, RADICULAR and the other sets
--   the rules read: chronic pain, clinical trial, the exclusions). ICD-10 (WHO) codes match the
--   ICD-10-CM sets where the code exists. Only diagnoses in some value set travel on.
SELECT
    src_row,
    patient_id,
    event_date,
    code,
    source_id,
    site_id,
    value_set,
    role,
    region,
    valid_from,
    valid_to
FROM diagnoses_kept
WHERE reject_reason IS NULL
