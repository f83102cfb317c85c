-- check: codes_outside_validity
-- kind: plausibility
-- severity: warn
-- tables: diagnoses, procedures
-- description: A value-set code is used on a date outside its validity (valid_from / valid_to in
--   the pack): a retired code after retirement (M54.5 after 2021-09-30, 62311 after 2016) or a
--   new code before it existed. The row still classifies; a code used long before it existed
--   usually means a shifted or wrong date.
SELECT DISTINCT
    CASE WHEN domain = 'diagnosis' THEN 'diagnoses' ELSE 'procedures' END AS table_name,
    src_row AS row_number,
    'code' AS column_name,
    code AS value,
    CASE
        WHEN used_after_valid_to THEN 'used after valid_to ' || CAST(valid_to AS VARCHAR)
        ELSE 'used before valid_from ' || CAST(valid_from AS VARCHAR)
    END AS detail
FROM codes_used_outside_validity
