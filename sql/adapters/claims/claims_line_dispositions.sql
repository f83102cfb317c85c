-- claims_line_dispositions
-- Grain: one row per line of the claim-line file, with why it does not become a canonical
--   procedure row (disposition), or null when it does.
-- Implements: issue 4, claims adapter ("only the final version of a claim counts"), first rule
--   that applies: a line of a claim version that a later version of its chain supersedes:
--   superseded_claim_version; a line of a void (frequency 8) that is the last version of its
--   chain: voided_claim; an exact copy of an earlier line (every column equal): duplicate_line;
--   an institutional line without HCPCS (a revenue-code-only line such as pharmacy 0250):
--   facility_line_without_hcpcs. Among the remaining lines a reversal (negative units or
--   amount) cancels one positive line of the same member, date, HCPCS, modifiers, site and
--   claim type (reversal_line and reversed_line, paired in file order); a reversal with nothing
--   left to cancel is unmatched_reversal.
WITH versioned_lines AS (
    SELECT
        l.*,
        v.chain_key,
        v.is_final,
        v.is_void,
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
    JOIN claims_versions AS v ON v.version_key = l.version_key
),
version_dispositions AS (
    SELECT
        *,
        CASE
            WHEN NOT is_final THEN 'superseded_claim_version'
            WHEN is_void THEN 'voided_claim'
            WHEN copy_seq > 1 THEN 'duplicate_line'
            WHEN claim_kind = 'institutional' AND hcpcs IS NULL THEN 'facility_line_without_hcpcs'
        END AS version_disposition
    FROM versioned_lines
),
reversal_pairs AS (
    SELECT
        src_row,
        is_negative,
        ROW_NUMBER() OVER (
            PARTITION BY member_id, event_date, hcpcs, modifiers, site_id, claim_kind, is_negative
            ORDER BY src_row
        ) AS pair_seq,
        SUM(CASE WHEN is_negative THEN 1 ELSE 0 END) OVER (
            PARTITION BY member_id, event_date, hcpcs, modifiers, site_id, claim_kind
        ) AS negative_lines,
        SUM(CASE WHEN is_negative THEN 0 ELSE 1 END) OVER (
            PARTITION BY member_id, event_date, hcpcs, modifiers, site_id, claim_kind
        ) AS positive_lines
    FROM version_dispositions
    WHERE version_disposition IS NULL
)
SELECT
    d.src_row,
    d.claim_key,
    d.claim_id,
    d.member_id,
    d.event_date,
    d.from_date,
    d.service_date,
    d.hcpcs,
    d.modifiers,
    d.units,
    d.allowed_amount,
    d.site_id,
    d.line_number,
    d.status,
    d.rendering_provider,
    d.claim_kind,
    d.dx_version,
    d.principal_dx,
    d.dx1,
    d.dx2,
    d.dx3,
    d.dx4,
    d.dx5,
    d.dx6,
    d.dx7,
    d.dx8,
    d.dx9,
    d.dx10,
    d.dx11,
    d.dx12,
    d.dx13,
    d.dx14,
    d.dx15,
    d.dx16,
    d.dx17,
    d.dx18,
    d.dx19,
    d.dx20,
    d.dx21,
    d.dx22,
    d.dx23,
    d.dx24,
    d.dx25,
    d.chain_key,
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
ORDER BY d.src_row
