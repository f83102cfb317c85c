-- procedures_summary
-- Grain: one row per status (as normalised) over ALL input procedure lines, with a count.
-- Implements: the manifest's reconciliation (measure spec 3.1: counted, not counting by status,
--   quarantined by reason) and the list of status values that counted: lines of a status that
--   were accepted = all lines of that status - quarantined lines of that status (every
--   quarantined line is in procedures_kept). Status is normalised exactly as procedures_kept
--   normalises it (docs/development.md "Reading values"), once per distinct value
--   (procedure_values).
WITH text_statuses AS (
    SELECT status AS status_text, row_count FROM procedure_values
),
normalised_statuses AS (
    SELECT
        NULLIF(
            REPLACE(
                REGEXP_REPLACE(
                    LOWER(
                        CASE
                            WHEN status_text < '!' OR RIGHT(status_text, 1) < '!' OR OCTET_LENGTH(ENCODE(status_text)) <> LENGTH(status_text)
                                THEN REGEXP_REPLACE(status_text, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                            ELSE status_text
                        END
                    ),
                    '[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]',
                    '_',
                    'g'
                ),
                '-',
                '_'
            ),
            ''
        ) AS status,
        row_count
    FROM text_statuses
)
SELECT status, CAST(SUM(row_count) AS BIGINT) AS row_count
FROM normalised_statuses
GROUP BY status
