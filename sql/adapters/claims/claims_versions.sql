-- claims_versions
-- Grain: one row per claim version (claim id x frequency code x processed date).
-- Implements: issue 4, claims adapter: versions of one claim form a chain. A claim joins the
--   chain of the claim its original_claim_id names (followed for up to three links, so a
--   replacement may name the original or the version it replaces); a replacement or void that
--   reuses the claim id is a new version of that claim. The final version of a chain is the
--   one furthest down the links, then with the latest processed date, then replacement (7)
--   after original and void (8) after both, then the latest in the file. A chain whose final
--   version has frequency 8 is voided. A processed date is read as the audit reads dates
--   (docs/development.md "Reading values"): a word such as epoch is no date and sorts last.
WITH claim_links AS (
    SELECT
        claim_key,
        MIN(CASE WHEN original_claim_id <> claim_key THEN original_claim_id END) AS parent_key
    FROM claims_lines
    GROUP BY claim_key
),
claim_chains AS (
    SELECT
        l1.claim_key,
        COALESCE(l3.parent_key, l2.parent_key, l1.parent_key, l1.claim_key) AS chain_key,
        CASE
            WHEN l1.parent_key IS NULL THEN 0
            WHEN l2.parent_key IS NULL THEN 1
            WHEN l3.parent_key IS NULL THEN 2
            ELSE 3
        END AS chain_depth
    FROM claim_links AS l1
    LEFT JOIN claim_links AS l2 ON l2.claim_key = l1.parent_key
    LEFT JOIN claim_links AS l3 ON l3.claim_key = l2.parent_key
),
claim_version_rows AS (
    SELECT
        version_key,
        claim_key,
        frequency,
        processed_date,
        MIN(src_row) AS first_row,
        COUNT(*) AS line_count
    FROM claims_lines
    GROUP BY version_key, claim_key, frequency, processed_date
),
ranked_versions AS (
    SELECT
        v.version_key,
        v.claim_key,
        v.frequency,
        v.processed_date,
        v.first_row,
        v.line_count,
        c.chain_key,
        c.chain_depth,
        ROW_NUMBER() OVER (
            PARTITION BY c.chain_key
            ORDER BY
                c.chain_depth DESC,
                TRY_CAST(REGEXP_EXTRACT(v.processed_date, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1) AS DATE) DESC NULLS LAST,
                CASE v.frequency WHEN '8' THEN 2 WHEN '7' THEN 1 ELSE 0 END DESC,
                v.first_row DESC
        ) AS version_rank,
        COUNT(*) OVER (PARTITION BY c.chain_key) AS versions_in_chain
    FROM claim_version_rows AS v
    JOIN claim_chains AS c ON c.claim_key = v.claim_key
)
SELECT
    version_key,
    claim_key,
    frequency,
    processed_date,
    first_row,
    line_count,
    chain_key,
    chain_depth,
    version_rank,
    versions_in_chain,
    version_rank = 1 AS is_final,
    COALESCE(frequency = '8', FALSE) AS is_void
FROM ranked_versions
ORDER BY chain_key, version_rank
