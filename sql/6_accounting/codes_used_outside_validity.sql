-- codes_used_outside_validity
-- Grain: one row per accepted kept row (diagnosis row x value set, procedure line x value set)
--   whose code is used on a date outside its validity in the pack.
-- Implements: dated validity of value-set codes (measure spec 4; valid_from / valid_to in the
--   pack): a retired code used after its valid_to, or a new code used before its valid_from.
--   The row still classifies; it is reported, by the data-quality counts (data_quality: index
--   lines and value-set diagnoses) and by the gate's check codes_outside_validity (every kept
--   row). The one place the comparison is written.
WITH kept_rows AS (
    SELECT
        'diagnosis' AS domain,
        src_row,
        code,
        event_date,
        valid_from,
        valid_to,
        FALSE AS index_line
    FROM diagnoses_kept
    WHERE reject_reason IS NULL
    UNION ALL
    SELECT
        'procedure' AS domain,
        src_row,
        code,
        event_date,
        valid_from,
        valid_to,
        counts AND role = 'family' AS index_line
    FROM procedures_kept
    WHERE reject_reason IS NULL
)
SELECT
    domain,
    src_row,
    code,
    event_date,
    valid_from,
    valid_to,
    COALESCE(event_date > valid_to, FALSE) AS used_after_valid_to,
    COALESCE(event_date < valid_from, FALSE) AS used_before_valid_from,
    index_line
FROM kept_rows
WHERE event_date > valid_to OR event_date < valid_from
