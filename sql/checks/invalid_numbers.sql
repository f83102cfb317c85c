-- check: invalid_numbers
-- kind: conformance
-- severity: warn
-- tables: procedures
-- description: A procedure line's line_number, units or allowed_amount is present but not a
--   number ("$1,200.50" is read; "n/a" is not). The line is quarantined (invalid_number).
-- Reads the engine's verdict (invalid_number), which is tested last: a line with another
--   problem as well is counted under that problem only.
SELECT
    'procedures' AS table_name,
    src_row AS row_number,
    reject_column AS column_name,
    reject_value AS value,
    'not a number' AS detail
FROM procedures_kept
WHERE reject_reason = 'invalid_number'
