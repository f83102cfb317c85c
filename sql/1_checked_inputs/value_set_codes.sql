-- value_set_codes
-- Grain: one row per value set x code system x code of the guideline pack.
-- Implements: measure spec section 4 and 3.2: clinical knowledge is data. Codes and code systems
--   are normalised exactly as input codes are (docs/development.md "Reading values": dots and
--   blanks removed, upper case) so that matching is an equality join, never a prefix search.
SELECT
    r.value_set,
    d.domain,
    d.role,
    UPPER(REPLACE(REGEXP_REPLACE(r.code_system, '[.\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]', '', 'g'), '-', '')) AS code_system,
    UPPER(REGEXP_REPLACE(r.code, '[.\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]', '', 'g')) AS code,
    TRIM(r.code) AS display_code,
    NULLIF(TRIM(r.region), '') AS region,
    TRY_CAST(NULLIF(TRIM(r.valid_from), '') AS DATE) AS valid_from,
    TRY_CAST(NULLIF(TRIM(r.valid_to), '') AS DATE) AS valid_to,
    r.confidence
FROM pack_value_set_rows AS r
JOIN pack_value_set_definitions AS d ON d.value_set = r.value_set
