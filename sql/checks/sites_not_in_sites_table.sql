-- check: sites_not_in_sites_table
-- kind: conformance
-- severity: warn
-- tables: procedures
-- description: A procedure line's site_id is not in the sites table, although the extract has
--   one with rows. The site is reported under its id, with no name or group.
-- Reads one raw column (input_procedures.site_id): a site id found among the known sites as
--   written is known; only the others are trimmed as the engine trims them and looked up again.
WITH sites_given AS (
    SELECT COUNT(*) AS site_rows FROM input_sites
),
known_sites AS (
    SELECT site_id FROM sites_checked WHERE reject_reason IS NULL
),
unknown_as_written AS (
    SELECT p.src_row, CAST(p.site_id AS VARCHAR) AS site_id
    FROM input_procedures AS p
    JOIN sites_given AS g ON g.site_rows > 0
    WHERE p.site_id IS NOT NULL
        AND CAST(p.site_id AS VARCHAR) NOT IN (SELECT site_id FROM known_sites)
),
line_sites AS (
    SELECT
        src_row,
        NULLIF(
            CASE
                WHEN site_id < '!' OR SUBSTRING(site_id, -1) < '!' OR OCTET_LENGTH(ENCODE(site_id)) <> LENGTH(site_id)
                    THEN REGEXP_REPLACE(site_id, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+|[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]+$', '', 'g')
                ELSE site_id
            END,
            ''
        ) AS site_id
    FROM unknown_as_written
)
SELECT
    'procedures' AS table_name,
    p.src_row AS row_number,
    'site_id' AS column_name,
    p.site_id AS value,
    'not in sites' AS detail
FROM line_sites AS p
WHERE p.site_id IS NOT NULL
    AND p.site_id NOT IN (SELECT site_id FROM known_sites)
