"""Measure section 2 (coverage) as used by rule 7: a patient's history for a session starts at
the start of the continuous coverage span that holds the session date (spans that overlap or
abut merge); for a patient with no coverage rows (or without a coverage table), at the patient's
earliest record of any kind.

Each session is an epidural (62323) on 2023-06-01 whose only spine diagnosis is M54.50 on its
claim C1: never chronic, so rule 7 reads where the history starts (acute from 90 days)."""

from datetime import date

import pytest

from tests.helpers import discordant, out_of_population

pytestmark = pytest.mark.spec


def test_span_after_a_gap_starts_the_history(spec):
    """Covered from 2020 to the end of 2022, then again from 61 days before the session."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1       # 1,100 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2020-01-01 | 2022-12-31
            P1         | 2023-04-01 |            # 61 days before
        """,
        expected={"P1": out_of_population("insufficient_history")},
    )
    assert [(s["patient_id"], s["history_start"]) for s in run.sessions()] == [
        ("P1", date(2023, 4, 1))
    ]


def test_one_day_gap_does_not_merge(spec):
    """2023-03-31 is not covered."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1       # 1,100 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2020-01-01 | 2023-03-30
            P1         | 2023-04-01 |
        """,
        expected={"P1": out_of_population("insufficient_history")},
    )


def test_abutting_spans_merge(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1       # 1,100 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2020-01-01 | 2023-03-31
            P1         | 2023-04-01 |
        """,
        expected={"P1": out_of_population("acute")},
    )
    assert [(s["patient_id"], s["history_start"]) for s in run.sessions()] == [
        ("P1", date(2020, 1, 1))
    ]


def test_overlapping_spans_merge(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1       # 1,100 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2023-05-02 | 2024-12-31
            P1         | 2020-01-01 | 2023-05-22
        """,
        expected={"P1": out_of_population("acute")},
    )
    assert [(s["patient_id"], s["history_start"]) for s in run.sessions()] == [
        ("P1", date(2020, 1, 1))
    ]


def test_contained_span_does_not_cut_the_enclosing_one(spec):
    """A short span inside a long one (out of order) must not end the merged span early."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1       # 1,100 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2020-01-01 | 2024-12-31
            P1         | 2020-03-01 | 2020-04-01
            P1         | 2023-05-12 | 2023-05-22
        """,
        expected={"P1": out_of_population("acute")},
    )
    assert [(s["patient_id"], s["history_start"]) for s in run.sessions()] == [
        ("P1", date(2020, 1, 1))
    ]


def test_span_ending_on_the_session_date_holds_it(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1       # 1,100 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2020-01-01 | 2023-06-01
        """,
        expected={"P1": out_of_population("acute")},
    )
    assert [(s["patient_id"], s["history_start"]) for s in run.sessions()] == [
        ("P1", date(2020, 1, 1))
    ]


def test_coverage_starting_89_days_before_is_insufficient_90_is_acute(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2020-05-27 | E11.9  | X0        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2023-03-04 |            # 89 days before
            P2         | 2023-03-03 |            # 90 days before
        """,
        expected={
            "P1": out_of_population("insufficient_history"),
            "P2": out_of_population("acute"),
        },
    )


def test_records_before_the_coverage_span_do_not_lengthen_history(spec):
    """The E11.9 record is 3 years old but the covered span began 30 days before."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1       # 1,100 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2023-05-02 | 2025-12-31
        """,
        expected={"P1": out_of_population("insufficient_history")},
    )


def test_session_outside_every_coverage_span(spec):
    """The spec does not say where history starts for a session outside all of a covered
    patient's spans. The engine (anchor_population.sql, session_history) starts it on the session
    date itself, so such a session is insufficient_history; its header's "coverage span holding
    the date, else first record" describes patients without coverage."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1       # 1,100 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2019-01-01 | 2022-12-31
        """,
        expected={"P1": out_of_population("insufficient_history")},
    )
    assert [(s["patient_id"], s["history_start"]) for s in run.sessions()] == [
        ("P1", date(2023, 6, 1))
    ]


def test_coverage_rows_of_other_patients_only(spec):
    """P1 has no coverage rows: first record (3 years before) - acute."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P9         | 1980-01-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2020-05-27 | E11.9  | X0        | S1       # 1,100 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P9         | 2023-05-22 |
        """,
        expected={"P1": out_of_population("acute")},
    )
    assert [(s["patient_id"], s["history_start"]) for s in run.sessions()] == [
        ("P1", date(2020, 5, 27))
    ]


def test_no_coverage_first_record_of_any_kind(spec):
    """History starts at the earliest record of any kind: here a procedure line 100 days
    before (the diagnoses begin on the session date), a non-counting index line for P1, a
    non-index procedure for P2."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | status
            P1         | 2023-02-21 | 62323 | S1      | C0        | denied   # 100 days before
            P1         | 2023-06-01 | 62323 | S1      | C1        |
            P2         | 2023-02-21 | 99213 | S1      | C0        |          # 100 days before
            P2         | 2023-06-01 | 62323 | S1      | C1        |
        """,
        expected={"P1": out_of_population("acute"), "P2": out_of_population("acute")},
    )
    assert [(s["patient_id"], s["history_start"]) for s in run.sessions()] == [
        ("P1", date(2023, 2, 21)),
        ("P2", date(2023, 2, 21)),
    ]


def test_no_coverage_first_record_89_days_before(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-03-04 | E11.9  | X0        | S1       # 89 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("insufficient_history")},
    )


def test_coverage_does_not_stop_a_chronic_session(spec):
    """Chronicity reads diagnoses, not coverage: a spine diagnosis 200 days before makes the
    session chronic even though coverage began 30 days before."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-11-13 | M54.50 | C0        | S1       # 200 days before
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        coverage="""
            patient_id | start_date | end_date
            P1         | 2023-05-02 |
        """,
        expected={"P1": discordant("AX-EPI")},
    )
