-- data_quality
-- Grain: one row per data-quality check x code.
-- Implements: measure spec 3.2 (unlisted 64999 on a line with a spine-pain indication is
--   reported as "unlisted nervous-system procedure (possible DRG radiofrequency)", never
--   classified), 3.1 (status values that count but are not blank are listed), and dated validity
--   of value-set codes: a code used after its valid_to (or before its valid_from) still
--   classifies and is reported here. Lines whose code looks like an index code of the pack
--   but matches none (near_miss_codes) are counted by pattern and by the index code they
--   probably meant (near_miss_index_code_<pattern>): the meant code comes from the pack, never
--   the code as written, so nothing from the data is published.
WITH validity_rows AS (
    -- index lines and value-set diagnoses whose code is used outside its validity, once per
    -- side of the validity they fall on
    SELECT 'retired_code_used_after_retirement' AS check_name, domain, code, src_row
    FROM codes_used_outside_validity
    WHERE used_after_valid_to AND (domain = 'diagnosis' OR index_line)
    UNION ALL
    SELECT 'code_used_before_valid_from' AS check_name, domain, code, src_row
    FROM codes_used_outside_validity
    WHERE used_before_valid_from AND (domain = 'diagnosis' OR index_line)
),
validity_codes AS (
    -- a procedure index line is one row; a diagnosis row is one row per value set it is in
    SELECT
        check_name,
        domain,
        code,
        CASE WHEN domain = 'procedure' THEN COUNT(*) ELSE COUNT(DISTINCT src_row) END AS row_count
    FROM validity_rows
    GROUP BY check_name, domain, code
),
unlisted_lines AS (
    SELECT src_row, patient_id, event_date, source_id, code
    FROM procedures_kept
    WHERE reject_reason IS NULL AND counts AND role = 'data_quality'
),
unlisted_with_spine_indication AS (
    SELECT 'unlisted_nervous_system_procedure_possible_drg_rf' AS check_name,
        'procedure' AS domain, u.code, COUNT(DISTINCT u.src_row) AS row_count
    FROM unlisted_lines AS u
    WHERE EXISTS (
        SELECT 1
        FROM value_set_diagnoses AS d
        WHERE d.patient_id = u.patient_id
            AND d.role = 'pain_type'
            AND (d.event_date = u.event_date OR d.source_id = u.source_id)
    )
    GROUP BY u.code
),
other_counting_statuses AS (
    SELECT 'status_value_counted' AS check_name, 'procedure' AS domain, s.status AS code,
        CAST(s.row_count - COALESCE(r.rejected, 0) AS BIGINT) AS row_count
    FROM procedures_summary AS s
    LEFT JOIN (
        SELECT status, COUNT(*) AS rejected
        FROM procedures_kept
        WHERE reject_reason IS NOT NULL
        GROUP BY status
    ) AS r ON r.status = s.status
    WHERE s.status IS NOT NULL
        AND s.status NOT IN (SELECT status FROM non_counting_statuses)
        AND s.row_count > COALESCE(r.rejected, 0)
),
unmatched_code_systems AS (
    SELECT 'diagnosis_code_system_without_value_sets' AS check_name, 'diagnosis' AS domain,
        s.code_system AS code, CAST(s.row_count - COALESCE(r.rejected, 0) AS BIGINT) AS row_count
    FROM diagnoses_summary AS s
    JOIN input_code_systems AS c ON c.code_system = s.code_system AND c.domain = 'diagnosis'
    LEFT JOIN (
        SELECT code_system, COUNT(DISTINCT src_row) AS rejected
        FROM diagnoses_kept
        WHERE reject_reason IS NOT NULL
        GROUP BY code_system
    ) AS r ON r.code_system = s.code_system
    WHERE c.match_system NOT IN (
            SELECT code_system FROM value_set_codes WHERE domain = 'diagnosis'
        )
        AND s.row_count > COALESCE(r.rejected, 0)
),
near_miss_index_codes AS (
    SELECT
        'near_miss_index_code_' || pattern AS check_name,
        'procedure' AS domain,
        meant_code AS code,
        CAST(SUM(row_count) AS BIGINT) AS row_count
    FROM near_miss_codes
    GROUP BY pattern, meant_code
)
SELECT check_name, domain, code, row_count FROM validity_codes
UNION ALL
SELECT check_name, domain, code, row_count FROM unlisted_with_spine_indication
UNION ALL
SELECT check_name, domain, code, row_count FROM other_counting_statuses
UNION ALL
SELECT check_name, domain, code, row_count FROM unmatched_code_systems
UNION ALL
SELECT check_name, domain, code, row_count FROM near_miss_index_codes
ORDER BY check_name, domain, code
