-- value_set_codes
-- Grain: one row per value set x code system x code of the guideline pack.
-- Implements: measure spec section 4 and 3.2: clinical knowledge is data. Codes are normalised
--   exactly as input codes are (dot and blanks removed, upper case) so that matching is an
--   equality join, never a prefix search.
SELECT
    r.value_set,
    d.domain,
    d.role,
    UPPER(TRIM(r.code_system)) AS code_system,
    UPPER(REPLACE(REPLACE(TRIM(r.code), '.', ''), ' ', '')) AS code,
    TRIM(r.code) AS display_code,
    NULLIF(TRIM(r.region), '') AS region,
    TRY_CAST(NULLIF(TRIM(r.valid_from), '') AS DATE) AS valid_from,
    TRY_CAST(NULLIF(TRIM(r.valid_to), '') AS DATE) AS valid_to,
    r.confidence
FROM pack_value_set_rows AS r
JOIN pack_value_set_definitions AS d ON d.value_set = r.value_set
