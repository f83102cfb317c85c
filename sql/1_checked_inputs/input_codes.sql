-- input_codes
-- Grain: one row per domain x code x code system as written in the input (diagnosis_values,
--   procedure_values), with the code and code system as normalised and the code system the
--   pack matches them in.
-- Implements: measure spec 3.4 (codes normalised: dots and blanks removed, upper case) and the
--   code systems of audit/data/code_systems.csv, by the shared patterns of docs/development.md
--   ("Reading values"): dots and blanks of every kind (tab, no-break space, ...) removed
--   wherever they are; code systems also lose their hyphens, and an empty one is the domain's
--   default (ICD10CM, HCPCS). Each distinct value is normalised once here; the checked views
--   find a row's normalised code with one equality join on the values as written, so no
--   regular expression runs once per row. icd9_in_icd10: a code of a system matched as
--   ICD-10-CM that does not start with a letter (an ICD-9-CM code sent as ICD-10).
WITH written_codes AS (
    SELECT 'diagnosis' AS domain, code AS code_raw, code_system AS code_system_raw
    FROM diagnosis_values
    UNION ALL
    SELECT DISTINCT 'procedure' AS domain, code AS code_raw, code_system AS code_system_raw
    FROM procedure_values
),
normalised_codes AS (
    SELECT
        domain,
        code_raw,
        code_system_raw,
        NULLIF(UPPER(REGEXP_REPLACE(code_raw, '[.\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]', '', 'g')), '') AS code,
        COALESCE(
            NULLIF(UPPER(REPLACE(REGEXP_REPLACE(code_system_raw, '[.\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]', '', 'g'), '-', '')), ''),
            CASE WHEN domain = 'diagnosis' THEN 'ICD10CM' ELSE 'HCPCS' END
        ) AS code_system
    FROM written_codes
)
SELECT
    n.domain,
    n.code_raw,
    n.code_system_raw,
    n.code,
    n.code_system,
    s.match_system,
    COALESCE(
        n.domain = 'diagnosis' AND s.match_system = 'ICD10CM' AND NOT REGEXP_MATCHES(n.code, '^[A-Z]'),
        FALSE
    ) AS icd9_in_icd10
FROM normalised_codes AS n
LEFT JOIN input_code_systems AS s ON s.code_system = n.code_system AND s.domain = n.domain
