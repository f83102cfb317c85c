-- export_patients
-- Grain: one row per patient with a session in the run.
-- Implements: docs/export.md: the patient's sessions by outcome, sites, first and last session
--   date (taken on the exact dates, then put in the export's date mode $date_mode, as in
--   export_sessions), the age at the first session top-coded at $top_age; year and month of the
--   exported first session date for the Hive partitions.
WITH first_dates AS (
    SELECT patient_id, MIN(session_date) AS first_session_date
    FROM run_sessions
    GROUP BY patient_id
),
first_ages AS (
    -- every session of a patient on one date has the same age
    SELECT s.patient_id, MIN(s.age) AS age_at_first_session
    FROM run_sessions AS s
    INNER JOIN first_dates AS f
        ON f.patient_id = s.patient_id AND f.first_session_date = s.session_date
    GROUP BY s.patient_id
),
patient_counts AS (
    SELECT
        patient_id,
        MIN(session_date) AS first_session_date,
        MAX(session_date) AS last_session_date,
        COUNT(*) AS sessions,
        COUNT(*) FILTER (WHERE outcome <> 'out_of_population') AS in_population_sessions,
        COUNT(*) FILTER (WHERE outcome = 'discordant') AS discordant_sessions,
        COUNT(*) FILTER (WHERE outcome = 'clinical_trial') AS clinical_trial_sessions,
        COUNT(*) FILTER (WHERE outcome = 'not_addressed') AS not_addressed_sessions,
        COUNT(*) FILTER (WHERE outcome = 'out_of_population') AS out_of_population_sessions,
        COUNT(DISTINCT site_id) AS sites
    FROM run_sessions
    GROUP BY patient_id
),
patient_sessions AS (
    SELECT
        k.patient_pseudonym,
        k.shift_days,
        c.first_session_date,
        c.last_session_date,
        a.age_at_first_session,
        c.sessions,
        c.in_population_sessions,
        c.discordant_sessions,
        c.clinical_trial_sessions,
        c.not_addressed_sessions,
        c.out_of_population_sessions,
        c.sites
    FROM patient_counts AS c
    INNER JOIN first_ages AS a ON a.patient_id = c.patient_id
    INNER JOIN patient_keys AS k ON k.patient_id = c.patient_id
),
dated_patients AS (
    SELECT
        patient_pseudonym,
        CASE $date_mode
            WHEN 'exact' THEN first_session_date
            WHEN 'month' THEN CAST(DATE_TRUNC('month', first_session_date) AS DATE)
            ELSE CAST(first_session_date + shift_days AS DATE)
        END AS first_session_date,
        CASE $date_mode
            WHEN 'exact' THEN last_session_date
            WHEN 'month' THEN CAST(DATE_TRUNC('month', last_session_date) AS DATE)
            ELSE CAST(last_session_date + shift_days AS DATE)
        END AS last_session_date,
        CASE
            WHEN age_at_first_session >= $top_age THEN $top_age
            ELSE age_at_first_session
        END AS age_at_first_session,
        sessions,
        in_population_sessions,
        discordant_sessions,
        clinical_trial_sessions,
        not_addressed_sessions,
        out_of_population_sessions,
        sites
    FROM patient_sessions
)
SELECT
    CAST(YEAR(first_session_date) AS INTEGER) AS year,
    CAST(MONTH(first_session_date) AS INTEGER) AS month,
    CAST(patient_pseudonym AS VARCHAR) AS patient_pseudonym,
    CAST(first_session_date AS DATE) AS first_session_date,
    CAST(last_session_date AS DATE) AS last_session_date,
    CAST(age_at_first_session AS INTEGER) AS age_at_first_session,
    CAST(sessions AS BIGINT) AS sessions,
    CAST(in_population_sessions AS BIGINT) AS in_population_sessions,
    CAST(discordant_sessions AS BIGINT) AS discordant_sessions,
    CAST(clinical_trial_sessions AS BIGINT) AS clinical_trial_sessions,
    CAST(not_addressed_sessions AS BIGINT) AS not_addressed_sessions,
    CAST(out_of_population_sessions AS BIGINT) AS out_of_population_sessions,
    CAST(sites AS BIGINT) AS sites
FROM dated_patients
ORDER BY first_session_date, patient_pseudonym
