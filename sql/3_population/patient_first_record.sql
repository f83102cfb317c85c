-- patient_first_record
-- Grain: one row per patient with a session and no coverage rows, with the date of their
--   earliest record of any kind.
-- Implements: measure spec section 2 (coverage): for a patient with no coverage rows, history
--   starts at the patient's earliest record of any kind — any diagnosis, any procedure line,
--   counting or not, quarantined for another reason or not — whose date is itself valid (read,
--   from 1900 on, not after the as-of date, not before birth). Only the patients whose history
--   can matter are looked up, so the scan reads two columns and keeps no per-patient state for
--   the rest of the extract. Ids and dates are read with the same patterns as in
--   diagnoses_checked and procedures_checked (docs/development.md "Reading values"): an id is
--   trimmed only when it starts or ends with a blank or holds a non-ASCII character.
WITH wanted_patients AS (
    SELECT DISTINCT a.patient_id, p.birth_date, p.birth_year
    FROM anchors AS a
    JOIN patients_checked AS p ON p.patient_id = a.patient_id AND p.reject_reason IS NULL
    WHERE a.anchor_type = 'session'
        AND a.patient_id NOT IN (SELECT patient_id FROM coverage_spans)
),
raw_records AS (
    SELECT CAST(patient_id AS VARCHAR) AS patient_id, event_date FROM input_diagnoses
    UNION ALL
    SELECT CAST(patient_id AS VARCHAR) AS patient_id, event_date FROM input_procedures
),
records AS (
    SELECT
        NULLIF(
            CASE
                WHEN patient_id < '!' OR SUBSTRING(patient_id, -1) < '!' OR OCTET_LENGTH(ENCODE(patient_id)) <> LENGTH(patient_id)
                    THEN REGEXP_REPLACE(patient_id, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE patient_id
            END,
            ''
        ) AS patient_id,
        CASE
            WHEN UPPER(TYPEOF(event_date)) NOT IN ('VARCHAR', 'STRING') THEN TRY_CAST(event_date AS DATE)
            ELSE TRY_CAST(REGEXP_EXTRACT(CAST(event_date AS VARCHAR), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE)
        END AS event_date
    FROM raw_records
)
SELECT w.patient_id, MIN(r.event_date) AS first_record_date
FROM records AS r
JOIN wanted_patients AS w ON w.patient_id = r.patient_id
CROSS JOIN run_settings AS s
WHERE r.event_date >= DATE '1900-01-01'
    AND r.event_date <= s.as_of_date
    AND (w.birth_date IS NULL OR r.event_date >= w.birth_date)
    AND (w.birth_year IS NULL OR w.birth_date IS NOT NULL OR YEAR(r.event_date) >= w.birth_year)
GROUP BY w.patient_id
