-- procedures_summary
-- Grain: one row per status (as normalised) over ALL input procedure lines, with a count.
-- Implements: the manifest's reconciliation (measure spec 3.1: counted, not counting by status,
--   quarantined by reason) and the list of status values that counted: lines of a status that
--   were accepted = all lines of that status - quarantined lines of that status (every
--   quarantined line is in procedures_kept). Rolled up from procedure_values, which normalised
--   each distinct status once.
SELECT status, CAST(SUM(row_count) AS BIGINT) AS row_count
FROM procedure_values
GROUP BY status
