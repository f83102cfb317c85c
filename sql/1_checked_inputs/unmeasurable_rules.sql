-- unmeasurable_rules
-- Grain: one row per recommendation x family of the pack that no procedure code can trigger.
-- Implements: issue 12 (honest rows): the pack's unmeasurable_recommendations.csv with its
--   validity dates as dates (the pack's definition check refuses a date that is not one, so a
--   mistyped valid_to never leaves the window open). Read by unmeasurable_possible_cases.
SELECT
    recommendation_id,
    family,
    possible_case_value_set,
    indication_value_set,
    TRY_CAST(valid_from AS DATE) AS valid_from,
    TRY_CAST(valid_to AS DATE) AS valid_to
FROM pack_unmeasurable_recommendations
