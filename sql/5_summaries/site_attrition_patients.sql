-- site_attrition_patients
-- Grain: one row per site with a session in the audit period: distinct patients with a counting
--   session there (the attrition's first step).
-- Implements: the patients beside the session attrition of the site pages (measure 3.5, whole
--   audit period). Only the first step is counted in patients: patients per out-of-population
--   reason or per outcome overlap (one patient, several sessions, several outcomes), so they
--   neither add up nor bound each other, and published beside the session counts they (and
--   patients with a discordant session) let a reader narrow hidden cells (audit/attrition.py).
--   Unsuppressed; disclosure control is applied before publication.
SELECT
    site_id,
    COUNT(DISTINCT patient_id) AS patients_counting
FROM session_outcomes
GROUP BY site_id
ORDER BY site_id
