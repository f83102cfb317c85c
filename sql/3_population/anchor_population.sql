-- anchor_population
-- Grain: one row per session anchor, with the first of rules 1-7 that takes it out of the
--   population (null when it stays in), and one row per visit anchor that stays in (a visit kept
--   out is never read again: measure 3.6 counts in-population visits only, and at 100M input
--   rows 45% of the visits are out, so they are not written).
-- Implements: measure spec 3.5 rules 1-7 in their order: 1 age under the pack's minimum age
--   (whole years on the anchor date; birth_year alone counts from 1 July), 2 age unknown,
--   3 no AXIAL or RADICULAR indication (sessions only: a visit is one by construction),
--   4-6 the pack's exclusion rules (value set, window in days before the anchor date, switch),
--   7 chronicity: an AXIAL or RADICULAR diagnosis from $lookback_days to $chronic_days days
--   before, or a chronic-pain code among the indications; otherwise insufficient_history when the
--   history starts fewer than $chronic_days days before, else acute. History starts at the
--   coverage span holding the date; for a patient with coverage rows but none holding the date,
--   at the date itself (nothing before it is observed); for a patient without coverage rows, at
--   the first record of any kind. 3.6 reads the visits that stay in (rules 1, 2, 4-7 at their
--   date); a visit's history start is never looked up (a visit is only in or out).
WITH anchor_ages AS (
    -- age in whole years on the anchor date
    SELECT
        a.anchor_id,
        a.anchor_type,
        a.patient_id,
        a.site_id,
        a.anchor_date,
        a.family,
        a.in_audit_period,
        YEAR(a.anchor_date) - YEAR(g.birth_date)
            - CASE
                WHEN MONTH(a.anchor_date) < MONTH(g.birth_date) THEN 1
                WHEN MONTH(a.anchor_date) = MONTH(g.birth_date)
                    AND DAY(a.anchor_date) < DAY(g.birth_date) THEN 1
                ELSE 0
            END AS age
    FROM anchors AS a
    LEFT JOIN (
        SELECT patient_id, COALESCE(birth_date, MAKE_DATE(birth_year, 7, 1)) AS birth_date
        FROM patients_checked
        WHERE reject_reason IS NULL
    ) AS g ON g.patient_id = a.patient_id
),
session_patients_with_coverage AS (
    SELECT DISTINCT s.patient_id
    FROM coverage_spans AS s
    WHERE s.patient_id IN (SELECT patient_id FROM anchors WHERE anchor_type = 'session')
),
session_history AS (
    -- the start of the history seen before a session. Visits (measure 3.6) need only whether
    -- they stay in the population, never which of insufficient_history or acute keeps them
    -- out, so their history is not looked up.
    SELECT
        a.anchor_id,
        CASE
            WHEN c.patient_id IS NULL THEN f.first_record_date
            ELSE COALESCE(s.span_start, a.anchor_date)
        END AS history_start
    FROM anchors AS a
    LEFT JOIN session_patients_with_coverage AS c ON c.patient_id = a.patient_id
    LEFT JOIN coverage_spans AS s
        ON s.patient_id = a.patient_id
        AND a.anchor_date >= s.span_start
        AND a.anchor_date <= s.span_end
    LEFT JOIN patient_first_record AS f ON f.patient_id = a.patient_id
    WHERE a.anchor_type = 'session'
),
indication_summary AS (
    SELECT
        anchor_id,
        COUNT(*) FILTER (WHERE role = 'pain_type') > 0 AS has_pain_type,
        COUNT(DISTINCT region) FILTER (WHERE role = 'pain_type') AS region_count,
        MIN(region) FILTER (WHERE role = 'pain_type') AS some_region,
        BOOL_OR(role = 'chronic_marker') AS has_chronic_code,
        BOOL_OR(role = 'trial_marker') AS has_trial_diagnosis
    FROM anchor_indications
    GROUP BY anchor_id
),
exclusion_evidence AS (
    SELECT
        a.anchor_id,
        r.rule_order,
        r.reason,
        d.code,
        d.event_date
    FROM anchors AS a
    JOIN value_set_diagnoses AS d ON d.patient_id = a.patient_id AND d.role = 'exclusion'
    JOIN pack_exclusion_rules AS r ON r.value_set = d.value_set
    LEFT JOIN rule_switches AS w ON w.switch = r.switch
    WHERE (r.switch IS NULL OR w.enabled)
        AND DATE_DIFF('day', d.event_date, a.anchor_date) >= r.min_days_before
        AND (
            r.max_days_before IS NULL
            OR DATE_DIFF('day', d.event_date, a.anchor_date) <= r.max_days_before
        )
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY a.anchor_id
        ORDER BY r.rule_order, d.event_date DESC, d.code
    ) = 1
),
pain_codes AS (
    -- the spine-pain codes in play, numbered in code order so that a number can stand for a code
    SELECT code, ROW_NUMBER() OVER (ORDER BY code) AS code_rank
    FROM (SELECT DISTINCT code FROM value_set_diagnoses WHERE role = 'pain_type') AS distinct_codes
),
timeline_events AS (
    -- anchors and spine-pain diagnoses on one time line per patient; a diagnosis is placed
    -- $chronic_days after its date, so "at or before the anchor" on this line means "at least
    -- $chronic_days days before the anchor" (a running maximum, not a join of every pair). The
    -- key day x 1,000,000 + code number keeps the latest date, ties broken by the highest code,
    -- as one integer: a running maximum over integers, not strings. Days count from 1900-01-01,
    -- the earliest date a row can keep.
    SELECT
        patient_id,
        DATE_DIFF('day', DATE '1900-01-01', anchor_date) AS line_day,
        1 AS event_kind,
        anchor_id,
        anchor_date,
        CAST(NULL AS BIGINT) AS evidence_key
    FROM anchors
    UNION ALL
    SELECT
        d.patient_id,
        DATE_DIFF('day', DATE '1900-01-01', d.event_date) + $chronic_days AS line_day,
        0 AS event_kind,
        CAST(NULL AS BIGINT) AS anchor_id,
        CAST(NULL AS DATE) AS anchor_date,
        CAST(DATE_DIFF('day', DATE '1900-01-01', d.event_date) AS BIGINT) * 1000000 + c.code_rank
            AS evidence_key
    FROM value_set_diagnoses AS d
    JOIN pain_codes AS c ON c.code = d.code
    WHERE d.role = 'pain_type'
),
latest_chronic_evidence AS (
    SELECT
        anchor_id,
        anchor_date,
        line_day AS anchor_day,
        MAX(evidence_key) OVER (
            PARTITION BY patient_id
            ORDER BY line_day, event_kind
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS evidence_key
    FROM timeline_events
),
chronic_evidence AS (
    SELECT
        e.anchor_id,
        c.code,
        e.anchor_date - CAST(e.anchor_day - e.evidence_key // 1000000 AS INTEGER) AS event_date
    FROM latest_chronic_evidence AS e
    JOIN pain_codes AS c ON c.code_rank = e.evidence_key % 1000000
    WHERE e.anchor_id IS NOT NULL
        AND e.anchor_day - e.evidence_key // 1000000 <= $lookback_days
),
anchor_facts AS (
    SELECT
        a.anchor_id,
        a.anchor_type,
        a.patient_id,
        a.site_id,
        a.anchor_date,
        a.family,
        a.in_audit_period,
        a.age,
        COALESCE(i.has_pain_type, FALSE) AS has_pain_type,
        CASE
            WHEN i.region_count = 1 THEN i.some_region
            WHEN i.region_count > 1 THEN 'multiple'
        END AS indication_region,
        COALESCE(i.has_chronic_code, FALSE) AS has_chronic_code,
        COALESCE(i.has_trial_diagnosis, FALSE) AS has_trial_diagnosis,
        x.rule_order AS exclusion_rule,
        x.reason AS exclusion_reason,
        x.code AS exclusion_code,
        x.event_date AS exclusion_date,
        ce.code AS chronic_evidence_code,
        ce.event_date AS chronic_evidence_date,
        h.history_start
    FROM anchor_ages AS a
    LEFT JOIN session_history AS h ON h.anchor_id = a.anchor_id
    LEFT JOIN indication_summary AS i ON i.anchor_id = a.anchor_id
    LEFT JOIN exclusion_evidence AS x ON x.anchor_id = a.anchor_id
    LEFT JOIN chronic_evidence AS ce ON ce.anchor_id = a.anchor_id
),
anchor_rules AS (
    -- the facts with the first rule that takes the anchor out (the step's columns are listed
    -- once, in the final SELECT)
    SELECT
        f.*,
        CASE
            WHEN age < $min_age THEN 1
            WHEN age IS NULL THEN 2
            WHEN anchor_type = 'session' AND NOT has_pain_type THEN 3
            WHEN exclusion_rule IS NOT NULL THEN exclusion_rule
            WHEN chronic_evidence_date IS NULL AND NOT has_chronic_code THEN 7
        END AS population_rule,
        CASE
            WHEN age < $min_age THEN 'age_under_18'
            WHEN age IS NULL THEN 'age_unknown'
            WHEN anchor_type = 'session' AND NOT has_pain_type THEN 'no_spine_indication'
            WHEN exclusion_rule IS NOT NULL THEN exclusion_reason
            WHEN chronic_evidence_date IS NULL AND NOT has_chronic_code THEN
                CASE
                    WHEN history_start IS NULL
                        OR DATE_DIFF('day', history_start, anchor_date) < $chronic_days
                        THEN 'insufficient_history'
                    ELSE 'acute'
                END
        END AS population_reason
    FROM anchor_facts AS f
)
SELECT
    anchor_id,
    anchor_type,
    patient_id,
    site_id,
    anchor_date,
    family,
    in_audit_period,
    age,
    indication_region,
    has_chronic_code,
    has_trial_diagnosis,
    exclusion_code,
    exclusion_date,
    chronic_evidence_code,
    chronic_evidence_date,
    history_start,
    population_rule,
    population_reason
FROM anchor_rules
WHERE anchor_type = 'session' OR population_rule IS NULL
