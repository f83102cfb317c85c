"""Measure 3.5 rule 2: out_of_population / age_unknown - no birth_date or birth_year.

Each session is an epidural (62323) on 2023-06-01 with M54.50 (AXIAL) on its claim and again
120 days before (chronic): discordant AX-EPI when the age is known."""

import pytest

from tests.helpers import discordant, out_of_population

pytestmark = pytest.mark.spec


def test_no_birth_date_and_no_birth_year(spec):
    run = spec(
        patients="""
            patient_id | birth_date | birth_year
            P1         |            |
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("age_unknown")},
    )
    assert [s["age"] for s in run.sessions()] == [None]


def test_birth_date_column_only_and_blank(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         |
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("age_unknown")},
    )


def test_birth_year_alone_is_enough(spec):
    spec(
        patients="""
            patient_id | birth_year
            P1         | 1970
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_unusable_birth_date_counts_as_unknown(spec):
    """The spec names only a missing value; the engine keeps a patient whose birth date (or
    year) cannot be read, reports it as a value issue and applies rule 2 (patients_checked.sql
    header)."""
    spec(
        patients="""
            patient_id | birth_date | birth_year
            P1         | 2006-02-29 |
            P2         | not a date |
            P3         | 1970/13/45 |
            P4         |            | 19x0
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
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": out_of_population("age_unknown"),
            "P2": out_of_population("age_unknown"),
            "P3": out_of_population("age_unknown"),
            "P4": out_of_population("age_unknown"),
        },
    )


def test_age_unknown_comes_before_no_spine_indication_and_cancer(spec):
    """Rule 2 is tested before rules 3 and 4: no spine diagnosis, a cancer 30 days before."""
    spec(
        patients="""
            patient_id | birth_date
            P1         |
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-05-02 | C34.90 | C9        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("age_unknown")},
    )
