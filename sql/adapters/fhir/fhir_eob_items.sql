-- fhir_eob_items
-- Grain: one row per EOB item (a claim line), plus one row for each EOB line that holds no item
--   (unparseable, or without items): the unit the ExplanationOfBenefit file is reconciled in.
-- Implements: issue 4, FHIR adapter -> canonical procedures: code = the productOrService coding
--   of the best-ranked system (CPT/HCPCS first; data-absent-reason codings ignored); event_date
--   = servicedDate, else servicedPeriod.start, else billablePeriod.start; line_number =
--   sequence; modifiers = the first coding of modifier 1-4; units = quantity.value;
--   allowed_amount = the adjudication amounts of category eligible (CARIN: allowed) or
--   allowedamount. JSON numbers always use a decimal point: they are read as such
--   (docs/development.md "Reading values") and passed on in the notation of the run
--   (run_settings.decimal_comma), so the audit reads them back as they were; an amount or
--   quantity that is not a number is passed on as given, for the audit to quarantine
--   (invalid_number), never summed as zero. Status denied when an adjudication has category
--   denialreason. Not counted (disposition): every item of a claim disposed of in
--   fhir_eob_claims; claim_without_items; an institutional item with a revenue code but no
--   procedure code (facility_line_without_hcpcs); and, as for claim files, a negative item
--   (quantity or allowed amount) cancels one positive item of the same patient, date, code,
--   modifiers, site and claim type (reversal_line / reversed_line; unmatched_reversal).
WITH claim_items AS (
    SELECT src_file, src_row, UNNEST(items) AS it
    FROM fhir_eob_claims
),
numbered_items AS (
    SELECT
        src_file,
        src_row,
        it,
        ROW_NUMBER() OVER (
            PARTITION BY src_file, src_row ORDER BY TRY_CAST(it.sequence AS INTEGER), it.sequence
        ) AS item_key
    FROM claim_items
),
item_codings AS (
    SELECT src_file, src_row, item_key, UNNEST(it.productOrService.coding) AS coding
    FROM numbered_items
),
picked_codings AS (
    SELECT
        c.src_file,
        c.src_row,
        c.item_key,
        TRIM(c.coding.code) AS code,
        COALESCE(s.code_system, c.coding.system) AS code_system,
        ROW_NUMBER() OVER (
            PARTITION BY c.src_file, c.src_row, c.item_key
            ORDER BY COALESCE(s.procedure_rank, 99), c.coding.system, c.coding.code
        ) AS pick
    FROM item_codings AS c
    LEFT JOIN fhir_code_systems AS s ON s.system_uri = c.coding.system
    WHERE NULLIF(TRIM(c.coding.code), '') IS NOT NULL
        AND COALESCE(c.coding.system, '')
            <> 'http://terminology.hl7.org/CodeSystem/data-absent-reason'
),
item_adjudications AS (
    SELECT src_file, src_row, item_key, UNNEST(it.adjudication) AS adj
    FROM numbered_items
),
read_amounts AS (
    SELECT
        src_file,
        src_row,
        item_key,
        LOWER(adj.category.coding[1].code) AS category,
        CASE
            WHEN NOT REGEXP_MATCHES(COALESCE(adj.amount.value, ''), '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$')
                THEN adj.amount.value
        END AS amount_text,
        TRY_CAST(REPLACE(REGEXP_EXTRACT(adj.amount.value, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?)[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), ',', '') AS DECIMAL(18, 2))
            AS amount
    FROM item_adjudications
),
item_amounts AS (
    SELECT
        src_file,
        src_row,
        item_key,
        SUM(amount) FILTER (WHERE category IN ('eligible', 'allowedamount')) AS allowed_amount,
        MIN(amount_text) FILTER (
            WHERE category IN ('eligible', 'allowedamount')
                AND amount_text IS NOT NULL
                AND amount IS NULL
        ) AS allowed_amount_unread,
        MAX(CASE WHEN category = 'denialreason' THEN 1 ELSE 0 END) AS denied
    FROM read_amounts
    GROUP BY src_file, src_row, item_key
),
claim_units AS (
    SELECT
        c.src_file,
        c.src_row,
        i.item_key,
        c.claim_id,
        c.patient_id,
        c.claim_type,
        c.site_id,
        c.provider_id,
        c.billing_provider_id,
        c.claim_disposition,
        SUBSTRING(
            COALESCE(
                NULLIF(TRIM(i.it.servicedDate), ''),
                NULLIF(TRIM(i.it.servicedPeriod.start), ''),
                c.billable_start
            ),
            1,
            10
        ) AS event_date,
        NULLIF(TRIM(i.it.sequence), '') AS line_number,
        NULLIF(
            CONCAT_WS(
                ',',
                i.it.modifier[1].coding[1].code,
                i.it.modifier[2].coding[1].code,
                i.it.modifier[3].coding[1].code,
                i.it.modifier[4].coding[1].code
            ),
            ''
        ) AS modifiers,
        NULLIF(TRIM(i.it.quantity.value), '') AS units_text,
        TRY_CAST(REPLACE(REGEXP_EXTRACT(i.it.quantity.value, '^[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*([+-]?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?)[\t-\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200b}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]*$', 1), ',', '') AS DOUBLE)
            AS units,
        NULLIF(TRIM(i.it.revenue.coding[1].code), '') AS revenue_code,
        p.code,
        p.code_system,
        a.allowed_amount,
        a.allowed_amount_unread,
        COALESCE(a.denied, 0) AS denied
    FROM fhir_eob_claims AS c
    LEFT JOIN numbered_items AS i ON i.src_file = c.src_file AND i.src_row = c.src_row
    LEFT JOIN picked_codings AS p
        ON p.src_file = i.src_file AND p.src_row = i.src_row AND p.item_key = i.item_key
        AND p.pick = 1
    LEFT JOIN item_amounts AS a
        ON a.src_file = i.src_file AND a.src_row = i.src_row AND a.item_key = i.item_key
),
judged_units AS (
    SELECT
        *,
        COALESCE(units < 0 OR (allowed_amount_unread IS NULL AND allowed_amount < 0), FALSE)
            AS is_negative,
        COALESCE(
            claim_disposition,
            CASE
                WHEN item_key IS NULL THEN 'claim_without_items'
                WHEN code IS NULL AND revenue_code IS NOT NULL AND claim_type = 'institutional'
                    THEN 'facility_line_without_hcpcs'
            END
        ) AS unit_disposition
    FROM claim_units
),
reversal_pairs AS (
    SELECT
        src_file,
        src_row,
        item_key,
        is_negative,
        ROW_NUMBER() OVER (
            PARTITION BY patient_id, event_date, code, modifiers, site_id, claim_type, is_negative
            ORDER BY src_file, src_row, item_key
        ) AS pair_seq,
        SUM(CASE WHEN is_negative THEN 1 ELSE 0 END) OVER (
            PARTITION BY patient_id, event_date, code, modifiers, site_id, claim_type
        ) AS negative_items,
        SUM(CASE WHEN is_negative THEN 0 ELSE 1 END) OVER (
            PARTITION BY patient_id, event_date, code, modifiers, site_id, claim_type
        ) AS positive_items
    FROM judged_units
    WHERE unit_disposition IS NULL
)
SELECT
    u.src_file,
    u.src_row,
    u.item_key,
    u.patient_id,
    u.event_date,
    u.code,
    u.code_system,
    u.site_id,
    u.claim_id AS source_id,
    u.line_number,
    u.modifiers,
    CASE
        WHEN u.units IS NOT NULL AND r.decimal_comma THEN REPLACE(CAST(u.units AS VARCHAR), '.', ',')
        ELSE u.units_text
    END AS units,
    CASE
        WHEN u.allowed_amount_unread IS NOT NULL THEN u.allowed_amount_unread
        WHEN r.decimal_comma THEN REPLACE(CAST(u.allowed_amount AS VARCHAR), '.', ',')
        ELSE CAST(u.allowed_amount AS VARCHAR)
    END AS allowed_amount,
    CASE WHEN u.denied = 1 THEN 'denied' END AS status,
    u.provider_id,
    u.billing_provider_id,
    COALESCE(
        u.unit_disposition,
        CASE
            WHEN p.is_negative AND p.pair_seq <= p.positive_items THEN 'reversal_line'
            WHEN p.is_negative THEN 'unmatched_reversal'
            WHEN p.pair_seq <= p.negative_items THEN 'reversed_line'
        END
    ) AS disposition
FROM judged_units AS u
CROSS JOIN run_settings AS r
LEFT JOIN reversal_pairs AS p
    ON p.src_file = u.src_file AND p.src_row = u.src_row AND p.item_key = u.item_key
ORDER BY u.src_file, u.src_row, u.item_key
