"""Measure 3.5 rule 2: out_of_population / age_unknown - no birth_date or birth_year."""

import pytest

from tests.helpers import audit_sessions, outcome
from tests.spec._common import before, chronic_dx, one_line, one_patient_each, only, per_case

pytestmark = pytest.mark.spec

AGE_UNKNOWN = ("out_of_population", "age_unknown", None)


def _session(extract, patients: str, diagnoses: str | None = None) -> dict:
    folder = extract(
        patients=patients,
        diagnoses=diagnoses or chronic_dx(),
        procedures=one_line(),
    )
    return only(audit_sessions(folder))


def test_no_birth_date_and_no_birth_year(extract):
    s = _session(extract, "patient_id | birth_date | birth_year\nP1 | |")
    assert (s["age"], outcome(s)) == (None, AGE_UNKNOWN)


def test_birth_date_column_only_and_blank(extract):
    s = _session(extract, "patient_id | birth_date\nP1 |")
    assert outcome(s) == AGE_UNKNOWN


def test_birth_year_alone_is_enough(extract):
    s = _session(extract, "patient_id | birth_year\nP1 | 1970")
    assert outcome(s) == ("discordant", None, "AX-EPI")


def test_unusable_birth_date_counts_as_unknown(extract):
    """The spec names only a missing value; the engine keeps a patient whose birth date (or
    year) cannot be read, reports it as a value issue and applies rule 2 (patients_checked.sql
    header)."""
    cases = [
        {"birth_date": "2006-02-29"},
        {"birth_date": "not a date"},
        {"birth_date": "1970/13/45"},
        {"birth_date": "", "birth_year": "19x0"},
    ]
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases) == [AGE_UNKNOWN] * len(cases)


def test_age_unknown_comes_before_no_spine_indication_and_cancer(extract):
    """Rule 2 is tested before rules 3 and 4."""
    diagnoses = f"""
    patient_id | event_date  | code   | source_id | site_id
    P1         | {before(30)} | C34.90 | C9        | S1
    """
    s = _session(extract, "patient_id | birth_date\nP1 |", diagnoses)
    assert outcome(s) == AGE_UNKNOWN
