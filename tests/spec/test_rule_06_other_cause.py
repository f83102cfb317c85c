"""Measure 3.5 rule 6: out_of_population / other_specific_cause - within the 365 days up to the
session date a vertebral fracture, spinal infection or cauda equina syndrome; on the session date
a pregnancy or delivery code. Switchable off (setting other_specific_cause)."""

import pytest

from audit.config import load_settings
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

OTHER_CAUSE = ("out_of_population", "other_specific_cause", None)
IN_POPULATION = ("discordant", None, "AX-EPI")


def _session(extract, code: str, event_date: str, settings=None, extra: str = "") -> dict:
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx(extra=f"P1 | {event_date} | {code} | C9 | S1\n{extra}"),
        procedures=one_line(),
    )
    return only(audit_sessions(folder, settings=settings))


@pytest.mark.parametrize(
    ("days_before", "expected"),
    [
        (0, OTHER_CAUSE),
        (365, OTHER_CAUSE),
        (366, IN_POPULATION),
        (-1, IN_POPULATION),  # the day after the session
    ],
)
def test_fracture_within_365_days(extract, days_before, expected):
    """ "Within the 365 days up to the session date": 0 to 365 days before, both ends included
    (pack exclusion_rules.csv), the same reading as rule 4."""
    s = _session(extract, "S32.010A", before(days_before))
    assert outcome(s) == expected


def test_listed_causes_within_the_window(extract):
    codes = [
        "S12.000A",
        "S22.000A",
        "S32.010A",
        "S32.10XA",
        "M48.50XA",
        "M80.08XA",  # fracture
        "M46.20",
        "M46.30",
        "M46.46",
        "M46.50",
        "G06.1",
        "A18.01",  # spinal infection
        "G83.4",  # cauda equina syndrome
    ]
    sessions = audit_sessions(extract(**code_per_patient(codes, before(30))))
    assert outcomes_by_patient(sessions) == dict.fromkeys(codes, OTHER_CAUSE)


def test_pregnancy_code_on_the_session_date_excludes(extract):
    codes = ["O26.891", "O09.90", "O9A.119", "Z33.1", "Z34.00", "Z37.0"]
    sessions = audit_sessions(extract(**code_per_patient(codes, SESSION.isoformat())))
    assert outcomes_by_patient(sessions) == dict.fromkeys(codes, OTHER_CAUSE)


def test_pregnancy_code_the_day_before_does_not_exclude(extract):
    s = _session(extract, "O26.891", before(1))
    assert outcome(s) == IN_POPULATION


def test_z33_2_is_not_a_listed_pregnancy_code(extract):
    """Only Z33.1 of Z33 is listed."""
    s = _session(extract, "Z33.2", SESSION.isoformat())
    assert outcome(s) == IN_POPULATION


@pytest.fixture
def rule_6_off(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("other_specific_cause = false\n", encoding="utf-8")
    return load_settings(path)


def test_switched_off_falls_through(extract, rule_6_off):
    """A TOML settings file with other_specific_cause = false: fracture, infection, cauda equina
    and pregnancy (all on the session date) no longer take the session out."""
    codes = ["S32.010A", "M46.20", "G83.4", "O26.891"]
    sessions = audit_sessions(
        extract(**code_per_patient(codes, SESSION.isoformat())), settings=rule_6_off
    )
    assert outcomes_by_patient(sessions) == dict.fromkeys(codes, IN_POPULATION)


def test_switch_on_by_default(extract):
    """The same four without the settings file: all other_specific_cause."""
    codes = ["S32.010A", "M46.20", "G83.4", "O26.891"]
    sessions = audit_sessions(extract(**code_per_patient(codes, SESSION.isoformat())))
    assert outcomes_by_patient(sessions) == dict.fromkeys(codes, OTHER_CAUSE)


def test_switched_off_leaves_cancer_in_place(extract, rule_6_off):
    s = _session(extract, "C34.90", before(30), settings=rule_6_off)
    assert outcome(s)[1] == "cancer"


def test_inflammatory_arthropathy_comes_before_other_specific_cause(extract):
    s = _session(extract, "S32.010A", before(30), extra=f"P1 | {before(30)} | M45.9 | C8 | S1")
    assert outcome(s)[1] == "inflammatory_arthropathy"


def test_other_specific_cause_comes_before_acute(extract):
    """No chronic evidence and a long history (acute) - rule 6 is tested first."""
    folder = extract(
        patients=ADULT,
        diagnoses=f"""
        patient_id | event_date    | code     | source_id | site_id
        P1         | {before(900)} | E11.9    | C7        | S1
        P1         | {before(30)}  | S32.010A | C9        | S1
        P1         | {SESSION}     | M54.50   | C1        | S1
        """,
        procedures=one_line(),
    )
    assert outcome(only(audit_sessions(folder)))[1] == "other_specific_cause"


def test_fracture_the_day_after_does_not_exclude(extract):
    s = _session(extract, "S12.000A", shift(1))
    assert outcome(s) == IN_POPULATION
