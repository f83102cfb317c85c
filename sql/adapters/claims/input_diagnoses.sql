-- input_diagnoses
-- Grain: one row per distinct diagnosis code (dot, blanks and case ignored) per claim, over the
--   final, not voided, claim versions.
-- Implements: issue 4, claims adapter: diagnoses come from the principal and dx1..dx25 columns
--   of the final claim versions only (a superseded or voided claim's codes are not evidence);
--   one row per non-empty column, deduplicated per claim; event_date = the claim's from date
--   (its earliest line date when no from date); source_id = claim id, so lines and codes of one
--   claim link (measure 3.4); site_id as on the claim's first line; code_system ICD9CM when the
--   claim's dx_version is 9, else ICD10CM. src_row = the first line carrying the code.
WITH final_lines AS (
    SELECT
        l.src_row, l.claim_key, l.claim_id, l.member_id, l.from_date, l.event_date, l.site_id,
        l.dx_version, l.principal_dx,
        l.dx1, l.dx2, l.dx3, l.dx4, l.dx5, l.dx6, l.dx7, l.dx8, l.dx9, l.dx10, l.dx11, l.dx12,
        l.dx13, l.dx14, l.dx15, l.dx16, l.dx17, l.dx18, l.dx19, l.dx20, l.dx21, l.dx22, l.dx23,
        l.dx24, l.dx25
    FROM claims_lines AS l
    JOIN claims_line_dispositions AS d ON d.src_row = l.src_row
    WHERE d.is_final AND NOT d.is_void
),
claim_headers AS (
    SELECT
        claim_key,
        ARG_MIN(claim_id, src_row) AS claim_id,
        ARG_MIN(member_id, src_row) AS member_id,
        MIN(COALESCE(from_date, event_date)) AS claim_date,
        ARG_MIN(site_id, src_row) AS site_id,
        ARG_MIN(dx_version, src_row) AS dx_version
    FROM final_lines
    GROUP BY claim_key
),
claim_dx_sets AS (
    SELECT
        claim_key,
        MIN(src_row) AS src_row,
        principal_dx,
        dx1, dx2, dx3, dx4, dx5, dx6, dx7, dx8, dx9, dx10, dx11, dx12, dx13, dx14, dx15, dx16,
        dx17, dx18, dx19, dx20, dx21, dx22, dx23, dx24, dx25
    FROM final_lines
    GROUP BY
        claim_key,
        principal_dx,
        dx1, dx2, dx3, dx4, dx5, dx6, dx7, dx8, dx9, dx10, dx11, dx12, dx13, dx14, dx15, dx16,
        dx17, dx18, dx19, dx20, dx21, dx22, dx23, dx24, dx25
),
claim_dx AS (
    SELECT claim_key, src_row, dx_position, code
    FROM claim_dx_sets
    UNPIVOT (code FOR dx_position IN (
        principal_dx,
        dx1, dx2, dx3, dx4, dx5, dx6, dx7, dx8, dx9, dx10, dx11, dx12, dx13, dx14, dx15, dx16,
        dx17, dx18, dx19, dx20, dx21, dx22, dx23, dx24, dx25
    ))
),
ranked_dx AS (
    SELECT
        d.src_row,
        h.member_id,
        h.claim_date,
        d.code,
        h.dx_version,
        h.claim_id,
        h.site_id,
        ROW_NUMBER() OVER (
            PARTITION BY d.claim_key, UPPER(REPLACE(REPLACE(d.code, '.', ''), ' ', ''))
            ORDER BY d.src_row, d.dx_position
        ) AS code_seq
    FROM claim_dx AS d
    JOIN claim_headers AS h ON h.claim_key = d.claim_key
    WHERE d.code IS NOT NULL
)
SELECT
    CAST(src_row AS BIGINT) AS src_row,
    member_id AS patient_id,
    claim_date AS event_date,
    code,
    CASE WHEN dx_version = '9' THEN 'ICD9CM' ELSE 'ICD10CM' END AS code_system,
    claim_id AS source_id,
    site_id
FROM ranked_dx
WHERE code_seq = 1
ORDER BY src_row, code
