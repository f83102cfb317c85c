-- fhir_eob_diagnoses
-- Grain: one row per distinct diagnosis code (dot, blanks and case ignored) per final EOB.
-- Implements: issue 4, FHIR adapter -> canonical diagnoses from claims: each EOB.diagnosis entry
--   gives the coding of its best-ranked system (ICD-10-CM first), deduplicated per claim; only
--   claims left in use by fhir_eob_claims count (a superseded or voided claim's codes are not
--   evidence). event_date = billablePeriod.start, else the earliest item date; source_id = the
--   EOB id, so a claim's items and codes link (measure 3.4); site_id as for its items.
WITH live_claims AS (
    SELECT src_file, src_row, claim_id, patient_id, billable_start, site_id, diagnoses
    FROM fhir_eob_claims
    WHERE claim_disposition IS NULL
),
item_dates AS (
    SELECT src_file, src_row, MIN(event_date) AS first_item_date
    FROM fhir_eob_items
    GROUP BY src_file, src_row
),
claim_diagnoses AS (
    SELECT src_file, src_row, UNNEST(diagnoses) AS dx
    FROM live_claims
),
numbered_diagnoses AS (
    SELECT
        src_file,
        src_row,
        dx,
        ROW_NUMBER() OVER (
            PARTITION BY src_file, src_row ORDER BY TRY_CAST(dx.sequence AS INTEGER), dx.sequence
        ) AS dx_key
    FROM claim_diagnoses
),
diagnosis_codings AS (
    SELECT src_file, src_row, dx_key, UNNEST(dx.diagnosisCodeableConcept.coding) AS coding
    FROM numbered_diagnoses
),
picked_codings AS (
    SELECT
        c.src_file,
        c.src_row,
        c.dx_key,
        TRIM(c.coding.code) AS code,
        COALESCE(s.code_system, c.coding.system) AS code_system,
        ROW_NUMBER() OVER (
            PARTITION BY c.src_file, c.src_row, c.dx_key
            ORDER BY COALESCE(s.diagnosis_rank, 99), c.coding.system, c.coding.code
        ) AS pick
    FROM diagnosis_codings AS c
    LEFT JOIN fhir_code_systems AS s ON s.system_uri = c.coding.system
    WHERE NULLIF(TRIM(c.coding.code), '') IS NOT NULL
),
distinct_codes AS (
    SELECT
        src_file,
        src_row,
        dx_key,
        code,
        code_system,
        ROW_NUMBER() OVER (
            PARTITION BY src_file, src_row, UPPER(REPLACE(REPLACE(code, '.', ''), ' ', ''))
            ORDER BY dx_key
        ) AS code_seq
    FROM picked_codings
    WHERE pick = 1
)
SELECT
    d.src_file,
    d.src_row,
    d.dx_key,
    c.patient_id,
    COALESCE(c.billable_start, t.first_item_date) AS event_date,
    d.code,
    d.code_system,
    c.claim_id AS source_id,
    c.site_id
FROM distinct_codes AS d
JOIN live_claims AS c ON c.src_file = d.src_file AND c.src_row = d.src_row
LEFT JOIN item_dates AS t ON t.src_file = d.src_file AND t.src_row = d.src_row
WHERE d.code_seq = 1
ORDER BY d.src_file, d.src_row, d.dx_key
