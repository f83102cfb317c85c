"""Measure 3.5: exactly one outcome per session, the first rule that applies. Each test gives a
session two reasons and checks the earlier rule wins (more pairs sit in the rule files)."""

import pytest

from tests.helpers import audit_sessions, outcome
from tests.spec._common import ADULT, SESSION, before, chronic_dx, only

pytestmark = pytest.mark.spec


def _session(extract, patients=ADULT, diagnoses=None, modifiers="") -> dict:
    folder = extract(
        patients=patients,
        diagnoses=diagnoses or chronic_dx(),
        procedures=f"""
        patient_id | event_date | code  | site_id | source_id | modifiers
        P1         | {SESSION}  | 62323 | S1      | C1        | {modifiers}
        """,
    )
    return only(audit_sessions(folder))


def test_under_18_with_cancer_is_age_under_18(extract):
    s = _session(
        extract,
        patients="patient_id | birth_date\nP1 | 2010-01-01",
        diagnoses=chronic_dx(extra=f"P1 | {before(30)} | C91.00 | C9 | S1"),
    )
    assert outcome(s) == ("out_of_population", "age_under_18", None)


def test_under_18_without_spine_indication_is_age_under_18(extract):
    s = _session(
        extract,
        patients="patient_id | birth_date\nP1 | 2010-01-01",
        diagnoses=f"patient_id | event_date | code | source_id | site_id\nP1 | {SESSION} "
        "| E11.9 | C1 | S1",
    )
    assert outcome(s) == ("out_of_population", "age_under_18", None)


def test_cancer_with_trial_modifier_is_cancer(extract):
    """out_of_population beats clinical_trial."""
    s = _session(
        extract, diagnoses=chronic_dx(extra=f"P1 | {before(30)} | C34.90 | C9 | S1"), modifiers="Q0"
    )
    assert outcome(s) == ("out_of_population", "cancer", None)


def test_acute_with_trial_diagnosis_is_acute(extract):
    s = _session(
        extract,
        diagnoses=f"""
        patient_id | event_date    | code   | source_id | site_id
        P1         | {before(400)} | E11.9  | C7        | S1
        P1         | {SESSION}     | M54.50 | C1        | S1
        P1         | {SESSION}     | Z00.6  | C1        | S1
        """,
    )
    assert outcome(s) == ("out_of_population", "acute", None)


def test_insufficient_history_with_trial_modifier(extract):
    s = _session(
        extract,
        diagnoses=f"patient_id | event_date | code | source_id | site_id\nP1 | {SESSION} "
        "| M54.50 | C1 | S1",
        modifiers="Q1",
    )
    assert outcome(s) == ("out_of_population", "insufficient_history", None)


def test_trial_beats_discordant_and_keeps_the_recommendation(extract):
    s = _session(extract, modifiers="Q1")
    assert outcome(s) == ("clinical_trial", None, "AX-EPI")


def test_rule_number_is_reported(extract):
    """sessions.parquet carries the number of the rule that decided (1-10)."""
    s = _session(
        extract, diagnoses=chronic_dx(extra=f"P1 | {before(30)} | M45.9 | C9 | S1"), modifiers="Q0"
    )
    assert (s["rule"], s["reason"]) == (5, "inflammatory_arthropathy")
