"""Measure 3.5 rule 3: out_of_population / no_spine_indication - no AXIAL or RADICULAR diagnosis
among the session's indication diagnoses (3.4)."""

import pytest

from tests.helpers import audit_sessions, outcome
from tests.spec._common import ADULT, SESSION, before, one_line, one_patient_each, only, per_case

pytestmark = pytest.mark.spec

NO_INDICATION = ("out_of_population", "no_spine_indication", None)


def _session(extract, diagnoses: str) -> dict:
    folder = extract(patients=ADULT, diagnoses=diagnoses, procedures=one_line())
    return only(audit_sessions(folder))


def test_no_diagnosis_at_all(extract):
    s = _session(extract, "patient_id | event_date | code | source_id | site_id")
    assert outcome(s) == NO_INDICATION
    assert list(s["pain_types"]) == []


def test_only_non_spine_diagnoses_on_the_session(extract):
    """Each patient has a chronic spine history but a non-spine code on the session's claim."""
    codes = [
        "E11.9",  # not spine pain
        "M54.81",  # occipital neuralgia: M54.8x is not AXIAL, only M54.89 is
        "G89.29",  # a chronic-pain code is not a pain type
        "Z00.6",  # a clinical-trial code is not a pain type (and rule 3 comes before rule 8)
    ]
    cases = [{"dx": code} for code in codes]
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases) == [NO_INDICATION] * len(cases)


def test_earlier_spine_diagnosis_on_another_claim_is_not_an_indication(extract):
    """The 120-day-old diagnosis would make the session chronic (rule 7) but is not one of its
    indication diagnoses (3.4: same source_id or same date)."""
    s = _session(
        extract,
        f"""
        patient_id | event_date    | code   | source_id | site_id
        P1         | {before(120)} | M54.50 | C0        | S1
        """,
    )
    assert outcome(s) == NO_INDICATION


def test_no_spine_indication_comes_before_cancer(extract):
    """Rule 3 is tested before rule 4."""
    s = _session(
        extract,
        f"""
        patient_id | event_date | code   | source_id | site_id
        P1         | {SESSION}  | C34.90 | C1        | S1
        """,
    )
    assert outcome(s) == NO_INDICATION
