-- procedure_values
-- Grain: one row per status x code x code system of the input procedure lines, as written (not
--   normalised), with the status as normalised and the number of lines.
-- Implements: the one cheap scan over ALL procedure lines that the code normalisation
--   (input_codes), the reconciliation and the data-quality counts need (measure spec 3.1:
--   counted, not counting by status; codes that look like an index code but do not match,
--   near_miss_codes). A grouping on the values as written,
--   so every normalisation runs once per distinct value, not once per line. Status is
--   normalised exactly as procedures_kept normalises it (docs/development.md "Reading values"):
--   blanks of every kind trimmed, lower case, inner blanks and hyphens read as underscores.
WITH raw_values AS (
    SELECT
        CAST(status AS VARCHAR) AS status_text,
        CAST(code AS VARCHAR) AS code,
        CAST(code_system AS VARCHAR) AS code_system,
        COUNT(*) AS row_count
    FROM input_procedures
    GROUP BY CAST(status AS VARCHAR), CAST(code AS VARCHAR), CAST(code_system AS VARCHAR)
)
SELECT
    status_text AS status_raw,
    NULLIF(
        REPLACE(
            REGEXP_REPLACE(
                LOWER(
                    CASE
                        WHEN status_text < '!' OR SUBSTRING(status_text, -1) < '!' OR OCTET_LENGTH(ENCODE(status_text)) <> LENGTH(status_text)
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
    code,
    code_system,
    row_count
FROM raw_values
