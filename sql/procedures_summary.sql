-- procedures_summary
-- Grain: one row per status (as normalised) over ALL input procedure lines, with a count.
-- Implements: the manifest's reconciliation (measure spec 3.1: counted, not counting by status,
--   quarantined by reason) and the list of status values that counted, from a single cheap scan
--   of one column: lines of a status that were accepted = all lines of that status - quarantined
--   lines of that status (every quarantined line is in procedures_kept).
SELECT
    NULLIF(REPLACE(REPLACE(LOWER(TRIM(CAST(status AS VARCHAR))), ' ', '_'), '-', '_'), '')
        AS status,
    COUNT(*) AS row_count
FROM input_procedures
GROUP BY 1
