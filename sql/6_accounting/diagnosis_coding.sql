-- diagnosis_coding
-- Grain: one row per code system (as the pack matches it) of the accepted diagnosis rows.
-- Implements: measure spec 3.4 (diagnoses are matched to the pack's value sets by code system):
--   how much of the extract the value sets can see. An extract coded in a system for which the
--   pack has no value sets (ICD9CM), or only provisional or partial ones (SNOMED: a Synthea bulk
--   FHIR export codes every condition in SNOMED CT), has most spine-pain visits and sessions'
--   indications unrecognised: the in-population count is then undercounted. The run warns
--   (console, index page) and the manifest holds these figures (run.py).
--   value_sets: none = no diagnosis code of the pack in this system; verified = every diagnosis
--   value set of the pack has codes in it and all of them are verified; provisional otherwise.
-- Counted from the values as written (diagnosis_values, once per distinct code) minus the
--   quarantined rows (diagnoses_kept), so no pass over the diagnoses is added.
WITH value_set_keys AS (
    SELECT DISTINCT code_system, code
    FROM value_set_codes
    WHERE domain = 'diagnosis'
),
written_rows AS (
    SELECT
        c.match_system AS code_system,
        SUM(v.row_count) AS diagnoses,
        SUM(CASE WHEN k.code IS NOT NULL THEN v.row_count ELSE 0 END) AS matched_diagnoses
    FROM diagnosis_values AS v
    JOIN input_codes AS c
        ON c.domain = 'diagnosis'
        AND c.code_raw IS NOT DISTINCT FROM v.code
        AND c.code_system_raw IS NOT DISTINCT FROM v.code_system
    LEFT JOIN value_set_keys AS k ON k.code_system = c.match_system AND k.code = c.code
    WHERE c.match_system IS NOT NULL
    GROUP BY c.match_system
),
rejected_rows AS (
    SELECT
        s.match_system AS code_system,
        COUNT(*) AS diagnoses,
        COUNT(k.code) AS matched_diagnoses
    FROM diagnoses_kept AS d
    JOIN input_code_systems AS s ON s.code_system = d.code_system AND s.domain = 'diagnosis'
    LEFT JOIN value_set_keys AS k ON k.code_system = s.match_system AND k.code = d.code
    WHERE d.reject_reason IS NOT NULL
    GROUP BY s.match_system
),
accepted_rows AS (
    SELECT
        w.code_system,
        w.diagnoses - COALESCE(r.diagnoses, 0) AS diagnoses,
        w.matched_diagnoses - COALESCE(r.matched_diagnoses, 0) AS matched_diagnoses
    FROM written_rows AS w
    LEFT JOIN rejected_rows AS r ON r.code_system = w.code_system
),
defined_value_sets AS (
    SELECT COUNT(DISTINCT value_set) AS value_sets
    FROM value_set_codes
    WHERE domain = 'diagnosis'
),
system_value_sets AS (
    SELECT
        code_system,
        COUNT(DISTINCT value_set) AS value_sets,
        COUNT(*) FILTER (WHERE COALESCE(confidence, '') <> 'verified') AS unverified_codes
    FROM value_set_codes
    WHERE domain = 'diagnosis'
    GROUP BY code_system
)
SELECT
    a.code_system,
    CAST(a.diagnoses AS BIGINT) AS diagnoses,
    CAST(a.matched_diagnoses AS BIGINT) AS matched_diagnoses,
    CAST(COALESCE(v.value_sets, 0) AS BIGINT) AS value_sets_with_codes,
    CAST(d.value_sets AS BIGINT) AS value_sets_defined,
    CASE
        WHEN v.code_system IS NULL THEN 'none'
        WHEN v.value_sets = d.value_sets AND v.unverified_codes = 0 THEN 'verified'
        ELSE 'provisional'
    END AS value_sets
FROM accepted_rows AS a
CROSS JOIN defined_value_sets AS d
LEFT JOIN system_value_sets AS v ON v.code_system = a.code_system
WHERE a.diagnoses > 0
ORDER BY a.diagnoses DESC, a.code_system
