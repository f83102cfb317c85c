"""Measure 3.5 rule 1: out_of_population / age_under_18 - age in whole years on the session date
below 18; section 2: with birth_year only, age counts from 1 July of that year."""

from datetime import date

import pytest

from tests.helpers import audit_sessions, outcome
from tests.spec._common import chronic_dx, one_line, only

pytestmark = pytest.mark.spec

UNDER_18 = ("out_of_population", "age_under_18", None)
IN_POPULATION = ("discordant", None, "AX-EPI")


def _session(extract, patients: str, session: date) -> dict:
    folder = extract(
        patients=patients,
        diagnoses=chronic_dx(session=session),
        procedures=one_line(session=session),
    )
    return only(audit_sessions(folder))


@pytest.mark.parametrize(
    ("session", "age", "expected"),
    [
        (date(2023, 5, 31), 17, UNDER_18),  # the day before the 18th birthday
        (date(2023, 6, 1), 18, IN_POPULATION),  # the 18th birthday
    ],
)
def test_eighteenth_birthday(extract, session, age, expected):
    s = _session(extract, "patient_id | birth_date\nP1 | 2005-06-01", session)
    assert (s["age"], outcome(s)) == (age, expected)


@pytest.mark.parametrize(
    ("session", "age", "expected"),
    [
        (date(2023, 6, 30), 17, UNDER_18),  # birth_year 2005: 30 June 2023 is still 17
        (date(2023, 7, 1), 18, IN_POPULATION),  # 1 July 2023: 18
    ],
)
def test_birth_year_only_counts_from_1_july(extract, session, age, expected):
    s = _session(extract, "patient_id | birth_date | birth_year\nP1 | | 2005", session)
    assert (s["age"], outcome(s)) == (age, expected)


@pytest.mark.parametrize(
    ("session", "age", "expected"),
    [
        (date(2022, 2, 28), 17, UNDER_18),
        (date(2022, 3, 1), 18, IN_POPULATION),
    ],
)
def test_feb_29_birthday_in_a_non_leap_year(extract, session, age, expected):
    """Born 2004-02-29; 2022 has no 29 February. The spec says only "age in whole years": the
    engine counts the year as completed on 1 March (28 February is still 17). Ambiguous in the
    spec; this pins the engine's documented choice (anchor_population.sql, anchor_ages)."""
    s = _session(extract, "patient_id | birth_date\nP1 | 2004-02-29", session)
    assert (s["age"], outcome(s)) == (age, expected)


def test_age_is_taken_on_the_session_date_not_the_run_date(extract):
    """17 at the session (2023), 20 on the as-of date (2026-01-01): still under 18."""
    s = _session(extract, "patient_id | birth_date\nP1 | 2005-09-15", date(2023, 6, 1))
    assert (s["age"], outcome(s)) == (17, UNDER_18)


def test_birth_date_wins_over_birth_year(extract):
    """Both given: birth_date is the exact value (birth_year would say 18 on 2023-07-01)."""
    s = _session(
        extract, "patient_id | birth_date | birth_year\nP1 | 2005-12-01 | 2005", date(2023, 7, 1)
    )
    assert (s["age"], outcome(s)) == (17, UNDER_18)
