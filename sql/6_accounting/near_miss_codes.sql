-- near_miss_codes
-- Grain: one row per status x code x code system as written (procedure_values) of counting
--   procedure lines whose code matches no procedure value set of the pack but looks like one of
--   its index procedure codes, with the pattern, the index code it probably meant and the
--   number of lines.
-- Implements: "values are never guessed" (issue 10): a lost index session must be visible, not
--   silently reclassified. Such lines stay unmatched (they count as other procedures); this
--   table only names them for the data-quality table and the gate (near_miss_index_codes).
--   The patterns are derived from the pack's index codes (value sets of role family), never
--   from codes written here:
--     modifier_suffix    the index code followed by modifiers (62321-50, 62321RT, 64493-50-LT)
--     lost_leading_zero  the index code without its leading zeros (213T for 0213T)
--     full_width         the index code in full-width characters (６２３２１), alone or with one
--                        of the patterns above
--     other_code_system  an index code of another code system (62321 sent as ICD10PCS)
--   Codes and code systems are those of input_codes, as procedures_checked reads them.
WITH counting_values AS (
    SELECT v.status_raw, v.code AS code_raw, v.code_system AS code_system_raw, v.row_count
    FROM procedure_values AS v
    WHERE v.status IS NULL OR v.status NOT IN (SELECT status FROM non_counting_statuses)
),
unmatched_codes AS (
    SELECT
        v.status_raw,
        v.code_raw,
        v.code_system_raw,
        v.row_count,
        c.code,
        c.match_system,
        TRANSLATE(
            c.code,
            '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ－',
            '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-'
        ) AS ascii_code
    FROM counting_values AS v
    JOIN input_codes AS c
        ON c.domain = 'procedure'
        AND c.code_raw IS NOT DISTINCT FROM v.code_raw
        AND c.code_system_raw IS NOT DISTINCT FROM v.code_system_raw
    WHERE c.code IS NOT NULL
        AND c.match_system IS NOT NULL
        AND NOT EXISTS (
            SELECT 1
            FROM value_set_codes AS s
            WHERE s.domain = 'procedure' AND s.code_system = c.match_system AND s.code = c.code
        )
),
index_codes AS (
    SELECT DISTINCT code_system, code, display_code
    FROM value_set_codes
    WHERE domain = 'procedure' AND role = 'family'
),
near_misses AS (
    SELECT
        u.status_raw,
        u.code_raw,
        u.code_system_raw,
        u.row_count,
        CASE
            WHEN u.ascii_code <> u.code THEN 'full_width'
            WHEN i.code_system <> u.match_system THEN 'other_code_system'
            WHEN LENGTH(u.ascii_code) < LENGTH(i.code) THEN 'lost_leading_zero'
            ELSE 'modifier_suffix'
        END AS pattern,
        i.display_code AS meant_code,
        i.code_system AS meant_code_system,
        ROW_NUMBER() OVER (
            PARTITION BY u.status_raw, u.code_raw, u.code_system_raw
            ORDER BY
                CASE WHEN i.code_system = u.match_system THEN 0 ELSE 1 END,
                LENGTH(i.code) DESC,
                i.code_system,
                i.code
        ) AS pick
    FROM unmatched_codes AS u
    JOIN index_codes AS i
        ON (
            i.code_system = u.match_system
            AND (
                u.ascii_code = i.code
                OR (i.code LIKE '0%' AND u.ascii_code = LTRIM(i.code, '0'))
                OR (
                    u.ascii_code LIKE i.code || '%'
                    AND REGEXP_MATCHES(SUBSTRING(u.ascii_code, LENGTH(i.code) + 1), '^(-?[A-Z0-9]{2})+$')
                )
            )
        )
        OR (i.code_system <> u.match_system AND u.ascii_code = i.code)
)
SELECT
    status_raw,
    code_raw,
    code_system_raw,
    pattern,
    meant_code,
    meant_code_system,
    row_count
FROM near_misses
WHERE pick = 1
ORDER BY pattern, meant_code, code_raw, code_system_raw, status_raw
