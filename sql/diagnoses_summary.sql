-- diagnoses_summary
-- Grain: one row per code system (as normalised) over ALL input diagnosis rows, with a count.
-- Implements: the manifest's reconciliation and the data-quality count of code systems without
--   value sets, from a single cheap scan of one column: rows counted = all rows - quarantined
--   rows (every quarantined row is in diagnoses_kept), so the full checked view is read once.
--   The code system is normalised exactly as diagnoses_checked normalises it
--   (docs/development.md "Reading values"), once per distinct value.
WITH raw_code_systems AS (
    SELECT CAST(code_system AS VARCHAR) AS code_system, COUNT(*) AS row_count
    FROM input_diagnoses
    GROUP BY CAST(code_system AS VARCHAR)
),
normalised_code_systems AS (
    SELECT
        COALESCE(
            NULLIF(
                UPPER(
                    REPLACE(
                        CASE
                            WHEN REGEXP_MATCHES(code_system, '[^ -~]') THEN REGEXP_REPLACE(code_system, '[.\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]', '', 'g')
                            ELSE REPLACE(REPLACE(code_system, '.', ''), ' ', '')
                        END,
                        '-',
                        ''
                    )
                ),
                ''
            ),
            'ICD10CM'
        ) AS code_system,
        row_count
    FROM raw_code_systems
)
SELECT code_system, CAST(SUM(row_count) AS BIGINT) AS row_count
FROM normalised_code_systems
GROUP BY code_system
