-- case_list
-- Grain: one row per discordant session of the audit period (patient x site x date x family).
-- Implements: issue 12 (a case list for clinical review, written only with --case-list, into
--   internal/: it holds patient ids): what decided the outcome (measure 3.5 rule 9: the
--   recommendation of the pack for the family and the pain type among the indications, first by
--   priority), the indication diagnoses (3.4) and the chronicity evidence (rule 7), with each
--   code's description from the pack's value sets, and the claim or encounter ids and the
--   providers that trace the session to its lines.
WITH discordant_sessions AS (
    SELECT
        patient_id,
        site_id,
        session_date,
        family,
        region,
        recommendation,
        pain_types,
        codes,
        indication_codes,
        allowed_amount,
        age,
        line_count,
        merged_families,
        chronic_evidence_code,
        chronic_evidence_date,
        history_start,
        source_ids,
        provider_ids,
        billing_provider_ids
    FROM session_outcomes
    WHERE outcome = 'discordant'
),
code_descriptions AS (
    SELECT v.domain, v.code, MIN(r.description) AS description
    FROM value_set_codes AS v
    JOIN pack_value_set_rows AS r ON r.value_set = v.value_set AND r.code = v.display_code
    GROUP BY v.domain, v.code
),
session_procedure_codes AS (
    SELECT patient_id, site_id, session_date, family, UNNEST(codes) AS code
    FROM discordant_sessions
),
procedure_descriptions AS (
    SELECT
        c.patient_id,
        c.site_id,
        c.session_date,
        c.family,
        LIST_SORT(LIST(c.code || ': ' || COALESCE(d.description, 'no description in the pack')))
            AS code_descriptions
    FROM session_procedure_codes AS c
    LEFT JOIN code_descriptions AS d ON d.domain = 'procedure' AND d.code = c.code
    GROUP BY c.patient_id, c.site_id, c.session_date, c.family
),
session_indication_codes AS (
    SELECT patient_id, site_id, session_date, family, UNNEST(indication_codes) AS code
    FROM discordant_sessions
),
indication_descriptions AS (
    SELECT
        c.patient_id,
        c.site_id,
        c.session_date,
        c.family,
        LIST_SORT(LIST(c.code || ': ' || COALESCE(d.description, 'no description in the pack')))
            AS indication_descriptions
    FROM session_indication_codes AS c
    LEFT JOIN code_descriptions AS d ON d.domain = 'diagnosis' AND d.code = c.code
    GROUP BY c.patient_id, c.site_id, c.session_date, c.family
),
deciding_recommendations AS (
    SELECT recommendation_id, family, MIN(pain_type) AS pain_type, MIN(summary) AS summary
    FROM pack_recommendations
    GROUP BY recommendation_id, family
)
SELECT
    s.patient_id,
    s.site_id,
    s.session_date,
    s.family,
    f.label AS family_label,
    s.recommendation,
    r.pain_type AS recommendation_pain_type,
    r.summary AS recommendation_summary,
    s.region,
    s.pain_types,
    s.codes,
    COALESCE(p.code_descriptions, []) AS code_descriptions,
    s.indication_codes,
    COALESCE(i.indication_descriptions, []) AS indication_descriptions,
    s.chronic_evidence_code,
    ce.description AS chronic_evidence_description,
    s.chronic_evidence_date,
    s.history_start,
    s.age,
    s.line_count,
    s.merged_families,
    s.allowed_amount,
    s.source_ids,
    s.provider_ids,
    s.billing_provider_ids
FROM discordant_sessions AS s
LEFT JOIN procedure_descriptions AS p
    ON p.patient_id = s.patient_id
    AND p.site_id = s.site_id
    AND p.session_date = s.session_date
    AND p.family = s.family
LEFT JOIN indication_descriptions AS i
    ON i.patient_id = s.patient_id
    AND i.site_id = s.site_id
    AND i.session_date = s.session_date
    AND i.family = s.family
LEFT JOIN deciding_recommendations AS r
    ON r.recommendation_id = s.recommendation AND r.family = s.family
LEFT JOIN pack_value_set_definitions AS f ON f.value_set = s.family
LEFT JOIN code_descriptions AS ce ON ce.domain = 'diagnosis' AND ce.code = s.chronic_evidence_code
ORDER BY s.site_id, s.session_date, s.patient_id, s.family
