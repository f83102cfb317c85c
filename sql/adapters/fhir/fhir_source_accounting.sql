-- fhir_source_accounting
-- Grain: one row per source file x outcome x detail: the file's units (its lines; for a line
--   holding an ExplanationOfBenefit, its items), canonical rows made from the lines of the
--   file's own resource type, lines of another resource type read as that type (other_type),
--   and units consumed without a canonical row, by reason (disposition).
-- Implements: issue 4 "nothing lost", per file (issue 10: a resource type may come in several
--   files): units = canonical rows + lines of other types + dispositions for every file of
--   Patient, Condition, Procedure, Coverage and Organization resources; for an
--   ExplanationOfBenefit file the canonical rows are its procedure rows (its diagnoses are
--   counted too, but are not units). Encounter files are lookups.
WITH step_tables AS (
    SELECT step_key, canonical_table
    FROM (
        VALUES
            ('patient', 'patients'),
            ('encounter', NULL),
            ('condition', 'diagnoses'),
            ('procedure', 'procedures'),
            ('eob', 'procedures'),
            ('coverage', 'coverage'),
            ('organization', 'sites')
    ) AS t (step_key, canonical_table)
),
step_units AS (
    SELECT 'patient' AS step_key, src_file, disposition FROM fhir_patients
    UNION ALL
    SELECT 'encounter', src_file, disposition FROM fhir_encounters
    UNION ALL
    SELECT 'condition', src_file, disposition FROM fhir_conditions
    UNION ALL
    SELECT 'procedure', src_file, disposition FROM fhir_procedures
    UNION ALL
    SELECT 'eob', src_file, disposition FROM fhir_eob_items
    UNION ALL
    SELECT 'coverage', src_file, disposition FROM fhir_coverages
    UNION ALL
    SELECT 'organization', src_file, disposition FROM fhir_organizations
),
judged_units AS (
    SELECT
        u.src_file,
        u.disposition,
        t.line_type AS resource_type,
        u.step_key = f.file_key AS own_type
    FROM step_units AS u
    JOIN adapter_files AS f ON f.src_file = u.src_file
    JOIN adapter_resource_types AS t ON t.key = u.step_key
),
own_canonical AS (
    SELECT f.src_file, s.canonical_table, COUNT(u.src_file) AS unit_count
    FROM adapter_files AS f
    JOIN step_tables AS s ON s.step_key = f.file_key
    LEFT JOIN judged_units AS u
        ON u.src_file = f.src_file AND u.own_type AND u.disposition IS NULL
    WHERE s.canonical_table IS NOT NULL
    GROUP BY f.src_file, s.canonical_table
),
eob_diagnoses AS (
    SELECT f.src_file, COUNT(d.src_file) AS unit_count
    FROM adapter_files AS f
    LEFT JOIN fhir_eob_diagnoses AS d ON d.src_file = f.src_file
    WHERE f.file_key = 'eob'
    GROUP BY f.src_file
)
SELECT src_file AS source_key, 'units' AS outcome, 'unit' AS detail, COUNT(*) AS unit_count
FROM judged_units
GROUP BY src_file
UNION ALL
SELECT src_file, 'canonical', canonical_table, unit_count
FROM own_canonical
UNION ALL
SELECT src_file, 'canonical', 'diagnoses', unit_count
FROM eob_diagnoses
UNION ALL
SELECT src_file, 'other_type', resource_type, COUNT(*)
FROM judged_units
WHERE NOT own_type AND disposition IS NULL
GROUP BY src_file, resource_type
UNION ALL
SELECT src_file, 'disposition', disposition, COUNT(*)
FROM judged_units
WHERE disposition IS NOT NULL
GROUP BY src_file, disposition
ORDER BY source_key, outcome, detail
