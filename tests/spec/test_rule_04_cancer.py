"""Measure 3.5 rule 4: out_of_population / cancer - a malignant neoplasm (C00-C96 except C44)
within the 365 days up to and including the session date, or a secondary malignant neoplasm of
bone or spinal cord/meninges (C79.4x, C79.5x) at any earlier date."""

import pytest

from tests.helpers import audit_sessions, outcome
from tests.spec._common import (
    ADULT,
    SESSION,
    before,
    chronic_dx,
    code_per_patient,
    one_line,
    only,
    outcomes_by_patient,
    shift,
)

pytestmark = pytest.mark.spec

CANCER = ("out_of_population", "cancer", None)
IN_POPULATION = ("discordant", None, "AX-EPI")


def _session(extract, code: str, event_date: str, site: str = "S1", source: str = "C9") -> dict:
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx(extra=f"P1 | {event_date} | {code} | {source} | {site}"),
        procedures=one_line(),
    )
    return only(audit_sessions(folder))


@pytest.mark.parametrize(
    ("days_before", "expected"),
    [
        (365, CANCER),
        (366, IN_POPULATION),
    ],
)
def test_cancer_365_vs_366_days_before(extract, days_before, expected):
    """ "Within the 365 days up to and including the session date" is read as 0 to 365 days
    before, both ends included (pack exclusion_rules.csv: CANCER 0..365)."""
    s = _session(extract, "C34.90", before(days_before))
    assert outcome(s) == expected


def test_cancer_on_the_session_date_excludes(extract):
    s = _session(extract, "C34.90", SESSION.isoformat(), source="C1")
    assert outcome(s) == CANCER
    assert s["exclusion_code"] == "C3490"


def test_cancer_the_day_after_the_session_does_not_exclude(extract):
    s = _session(extract, "C34.90", shift(1))
    assert outcome(s) == IN_POPULATION


def test_malignant_neoplasm_codes_across_the_range(extract):
    codes = ["C00.0", "C4A.9", "C50.911", "C7A.00", "C80.1", "C96.9"]
    sessions = audit_sessions(extract(**code_per_patient(codes, before(30))))
    assert outcomes_by_patient(sessions) == dict.fromkeys(codes, CANCER)


def test_skin_cancer_c44_and_in_situ_do_not_exclude(extract):
    codes = ["C44.91", "C44.311", "D05.10"]
    sessions = audit_sessions(extract(**code_per_patient(codes, before(30))))
    assert outcomes_by_patient(sessions) == dict.fromkeys(codes, IN_POPULATION)


def test_secondary_of_bone_or_spinal_cord_five_years_earlier_excludes(extract):
    codes = ["C79.51", "C79.52", "C79.40", "C79.49"]
    sessions = audit_sessions(extract(**code_per_patient(codes, before(5 * 365 + 1))))
    assert outcomes_by_patient(sessions) == dict.fromkeys(codes, CANCER)


def test_secondary_of_bone_the_day_after_does_not_exclude(extract):
    s = _session(extract, "C79.51", shift(1))
    assert outcome(s) == IN_POPULATION


def test_other_secondary_older_than_365_days_does_not_exclude(extract):
    """C79.31 (secondary of brain) is a malignant neoplasm but not C79.4x / C79.5x: only the
    365-day window applies to it."""
    s = _session(extract, "C79.31", before(400))
    assert outcome(s) == IN_POPULATION


def test_cancer_at_another_site_on_another_claim_excludes(extract):
    """The exclusion reads the patient's whole record, not the indication diagnoses."""
    s = _session(extract, "C18.9", before(100), site="S9", source="X1")
    assert outcome(s) == CANCER
