-- claims_lines
-- Grain: one row per line of the claim-line file (every source row; nothing is dropped here).
-- Implements: issue 4, claims adapter: cells trimmed, empty cells null; codes and ids stay text
--   (leading zeros kept); dates written YYYYMMDD or with a time part become YYYY-MM-DD; a line's
--   date is its service date, else the claim's from date; modifiers 1-4 joined with commas; the
--   claim frequency is the frequency code, else the last digit of the type of bill (0131 -> 1);
--   the site is the facility id when the line carries one, else the billing provider, so the
--   professional and the facility claim of one procedure share a site; status is 'denied' when
--   a denial code is present or the line status is D, else the line status as given; a line
--   whose units or amounts are negative is a reversal. Lines without a claim id are each their
--   own claim. line_key (claim version, line number, HCPCS, date, modifiers) narrows the search
--   for exact duplicates; pair_key (member, date, HCPCS, modifiers, site, claim type) is what a
--   reversal must share with the line it cancels.
WITH trimmed_lines AS (
    SELECT
        src_row,
        NULLIF(TRIM(member_id), '') AS member_id,
        NULLIF(TRIM(claim_id), '') AS claim_id,
        NULLIF(TRIM(original_claim_id), '') AS original_claim_id,
        NULLIF(TRIM(line_number), '') AS line_number,
        NULLIF(TRIM(claim_type), '') AS claim_type,
        NULLIF(TRIM(from_date), '') AS from_date,
        NULLIF(TRIM(through_date), '') AS through_date,
        NULLIF(TRIM(service_date), '') AS service_date,
        NULLIF(TRIM(hcpcs), '') AS hcpcs,
        NULLIF(TRIM(modifier_1), '') AS modifier_1,
        NULLIF(TRIM(modifier_2), '') AS modifier_2,
        NULLIF(TRIM(modifier_3), '') AS modifier_3,
        NULLIF(TRIM(modifier_4), '') AS modifier_4,
        NULLIF(TRIM(units), '') AS units,
        NULLIF(TRIM(allowed_amount), '') AS allowed_amount,
        NULLIF(TRIM(paid_amount), '') AS paid_amount,
        NULLIF(TRIM(place_of_service), '') AS place_of_service,
        NULLIF(TRIM(billing_provider), '') AS billing_provider,
        NULLIF(TRIM(rendering_provider), '') AS rendering_provider,
        NULLIF(TRIM(facility_id), '') AS facility_id,
        NULLIF(TRIM(frequency_code), '') AS frequency_code,
        NULLIF(TRIM(bill_type), '') AS bill_type,
        NULLIF(TRIM(processed_date), '') AS processed_date,
        NULLIF(TRIM(line_status), '') AS line_status,
        NULLIF(TRIM(denial_code), '') AS denial_code,
        NULLIF(TRIM(revenue_code), '') AS revenue_code,
        NULLIF(TRIM(dx_version), '') AS dx_version,
        NULLIF(TRIM(principal_dx), '') AS principal_dx,
        NULLIF(TRIM(dx1), '') AS dx1,
        NULLIF(TRIM(dx2), '') AS dx2,
        NULLIF(TRIM(dx3), '') AS dx3,
        NULLIF(TRIM(dx4), '') AS dx4,
        NULLIF(TRIM(dx5), '') AS dx5,
        NULLIF(TRIM(dx6), '') AS dx6,
        NULLIF(TRIM(dx7), '') AS dx7,
        NULLIF(TRIM(dx8), '') AS dx8,
        NULLIF(TRIM(dx9), '') AS dx9,
        NULLIF(TRIM(dx10), '') AS dx10,
        NULLIF(TRIM(dx11), '') AS dx11,
        NULLIF(TRIM(dx12), '') AS dx12,
        NULLIF(TRIM(dx13), '') AS dx13,
        NULLIF(TRIM(dx14), '') AS dx14,
        NULLIF(TRIM(dx15), '') AS dx15,
        NULLIF(TRIM(dx16), '') AS dx16,
        NULLIF(TRIM(dx17), '') AS dx17,
        NULLIF(TRIM(dx18), '') AS dx18,
        NULLIF(TRIM(dx19), '') AS dx19,
        NULLIF(TRIM(dx20), '') AS dx20,
        NULLIF(TRIM(dx21), '') AS dx21,
        NULLIF(TRIM(dx22), '') AS dx22,
        NULLIF(TRIM(dx23), '') AS dx23,
        NULLIF(TRIM(dx24), '') AS dx24,
        NULLIF(TRIM(dx25), '') AS dx25
    FROM adapter_src_claims
),
typed_lines AS (
    SELECT
        t.*,
        CASE
            WHEN LOWER(t.claim_type) IN (
                'institutional', 'inst', 'i', '837i', 'facility', 'ub04', 'ub-04', 'outpatient',
                'inpatient'
            ) THEN 'institutional'
            WHEN LOWER(t.claim_type) IN (
                'professional', 'prof', 'p', '837p', 'cms1500', 'cms-1500', 'carrier'
            ) THEN 'professional'
            WHEN t.claim_type IS NULL AND t.bill_type IS NOT NULL THEN 'institutional'
            WHEN t.claim_type IS NULL THEN 'professional'
            ELSE LOWER(t.claim_type)
        END AS claim_kind,
        COALESCE(t.frequency_code, RIGHT(t.bill_type, 1)) AS frequency,
        REPLACE(REPLACE(REPLACE(t.units, '$', ''), ',', ''), ' ', '') AS units_clean,
        REPLACE(REPLACE(REPLACE(t.allowed_amount, '$', ''), ',', ''), ' ', '') AS allowed_clean,
        REPLACE(REPLACE(REPLACE(t.paid_amount, '$', ''), ',', ''), ' ', '') AS paid_clean,
        CASE
            WHEN REGEXP_MATCHES(t.from_date, '^[0-9]{8}$')
                THEN SUBSTRING(t.from_date, 1, 4) || '-' || SUBSTRING(t.from_date, 5, 2) || '-'
                    || SUBSTRING(t.from_date, 7, 2)
            WHEN REGEXP_MATCHES(t.from_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]')
                THEN SUBSTRING(t.from_date, 1, 10)
            ELSE t.from_date
        END AS from_day,
        CASE
            WHEN REGEXP_MATCHES(t.through_date, '^[0-9]{8}$')
                THEN SUBSTRING(t.through_date, 1, 4) || '-'
                    || SUBSTRING(t.through_date, 5, 2) || '-'
                    || SUBSTRING(t.through_date, 7, 2)
            WHEN REGEXP_MATCHES(t.through_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]')
                THEN SUBSTRING(t.through_date, 1, 10)
            ELSE t.through_date
        END AS through_day,
        CASE
            WHEN REGEXP_MATCHES(t.service_date, '^[0-9]{8}$')
                THEN SUBSTRING(t.service_date, 1, 4) || '-'
                    || SUBSTRING(t.service_date, 5, 2) || '-'
                    || SUBSTRING(t.service_date, 7, 2)
            WHEN REGEXP_MATCHES(t.service_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]')
                THEN SUBSTRING(t.service_date, 1, 10)
            ELSE t.service_date
        END AS service_day,
        CASE
            WHEN REGEXP_MATCHES(t.processed_date, '^[0-9]{8}$')
                THEN SUBSTRING(t.processed_date, 1, 4) || '-'
                    || SUBSTRING(t.processed_date, 5, 2) || '-'
                    || SUBSTRING(t.processed_date, 7, 2)
            WHEN REGEXP_MATCHES(t.processed_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]')
                THEN SUBSTRING(t.processed_date, 1, 10)
            ELSE t.processed_date
        END AS processed_day
    FROM trimmed_lines AS t
)
SELECT
    src_row,
    COALESCE(claim_id, '(no claim id) row ' || CAST(src_row AS VARCHAR)) AS claim_key,
    COALESCE(claim_id, '(no claim id) row ' || CAST(src_row AS VARCHAR)) || '|'
        || COALESCE(frequency, '') || '|' || COALESCE(processed_day, '') AS version_key,
    member_id,
    claim_id,
    original_claim_id,
    line_number,
    claim_type,
    claim_kind,
    from_day AS from_date,
    through_day AS through_date,
    service_day AS service_date,
    COALESCE(service_day, from_day) AS event_date,
    hcpcs,
    modifier_1,
    modifier_2,
    modifier_3,
    modifier_4,
    NULLIF(CONCAT_WS(',', modifier_1, modifier_2, modifier_3, modifier_4), '') AS modifiers,
    units,
    allowed_amount,
    paid_amount,
    place_of_service,
    billing_provider,
    rendering_provider,
    facility_id,
    COALESCE(facility_id, billing_provider) AS site_id,
    frequency_code,
    bill_type,
    frequency,
    processed_day AS processed_date,
    CONCAT_WS(
        CHR(31),
        COALESCE(claim_id, '(no claim id) row ' || CAST(src_row AS VARCHAR)),
        COALESCE(frequency, ''),
        COALESCE(processed_day, ''),
        COALESCE(line_number, ''),
        COALESCE(hcpcs, ''),
        COALESCE(service_day, from_day, ''),
        COALESCE(CONCAT_WS(',', modifier_1, modifier_2, modifier_3, modifier_4), '')
    ) AS line_key,
    CONCAT_WS(
        CHR(31),
        COALESCE(member_id, ''),
        COALESCE(service_day, from_day, ''),
        COALESCE(hcpcs, ''),
        COALESCE(CONCAT_WS(',', modifier_1, modifier_2, modifier_3, modifier_4), ''),
        COALESCE(facility_id, billing_provider, ''),
        claim_kind
    ) AS pair_key,
    line_status,
    denial_code,
    CASE
        WHEN denial_code IS NOT NULL THEN 'denied'
        WHEN UPPER(line_status) = 'D' THEN 'denied'
        ELSE line_status
    END AS status,
    revenue_code,
    dx_version,
    principal_dx,
    dx1,
    dx2,
    dx3,
    dx4,
    dx5,
    dx6,
    dx7,
    dx8,
    dx9,
    dx10,
    dx11,
    dx12,
    dx13,
    dx14,
    dx15,
    dx16,
    dx17,
    dx18,
    dx19,
    dx20,
    dx21,
    dx22,
    dx23,
    dx24,
    dx25,
    COALESCE(
        TRY_CAST(units_clean AS DOUBLE) < 0 OR units_clean LIKE '(%)'
        OR TRY_CAST(allowed_clean AS DOUBLE) < 0 OR allowed_clean LIKE '(%)'
        OR TRY_CAST(paid_clean AS DOUBLE) < 0 OR paid_clean LIKE '(%)',
        FALSE
    ) AS is_negative
FROM typed_lines
