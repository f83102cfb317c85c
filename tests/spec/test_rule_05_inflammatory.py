"""Measure 3.5 rule 5: out_of_population / inflammatory_arthropathy - at any date up to the
session date: M02, M05, M06, M07, M08, M45, M46.0, M46.8, M46.9, L40.5."""

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

INFLAMMATORY = ("out_of_population", "inflammatory_arthropathy", None)
IN_POPULATION = ("discordant", None, "AX-EPI")


def _session(extract, code: str, event_date: str, code_system: str = "") -> dict:
    folder = extract(
        patients=ADULT,
        diagnoses=f"""
        patient_id | event_date    | code   | source_id | site_id | code_system
        P1         | {before(120)} | M54.50 | C0        | S1      |
        P1         | {SESSION}     | M54.50 | C1        | S1      |
        P1         | {event_date}  | {code} | C9        | S1      | {code_system}
        """,
        procedures=one_line(),
    )
    return only(audit_sessions(folder))


def test_any_earlier_date_excludes(extract):
    s = _session(extract, "M45.9", before(10 * 365))
    assert outcome(s) == INFLAMMATORY


def test_on_the_session_date_excludes(extract):
    s = _session(extract, "M45.9", SESSION.isoformat())
    assert outcome(s) == INFLAMMATORY


def test_the_day_after_does_not_exclude(extract):
    s = _session(extract, "M45.9", shift(1))
    assert outcome(s) == IN_POPULATION


def test_listed_categories(extract):
    codes = [
        "M02.9",
        "M05.79",
        "M06.9",
        "M07.60",
        "M08.00",
        "M45.A0",
        "M46.00",
        "M46.80",
        "M46.90",
        "L40.50",
        "L40.59",
    ]
    sessions = audit_sessions(extract(**code_per_patient(codes, before(800))))
    assert outcomes_by_patient(sessions) == dict.fromkeys(codes, INFLAMMATORY)


def test_snomed_ankylosing_spondylitis(extract):
    s = _session(extract, "9631008", before(800), code_system="SNOMED")
    assert outcome(s) == INFLAMMATORY


def test_sacroiliitis_m46_1_is_axial_pain_not_inflammatory_arthropathy(extract):
    s = _session(extract, "M46.1", before(800))
    assert outcome(s) == IN_POPULATION


def test_m46_2_is_a_spinal_infection_not_inflammatory_arthropathy(extract):
    """M46.2-M46.5 are rule 6 (365 days): 800 days before neither rule applies."""
    s = _session(extract, "M46.20", before(800))
    assert outcome(s) == IN_POPULATION


def test_cancer_comes_before_inflammatory_arthropathy(extract):
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx(
            extra=f"P1 | {before(30)} | C34.90 | C8 | S1\nP1 | {before(30)} | M45.9 | C9 | S1"
        ),
        procedures=one_line(),
    )
    assert outcome(only(audit_sessions(folder)))[1] == "cancer"
