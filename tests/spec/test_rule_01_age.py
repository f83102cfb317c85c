"""Measure 3.5 rule 1: out_of_population / age_under_18 - age in whole years on the session date
below 18; section 2: with birth_year only, age counts from 1 July of that year.

Each session is an epidural (62323) with M54.50 (AXIAL) on its claim and again 120 days before
(chronic): discordant AX-EPI when the age lets it in."""

import pytest

from tests.helpers import discordant, out_of_population

pytestmark = pytest.mark.spec


def ages(run) -> dict[str, int | None]:
    return {s["patient_id"]: s["age"] for s in run.sessions()}


def test_eighteenth_birthday(spec):
    """Both born 2005-06-01: P1's session is the day before the 18th birthday, P2's on it."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 2005-06-01
            P2         | 2005-06-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-01-31 | M54.50 | C0        | S1
            P1         | 2023-05-31 | M54.50 | C1        | S1
            P2         | 2023-02-01 | M54.50 | C0        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-05-31 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("age_under_18"), "P2": discordant("AX-EPI")},
    )
    assert ages(run) == {"P1": 17, "P2": 18}


def test_birth_year_only_counts_from_1_july(spec):
    """birth_year 2005: 30 June 2023 is still 17, 1 July 2023 is 18."""
    run = spec(
        patients="""
            patient_id | birth_date | birth_year
            P1         |            | 2005
            P2         |            | 2005
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-03-02 | M54.50 | C0        | S1
            P1         | 2023-06-30 | M54.50 | C1        | S1
            P2         | 2023-03-03 | M54.50 | C0        | S1
            P2         | 2023-07-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-30 | 62323 | S1      | C1
            P2         | 2023-07-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("age_under_18"), "P2": discordant("AX-EPI")},
    )
    assert ages(run) == {"P1": 17, "P2": 18}


def test_feb_29_birthday_in_a_non_leap_year(spec):
    """Born 2004-02-29; 2022 has no 29 February. The spec says only "age in whole years": the
    engine counts the year as completed on 1 March (28 February is still 17). Ambiguous in the
    spec; this pins the engine's documented choice (anchor_population.sql, anchor_ages)."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 2004-02-29
            P2         | 2004-02-29
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-10-31 | M54.50 | C0        | S1
            P1         | 2022-02-28 | M54.50 | C1        | S1
            P2         | 2021-11-01 | M54.50 | C0        | S1
            P2         | 2022-03-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2022-02-28 | 62323 | S1      | C1
            P2         | 2022-03-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("age_under_18"), "P2": discordant("AX-EPI")},
    )
    assert ages(run) == {"P1": 17, "P2": 18}


def test_age_is_taken_on_the_session_date_not_the_run_date(spec):
    """17 at the session (2023), 20 on the as-of date (2026-01-01): still under 18."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 2005-09-15
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
        expected={"P1": out_of_population("age_under_18")},
    )
    assert ages(run) == {"P1": 17}


def test_birth_date_wins_over_birth_year(spec):
    """Both given: birth_date is the exact value (birth_year would say 18 on 2023-07-01)."""
    run = spec(
        patients="""
            patient_id | birth_date | birth_year
            P1         | 2005-12-01 | 2005
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-03-03 | M54.50 | C0        | S1
            P1         | 2023-07-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-07-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("age_under_18")},
    )
    assert ages(run) == {"P1": 17}
