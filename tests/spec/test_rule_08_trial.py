"""Measure 3.5 rule 8: clinical_trial - any line of the session has modifier Q0 or Q1, or Z00.6
is among its indication diagnoses. Not discordant; the recommendation id is kept (section 5:
recommendation null unless discordant or clinical_trial)."""

import pytest

from tests.helpers import audit_sessions, outcome
from tests.spec._common import (
    ADULT,
    SESSION,
    before,
    chronic_dx,
    one_patient_each,
    only,
    per_case,
)

pytestmark = pytest.mark.spec

TRIAL_EPI = ("clinical_trial", None, "AX-EPI")


def _session(extract, procedures: str, diagnoses: str | None = None) -> dict:
    folder = extract(patients=ADULT, diagnoses=diagnoses or chronic_dx(), procedures=procedures)
    return only(audit_sessions(folder))


MODIFIERS = [
    ("Q0", TRIAL_EPI),
    ("Q1", TRIAL_EPI),
    ("RT,Q0", TRIAL_EPI),
    ("50,Q1", TRIAL_EPI),
    ("50 Q0", TRIAL_EPI),  # blanks separate modifiers too
    ("50;Q1", TRIAL_EPI),
    ("50Q0", ("discordant", None, "AX-EPI")),  # one unknown modifier, not Q0
    ("Q2", ("discordant", None, "AX-EPI")),  # not a trial modifier
    ("RT", ("discordant", None, "AX-EPI")),
    ("", ("discordant", None, "AX-EPI")),
]


def test_trial_modifier(extract):
    """One patient per modifiers value, in one run."""
    cases = [{"modifiers": m} for m, _ in MODIFIERS]
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases) == [expected for _, expected in MODIFIERS]


def test_modifier_list_in_lower_case_with_blanks(extract):
    """The spec says only "comma separated"; the engine upper-cases and drops blanks
    (procedures_checked.sql), so 'rt, q0' carries Q0."""
    s = _session(
        extract,
        f"""
        patient_id | event_date | code  | site_id | source_id | modifiers
        P1         | {SESSION}  | 62323 | S1      | C1        | rt, q0
        """,
    )
    assert outcome(s) == TRIAL_EPI


def test_trial_modifier_on_one_line_of_several(extract):
    s = _session(
        extract,
        f"""
        patient_id | event_date | code  | site_id | source_id | modifiers
        P1         | {SESSION}  | 64483 | S1      | C1        | RT
        P1         | {SESSION}  | 64484 | S1      | C1        | Q1
        """,
    )
    assert outcome(s) == TRIAL_EPI


def test_trial_modifier_on_a_merged_injection_line(extract):
    """The facet injection is part of the RFA session (3.3): its Q0 is on a line of it."""
    s = _session(
        extract,
        f"""
        patient_id | event_date | code  | site_id | source_id | modifiers
        P1         | {SESSION}  | 64635 | S1      | C1        |
        P1         | {SESSION}  | 64493 | S1      | C1        | Q0
        """,
    )
    assert (s["family"], outcome(s)) == ("FACET_RFA", ("clinical_trial", None, "AX-RFA"))


def test_trial_modifier_on_a_non_counting_line_does_not_count(extract):
    s = _session(
        extract,
        f"""
        patient_id | event_date | code  | site_id | source_id | modifiers | status
        P1         | {SESSION}  | 62323 | S1      | C1        |           | paid
        P1         | {SESSION}  | 62323 | S1      | C1        | Q0        | denied
        """,
    )
    assert outcome(s) == ("discordant", None, "AX-EPI")


PROCEDURE = f"""
patient_id | event_date | code  | site_id | source_id
P1         | {SESSION}  | 62323 | S1      | C1
"""


def test_z00_6_on_the_session_date(extract):
    s = _session(extract, PROCEDURE, chronic_dx(extra=f"P1 | {SESSION} | Z00.6 | C5 | S2"))
    assert outcome(s) == TRIAL_EPI


def test_z00_6_on_the_claim_at_another_date(extract):
    s = _session(extract, PROCEDURE, chronic_dx(extra=f"P1 | {before(10)} | Z00.6 | C1 | S1"))
    assert outcome(s) == TRIAL_EPI


def test_z00_6_not_among_the_indications_does_not_count(extract):
    s = _session(extract, PROCEDURE, chronic_dx(extra=f"P1 | {before(10)} | Z00.6 | C5 | S1"))
    assert outcome(s) == ("discordant", None, "AX-EPI")


def test_z00_6_dotless_lower_case(extract):
    s = _session(extract, PROCEDURE, chronic_dx(extra=f"P1 | {SESSION} | z006 | C1 | S1"))
    assert outcome(s) == TRIAL_EPI


def test_trial_keeps_the_recommendation_of_the_family_and_pain_type(extract):
    s = _session(
        extract,
        f"""
        patient_id | event_date | code  | site_id | source_id | modifiers
        P1         | {SESSION}  | 64635 | S1      | C1        | Q0
        """,
    )
    assert outcome(s) == ("clinical_trial", None, "AX-RFA")


def test_trial_where_no_recommendation_covers_the_family(extract):
    """Facet injection for radicular pain is not addressed (rule 10); under a trial modifier it
    is clinical_trial and there is no recommendation id to keep (section 5 allows null)."""
    s = _session(
        extract,
        f"""
        patient_id | event_date | code  | site_id | source_id | modifiers
        P1         | {SESSION}  | 64493 | S1      | C1        | Q1
        """,
        chronic_dx("M54.16"),
    )
    assert outcome(s) == ("clinical_trial", None, None)
