"""Measure 3.5 rule 8: clinical_trial - any line of the session has modifier Q0 or Q1, or Z00.6
is among its indication diagnoses. Not discordant; the recommendation id is kept (section 5:
recommendation null unless discordant or clinical_trial).

Each patient has M54.50 (AXIAL) on the session's claim C1 and 120 days before (chronic)."""

import pytest

from tests.helpers import clinical_trial, discordant

pytestmark = pytest.mark.spec


def test_trial_modifier(spec):
    """One patient per modifiers value."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
            P5         | 1970-05-01
            P6         | 1970-05-01
            P7         | 1970-05-01
            P8         | 1970-05-01
            P9         | 1970-05-01
            P10        | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2023-02-01 | M54.50 | C0        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
            P3         | 2023-02-01 | M54.50 | C0        | S1
            P3         | 2023-06-01 | M54.50 | C1        | S1
            P4         | 2023-02-01 | M54.50 | C0        | S1
            P4         | 2023-06-01 | M54.50 | C1        | S1
            P5         | 2023-02-01 | M54.50 | C0        | S1
            P5         | 2023-06-01 | M54.50 | C1        | S1
            P6         | 2023-02-01 | M54.50 | C0        | S1
            P6         | 2023-06-01 | M54.50 | C1        | S1
            P7         | 2023-02-01 | M54.50 | C0        | S1
            P7         | 2023-06-01 | M54.50 | C1        | S1
            P8         | 2023-02-01 | M54.50 | C0        | S1
            P8         | 2023-06-01 | M54.50 | C1        | S1
            P9         | 2023-02-01 | M54.50 | C0        | S1
            P9         | 2023-06-01 | M54.50 | C1        | S1
            P10        | 2023-02-01 | M54.50 | C0        | S1
            P10        | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers
            P1         | 2023-06-01 | 62323 | S1      | C1        | Q0
            P2         | 2023-06-01 | 62323 | S1      | C1        | Q1
            P3         | 2023-06-01 | 62323 | S1      | C1        | RT,Q0
            P4         | 2023-06-01 | 62323 | S1      | C1        | 50,Q1
            P5         | 2023-06-01 | 62323 | S1      | C1        | 50 Q0  # a blank separates
            P6         | 2023-06-01 | 62323 | S1      | C1        | 50;Q1
            P7         | 2023-06-01 | 62323 | S1      | C1        | 50Q0   # one unknown modifier
            P8         | 2023-06-01 | 62323 | S1      | C1        | Q2     # not a trial modifier
            P9         | 2023-06-01 | 62323 | S1      | C1        | RT
            P10        | 2023-06-01 | 62323 | S1      | C1        |
        """,
        expected={
            "P1": clinical_trial("AX-EPI"),
            "P2": clinical_trial("AX-EPI"),
            "P3": clinical_trial("AX-EPI"),
            "P4": clinical_trial("AX-EPI"),
            "P5": clinical_trial("AX-EPI"),
            "P6": clinical_trial("AX-EPI"),
            "P7": discordant("AX-EPI"),
            "P8": discordant("AX-EPI"),
            "P9": discordant("AX-EPI"),
            "P10": discordant("AX-EPI"),
        },
    )


def test_modifier_list_in_lower_case_with_blanks(spec):
    """The spec says only "comma separated"; the engine upper-cases and drops blanks
    (procedures_checked.sql), so 'rt, q0' carries Q0."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers
            P1         | 2023-06-01 | 62323 | S1      | C1        | rt, q0
        """,
        expected={"P1": clinical_trial("AX-EPI")},
    )


def test_trial_modifier_on_one_line_of_several(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers
            P1         | 2023-06-01 | 64483 | S1      | C1        | RT
            P1         | 2023-06-01 | 64484 | S1      | C1        | Q1
        """,
        expected={"P1": clinical_trial("AX-EPI")},
    )


def test_trial_modifier_on_a_merged_injection_line(spec):
    """The facet injection is part of the RFA session (3.3): its Q0 is on a line of it."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers
            P1         | 2023-06-01 | 64635 | S1      | C1        |
            P1         | 2023-06-01 | 64493 | S1      | C1        | Q0
        """,
        expected={"P1": clinical_trial("AX-RFA")},
    )
    assert [s["family"] for s in run.sessions()] == ["FACET_RFA"]


def test_trial_modifier_on_a_non_counting_line_does_not_count(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers | status
            P1         | 2023-06-01 | 62323 | S1      | C1        |           | paid
            P1         | 2023-06-01 | 62323 | S1      | C1        | Q0        | denied
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_z00_6_on_the_session_date(spec):
    """Another claim at another site, but the session's date."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-06-01 | Z00.6  | C5        | S2
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": clinical_trial("AX-EPI")},
    )


def test_z00_6_on_the_claim_at_another_date(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-05-22 | Z00.6  | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": clinical_trial("AX-EPI")},
    )


def test_z00_6_not_among_the_indications_does_not_count(spec):
    """Another claim, another date."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-05-22 | Z00.6  | C5        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_z00_6_dotless_lower_case(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-06-01 | z006   | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": clinical_trial("AX-EPI")},
    )


def test_trial_keeps_the_recommendation_of_the_family_and_pain_type(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers
            P1         | 2023-06-01 | 64635 | S1      | C1        | Q0
        """,
        expected={"P1": clinical_trial("AX-RFA")},
    )


def test_trial_where_no_recommendation_covers_the_family(spec):
    """Facet injection for radicular pain is not addressed (rule 10); under a trial modifier it
    is clinical_trial and there is no recommendation id to keep (section 5 allows null)."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.16 | C0        | S1
            P1         | 2023-06-01 | M54.16 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers
            P1         | 2023-06-01 | 64493 | S1      | C1        | Q1
        """,
        expected={"P1": clinical_trial(None)},
    )
