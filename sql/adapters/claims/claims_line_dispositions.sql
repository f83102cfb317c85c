-- claims_line_dispositions
-- Grain: one row per line of the claim-line file: whether its claim version is final or a
--   void, and why the line does not become a canonical procedure row (disposition), or null
--   when it does.
-- Implements: issue 4, claims adapter ("only the final version of a claim counts"), first rule
--   that applies: a line of a claim version that a later version of its chain supersedes:
--   superseded_claim_version; a line of a void (frequency 8) that is the last version of its
--   chain: voided_claim; an exact copy of an earlier line (every column equal): duplicate_line;
--   an institutional line without HCPCS (a revenue-code-only line such as pharmacy 0250):
--   facility_line_without_hcpcs. Among the remaining lines a reversal (negative units or
--   amount) cancels one positive line of the same member, date, HCPCS, modifiers, site and
--   claim type (reversal_line and reversed_line, paired in file order); a reversal with nothing
--   left to cancel is unmatched_reversal. Kept narrow on purpose: only lines sharing a line_key
--   are compared column by column, and only pair_keys holding a reversal are paired.
WITH line_versions AS (
    SELECT
        l.src_row,
        l.pair_key,
        l.is_negative,
        l.claim_kind,
        l.hcpcs,
        v.is_final,
        v.is_void
    FROM claims_lines AS l
    JOIN claims_versions AS v ON v.version_key = l.version_key
),
repeated_keys AS (
    SELECT line_key
    FROM claims_lines
    GROUP BY line_key
    HAVING COUNT(*) > 1
),
duplicate_copies AS (
    SELECT
        l.src_row,
        ROW_NUMBER() OVER (
            PARTITION BY
                l.member_id,
                l.claim_id,
                l.original_claim_id,
                l.line_number,
                l.claim_type,
                l.from_date,
                l.through_date,
                l.service_date,
                l.hcpcs,
                l.modifier_1,
                l.modifier_2,
                l.modifier_3,
                l.modifier_4,
                l.units,
                l.allowed_amount,
                l.paid_amount,
                l.place_of_service,
                l.billing_provider,
                l.rendering_provider,
                l.facility_id,
                l.frequency_code,
                l.bill_type,
                l.processed_date,
                l.line_status,
                l.denial_code,
                l.revenue_code,
                l.dx_version,
                l.principal_dx,
                l.dx1,
                l.dx2,
                l.dx3,
                l.dx4,
                l.dx5,
                l.dx6,
                l.dx7,
                l.dx8,
                l.dx9,
                l.dx10,
                l.dx11,
                l.dx12,
                l.dx13,
                l.dx14,
                l.dx15,
                l.dx16,
                l.dx17,
                l.dx18,
                l.dx19,
                l.dx20,
                l.dx21,
                l.dx22,
                l.dx23,
                l.dx24,
                l.dx25
            ORDER BY l.src_row
        ) AS copy_seq
    FROM claims_lines AS l
    JOIN repeated_keys AS k ON k.line_key = l.line_key
),
version_dispositions AS (
    SELECT
        v.src_row,
        v.pair_key,
        v.is_negative,
        v.is_final,
        v.is_void,
        CASE
            WHEN NOT v.is_final THEN 'superseded_claim_version'
            WHEN v.is_void THEN 'voided_claim'
            WHEN d.copy_seq > 1 THEN 'duplicate_line'
            WHEN v.claim_kind = 'institutional' AND v.hcpcs IS NULL
                THEN 'facility_line_without_hcpcs'
        END AS version_disposition
    FROM line_versions AS v
    LEFT JOIN duplicate_copies AS d ON d.src_row = v.src_row
),
reversal_keys AS (
    SELECT DISTINCT pair_key
    FROM version_dispositions
    WHERE version_disposition IS NULL AND is_negative
),
reversal_pairs AS (
    SELECT
        d.src_row,
        d.is_negative,
        ROW_NUMBER() OVER (
            PARTITION BY d.pair_key, d.is_negative ORDER BY d.src_row
        ) AS pair_seq,
        SUM(CASE WHEN d.is_negative THEN 1 ELSE 0 END) OVER (PARTITION BY d.pair_key)
            AS negative_lines,
        SUM(CASE WHEN d.is_negative THEN 0 ELSE 1 END) OVER (PARTITION BY d.pair_key)
            AS positive_lines
    FROM version_dispositions AS d
    JOIN reversal_keys AS k ON k.pair_key = d.pair_key
    WHERE d.version_disposition IS NULL
)
SELECT
    d.src_row,
    d.is_final,
    d.is_void,
    COALESCE(
        d.version_disposition,
        CASE
            WHEN p.is_negative AND p.pair_seq <= p.positive_lines THEN 'reversal_line'
            WHEN p.is_negative THEN 'unmatched_reversal'
            WHEN p.pair_seq <= p.negative_lines THEN 'reversed_line'
        END
    ) AS disposition
FROM version_dispositions AS d
LEFT JOIN reversal_pairs AS p ON p.src_row = d.src_row
