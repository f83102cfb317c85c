-- session_merge_targets
-- Grain: one row per session before the merges (sessions_before_merges), with the family of the
--   session it is merged into (its own family when it is not merged).
-- Implements: measure spec 3.3, the two "with or without" merges, read from the pack's
--   session_merges table: a facet or sacroiliac joint injection on the same patient, site and
--   date as a joint RFA is part of that RFA session (same joint first); an epidural on the same
--   patient, site and date as a DRG radiofrequency is part of that DRG session.
WITH merge_targets AS (
    SELECT
        s.patient_id,
        s.site_id,
        s.session_date,
        s.family,
        t.family AS target_family,
        m.preference
    FROM sessions_before_merges AS s
    JOIN pack_session_merges AS m ON m.family = s.family
    JOIN sessions_before_merges AS t
        ON t.patient_id = s.patient_id
        AND t.site_id = s.site_id
        AND t.session_date = s.session_date
        AND t.family = m.merges_into
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY s.patient_id, s.site_id, s.session_date, s.family
        ORDER BY m.preference, t.family
    ) = 1
)
SELECT
    s.patient_id,
    s.site_id,
    s.session_date,
    s.family AS line_family,
    COALESCE(mt.target_family, s.family) AS family
FROM sessions_before_merges AS s
LEFT JOIN merge_targets AS mt
    ON mt.patient_id = s.patient_id
    AND mt.site_id = s.site_id
    AND mt.session_date = s.session_date
    AND mt.family = s.family
