-- site_attrition
-- Grain: one row per site x attrition step (whole audit period), for the sites with a
--   whole-period row in site_period_counts; step numbers the rows of a site from 1.
-- Implements: the attrition from all counting sessions down to discordant ones (measure 3.5,
--   rules 1-10, each session counted once under the first rule that applies), as OHDSI
--   Circe's inclusion-rule statistics: the steps, their order, rule numbers and labels come
--   from the pack (attrition_steps.csv; its out_of_population step becomes one step per row of
--   population_rules.csv in rule_order, then one per reason the pack does not list, by name).
--   Unsuppressed; disclosure control is applied before publication.
WITH whole_period_sites AS (
    SELECT
        site_id,
        sessions_total,
        sessions_clinical_trial,
        sessions_not_addressed,
        sessions_discordant
    FROM site_period_counts
    WHERE period_type = 'all'
),
reason_sessions AS (
    SELECT
        site_id,
        COALESCE(reason, 'unspecified') AS reason,
        SUM(sessions) AS sessions
    FROM site_outcome_counts
    WHERE period_type = 'all' AND outcome = 'out_of_population'
    GROUP BY site_id, COALESCE(reason, 'unspecified')
),
unlisted_reasons AS (
    -- reasons the pack does not list (a pack rule's reason misspelt, or none recorded)
    SELECT DISTINCT r.reason
    FROM reason_sessions AS r
    WHERE r.site_id IN (SELECT site_id FROM site_period_counts)
        AND r.reason NOT IN (SELECT p.reason FROM pack_population_rules AS p)
),
population_steps AS (
    SELECT
        p.rule_order AS reason_order,
        p.rule,
        p.reason,
        p.label
    FROM pack_population_rules AS p
    UNION ALL
    SELECT
        NULL AS reason_order,
        NULL AS rule,
        u.reason,
        REPLACE(u.reason, '_', ' ') AS label
    FROM unlisted_reasons AS u
),
expanded_steps AS (
    SELECT
        a.step_order,
        NULL AS reason_order,
        a.kind,
        a.rule,
        a.outcome,
        NULL AS reason,
        a.label
    FROM pack_attrition_steps AS a
    WHERE a.outcome <> 'out_of_population'
    UNION ALL
    SELECT
        a.step_order,
        p.reason_order,
        a.kind,
        p.rule,
        a.outcome,
        p.reason,
        a.label || ': ' || p.label AS label
    FROM pack_attrition_steps AS a
    CROSS JOIN population_steps AS p
    WHERE a.outcome = 'out_of_population'
),
site_steps AS (
    SELECT
        w.site_id,
        ROW_NUMBER() OVER (
            PARTITION BY w.site_id
            ORDER BY e.step_order, e.reason_order NULLS LAST, e.reason
        ) AS step,
        e.kind,
        e.rule,
        e.outcome,
        e.reason,
        e.label,
        CASE e.outcome
            WHEN 'all' THEN w.sessions_total
            WHEN 'out_of_population' THEN COALESCE(r.sessions, 0)
            WHEN 'in_population' THEN
                w.sessions_clinical_trial + w.sessions_not_addressed + w.sessions_discordant
            WHEN 'clinical_trial' THEN w.sessions_clinical_trial
            WHEN 'not_addressed' THEN w.sessions_not_addressed
            WHEN 'discordant' THEN w.sessions_discordant
        END AS sessions
    FROM whole_period_sites AS w
    CROSS JOIN expanded_steps AS e
    LEFT JOIN reason_sessions AS r ON r.site_id = w.site_id AND r.reason = e.reason
)
SELECT
    site_id,
    step,
    kind,
    rule,
    outcome,
    reason,
    label,
    CAST(sessions AS BIGINT) AS sessions
FROM site_steps
ORDER BY site_id, step
