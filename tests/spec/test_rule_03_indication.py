"""Measure 3.5 rule 3: out_of_population / no_spine_indication - no AXIAL or RADICULAR diagnosis
among the session's indication diagnoses (3.4).

Each session is an epidural (62323) on 2023-06-01 at S1 on claim C1."""

import pytest

from tests.helpers import out_of_population

pytestmark = pytest.mark.spec


def test_no_diagnosis_at_all(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code | source_id | site_id
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("no_spine_indication")},
    )
    assert [list(s["pain_types"]) for s in run.sessions()] == [[]]


def test_only_non_spine_diagnoses_on_the_session(spec):
    """Each patient has a chronic spine history but a non-spine code on the session's claim."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | E11.9  | C1        | S1       # not spine pain
            P2         | 2023-02-01 | M54.50 | C0        | S1
            P2         | 2023-06-01 | M54.81 | C1        | S1       # M54.8x is not AXIAL, M54.89 is
            P3         | 2023-02-01 | M54.50 | C0        | S1
            P3         | 2023-06-01 | G89.29 | C1        | S1       # chronic pain is no pain type
            P4         | 2023-02-01 | M54.50 | C0        | S1
            P4         | 2023-06-01 | Z00.6  | C1        | S1       # nor is a trial code
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": out_of_population("no_spine_indication"),
            "P2": out_of_population("no_spine_indication"),
            "P3": out_of_population("no_spine_indication"),
            "P4": out_of_population("no_spine_indication"),
        },
    )


def test_earlier_spine_diagnosis_on_another_claim_is_not_an_indication(spec):
    """The 120-day-old diagnosis would make the session chronic (rule 7) but is not one of its
    indication diagnoses (3.4: same source_id or same date)."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("no_spine_indication")},
    )


def test_no_spine_indication_comes_before_cancer(spec):
    """Rule 3 is tested before rule 4: the only diagnosis on the claim is a cancer."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-06-01 | C34.90 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("no_spine_indication")},
    )
