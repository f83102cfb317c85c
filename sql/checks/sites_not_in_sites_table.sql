-- check: sites_not_in_sites_table
-- kind: conformance
-- severity: warn
-- tables: procedures
-- description: A procedure line's site_id is not in the sites table, although the extract has
--   one with rows. The site is reported under its id, with no name or group.
WITH sites_given AS (
    SELECT COUNT(*) AS site_rows FROM input_sites
),
known_sites AS (
    SELECT site_id FROM sites_checked WHERE reject_reason IS NULL
)
SELECT
    'procedures' AS table_name,
    p.src_row AS row_number,
    'site_id' AS column_name,
    p.site_id AS value,
    'not in sites' AS detail
FROM procedures_checked AS p
CROSS JOIN sites_given AS g
LEFT JOIN known_sites AS k ON k.site_id = p.site_id
WHERE p.site_id IS NOT NULL AND k.site_id IS NULL AND g.site_rows > 0
