"""Measure 3.5: exactly one outcome per session, the first rule that applies. Each test gives a
session two reasons and checks the earlier rule wins (more pairs sit in the rule files).

Each session is an epidural (62323) on 2023-06-01 at S1 on claim C1."""

import pytest

from tests.helpers import clinical_trial, out_of_population

pytestmark = pytest.mark.spec


def test_under_18_with_cancer_is_age_under_18(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 2010-01-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-05-02 | C91.00 | C9        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("age_under_18")},
    )


def test_under_18_without_spine_indication_is_age_under_18(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 2010-01-01
        """,
        diagnoses="""
            patient_id | event_date | code  | source_id | site_id
            P1         | 2023-06-01 | E11.9 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("age_under_18")},
    )


def test_cancer_with_trial_modifier_is_cancer(spec):
    """out_of_population beats clinical_trial."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-05-02 | C34.90 | C9        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers
            P1         | 2023-06-01 | 62323 | S1      | C1        | Q0
        """,
        expected={"P1": out_of_population("cancer")},
    )


def test_acute_with_trial_diagnosis_is_acute(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-04-27 | E11.9  | C7        | S1       # 400 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-06-01 | Z00.6  | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("acute")},
    )


def test_insufficient_history_with_trial_modifier(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers
            P1         | 2023-06-01 | 62323 | S1      | C1        | Q1
        """,
        expected={"P1": out_of_population("insufficient_history")},
    )


def test_trial_beats_discordant_and_keeps_the_recommendation(spec):
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
            P1         | 2023-06-01 | 62323 | S1      | C1        | Q1
        """,
        expected={"P1": clinical_trial("AX-EPI")},
    )


def test_rule_number_is_reported(spec):
    """sessions.parquet carries the number of the rule that decided (1-10)."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-05-02 | M45.9  | C9        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers
            P1         | 2023-06-01 | 62323 | S1      | C1        | Q0
        """,
        expected={"P1": out_of_population("inflammatory_arthropathy")},
    )
    assert [s["rule"] for s in run.sessions()] == [5]
