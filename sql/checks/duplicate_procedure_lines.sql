-- check: duplicate_procedure_lines
-- kind: conformance
-- severity: warn
-- tables: procedures
-- description: An index procedure line repeats an earlier line exactly: same patient, date,
--   code, site, source_id, line_number, modifiers and status (as normalised). Each extra copy is one
--   finding. Sessions still count once (measure 3.3), but line counts and allowed amounts add
--   the copy; remove repeated lines at the source (often a file appended twice).
-- Only index lines (procedures_kept) are compared: repeats of other lines change nothing in the
--   audit, and comparing every line of a payer extract costs a grouping of all of them.
WITH line_keys AS (
    SELECT src_row, patient_id, event_date, code, site_id, source_id, line_number, modifiers,
        status
    FROM procedures_kept
    WHERE reject_reason IS NULL AND role = 'family'
),
repeated_keys AS (
    SELECT patient_id, event_date, code, site_id, source_id, line_number, modifiers, status,
        MIN(src_row) AS first_row
    FROM line_keys
    GROUP BY patient_id, event_date, code, site_id, source_id, line_number, modifiers, status
    HAVING COUNT(*) > 1
)
SELECT
    'procedures' AS table_name,
    l.src_row AS row_number,
    'code' AS column_name,
    l.code AS value,
    'repeats row ' || CAST(r.first_row AS VARCHAR) AS detail
FROM line_keys AS l
JOIN repeated_keys AS r
    ON r.patient_id = l.patient_id
    AND r.event_date = l.event_date
    AND r.code IS NOT DISTINCT FROM l.code
    AND r.site_id IS NOT DISTINCT FROM l.site_id
    AND r.source_id IS NOT DISTINCT FROM l.source_id
    AND r.line_number IS NOT DISTINCT FROM l.line_number
    AND r.modifiers IS NOT DISTINCT FROM l.modifiers
    AND r.status IS NOT DISTINCT FROM l.status
WHERE l.src_row > r.first_row
