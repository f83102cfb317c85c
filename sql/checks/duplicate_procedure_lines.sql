-- check: duplicate_procedure_lines
-- kind: conformance
-- severity: warn
-- tables: procedures
-- description: A procedure line repeats an earlier line exactly: same patient, date, code, site,
--   source_id, line_number, modifiers and status (as normalised). Each extra copy is one
--   finding. Sessions still count once (measure 3.3), but line counts and allowed amounts add
--   the copy; remove repeated lines at the source (often a file appended twice).
WITH numbered_lines AS (
    SELECT
        src_row,
        code,
        ROW_NUMBER() OVER (
            PARTITION BY
                patient_id, event_date, code, site_id, source_id, line_number, modifiers, status
            ORDER BY src_row
        ) AS copy_number,
        MIN(src_row) OVER (
            PARTITION BY
                patient_id, event_date, code, site_id, source_id, line_number, modifiers, status
        ) AS first_row
    FROM procedures_checked
    WHERE patient_id IS NOT NULL AND event_date IS NOT NULL
)
SELECT
    'procedures' AS table_name,
    src_row AS row_number,
    'code' AS column_name,
    code AS value,
    'repeats row ' || CAST(first_row AS VARCHAR) AS detail
FROM numbered_lines
WHERE copy_number > 1
