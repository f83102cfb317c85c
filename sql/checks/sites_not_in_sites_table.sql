-- check: sites_not_in_sites_table
-- kind: conformance
-- severity: warn
-- tables: procedures
-- description: A procedure line's site_id is not in the sites table, although the extract has
--   one with rows. The site is reported under its id, with no name or group.
-- Reads one raw column (input_procedures.site_id, trimmed as the engine trims it).
WITH sites_given AS (
    SELECT COUNT(*) AS site_rows FROM input_sites
),
known_sites AS (
    SELECT site_id FROM sites_checked WHERE reject_reason IS NULL
),
line_sites AS (
    SELECT src_row, NULLIF(TRIM(CAST(site_id AS VARCHAR)), '') AS site_id
    FROM input_procedures
)
SELECT
    'procedures' AS table_name,
    p.src_row AS row_number,
    'site_id' AS column_name,
    p.site_id AS value,
    'not in sites' AS detail
FROM line_sites AS p
CROSS JOIN sites_given AS g
WHERE p.site_id IS NOT NULL
    AND g.site_rows > 0
    AND p.site_id NOT IN (SELECT site_id FROM known_sites)
