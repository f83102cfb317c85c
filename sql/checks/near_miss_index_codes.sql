-- check: near_miss_index_codes
-- kind: conformance
-- severity: warn
-- tables: procedures
-- description: A counting procedure line's code matches no code of the pack but looks like one
--   of its index procedure codes: the code followed by modifiers (62321-50), without its
--   leading zero (213T for 0213T), in full-width characters (６２３２１), or sent under another
--   code system. The line is not reclassified: it counts as another procedure, so its session
--   is missing from the audit. Correct the code in the extract (modifiers belong in the
--   modifiers column) and run again.
-- Reads near_miss_codes (the patterns, derived from the pack's index codes, judged once per
--   distinct value) and finds its lines by their values as written.
SELECT
    'procedures' AS table_name,
    p.src_row AS row_number,
    'code' AS column_name,
    CAST(p.code AS VARCHAR) AS value,
    'probably ' || n.meant_code || ' (' || REPLACE(n.pattern, '_', ' ') || ')' AS detail
FROM input_procedures AS p
JOIN near_miss_codes AS n
    ON n.code_raw = CAST(p.code AS VARCHAR)
    AND n.code_system_raw IS NOT DISTINCT FROM CAST(p.code_system AS VARCHAR)
    AND n.status_raw IS NOT DISTINCT FROM CAST(p.status AS VARCHAR)
