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
WITH rejected_rows AS (
    SELECT code_system, COUNT(DISTINCT src_row) AS row_count
    FROM diagnoses_kept
    WHERE reject_reason IS NOT NULL
    GROUP BY code_system
),
accepted_rows AS (
    SELECT c.match_system AS code_system, SUM(s.row_count - COALESCE(r.row_count, 0)) AS diagnoses
    FROM diagnoses_summary AS s
    JOIN input_code_systems AS c ON c.code_system = s.code_system AND c.domain = 'diagnosis'
    LEFT JOIN rejected_rows AS r ON r.code_system = s.code_system
    GROUP BY c.match_system
),
matched_rows AS (
    SELECT c.match_system AS code_system, COUNT(DISTINCT k.src_row) AS matched_diagnoses
    FROM diagnoses_kept AS k
    JOIN input_code_systems AS c ON c.code_system = k.code_system AND c.domain = 'diagnosis'
    WHERE k.reject_reason IS NULL AND k.value_set IS NOT NULL
    GROUP BY c.match_system
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
    CAST(COALESCE(m.matched_diagnoses, 0) AS BIGINT) AS matched_diagnoses,
    CAST(COALESCE(v.value_sets, 0) AS BIGINT) AS value_sets_with_codes,
    CAST(d.value_sets AS BIGINT) AS value_sets_defined,
    CASE
        WHEN v.code_system IS NULL THEN 'none'
        WHEN v.value_sets = d.value_sets AND v.unverified_codes = 0 THEN 'verified'
        ELSE 'provisional'
    END AS value_sets
FROM accepted_rows AS a
CROSS JOIN defined_value_sets AS d
LEFT JOIN matched_rows AS m ON m.code_system = a.code_system
LEFT JOIN system_value_sets AS v ON v.code_system = a.code_system
WHERE a.diagnoses > 0
ORDER BY a.diagnoses DESC, a.code_system
