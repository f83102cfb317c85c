"""Measure section 2 (coverage) as used by rule 7: a patient's history for a session starts at
the start of the continuous coverage span that holds the session date (spans that overlap or
abut merge); for a patient with no coverage rows (or without a coverage table), at the patient's
earliest record of any kind."""

import pytest

from tests.helpers import audit_sessions, outcome
from tests.spec._common import ADULT, SESSION, before, one_line, only

pytestmark = pytest.mark.spec

ACUTE = ("out_of_population", "acute", None)
INSUFFICIENT = ("out_of_population", "insufficient_history", None)
# Only the session-date diagnosis is spine pain: the session is never chronic, so rule 7 reads
# the history start. A non-spine record 3 years before would make it acute without coverage.
DIAGNOSES = f"""
patient_id | event_date     | code   | source_id | site_id
P1         | {before(1100)} | E11.9  | X0        | S1
P1         | {SESSION}      | M54.50 | C1        | S1
"""


def _session(
    extract, coverage: str | None, diagnoses: str = DIAGNOSES, procedures: str | None = None
) -> dict:
    tables = {"patients": ADULT, "diagnoses": diagnoses, "procedures": procedures or one_line()}
    if coverage is not None:
        tables["coverage"] = "patient_id | start_date | end_date\n" + coverage
    return only(audit_sessions(extract(**tables)))


def test_span_after_a_gap_starts_the_history(extract):
    """Covered from 2020 to the end of 2022, then again from 61 days before the session."""
    s = _session(extract, f"P1 | 2020-01-01 | 2022-12-31\nP1 | {before(61)} |")
    assert (outcome(s), s["history_start"].isoformat()) == (INSUFFICIENT, before(61))


def test_one_day_gap_does_not_merge(extract):
    s = _session(extract, f"P1 | 2020-01-01 | {before(63)}\nP1 | {before(61)} |")
    assert outcome(s) == INSUFFICIENT


def test_abutting_spans_merge(extract):
    s = _session(extract, f"P1 | 2020-01-01 | {before(62)}\nP1 | {before(61)} |")
    assert (outcome(s), str(s["history_start"])) == (ACUTE, "2020-01-01")


def test_overlapping_spans_merge(extract):
    s = _session(extract, f"P1 | {before(30)} | 2024-12-31\nP1 | 2020-01-01 | {before(10)}")
    assert (outcome(s), str(s["history_start"])) == (ACUTE, "2020-01-01")


def test_contained_span_does_not_cut_the_enclosing_one(extract):
    """A short span inside a long one (out of order) must not end the merged span early."""
    s = _session(
        extract,
        f"P1 | 2020-01-01 | 2024-12-31\nP1 | 2020-03-01 | 2020-04-01\n"
        f"P1 | {before(20)} | {before(10)}",
    )
    assert (outcome(s), str(s["history_start"])) == (ACUTE, "2020-01-01")


def test_span_ending_on_the_session_date_holds_it(extract):
    s = _session(extract, f"P1 | 2020-01-01 | {SESSION}")
    assert (outcome(s), str(s["history_start"])) == (ACUTE, "2020-01-01")


@pytest.mark.parametrize(("days", "expected"), [(89, INSUFFICIENT), (90, ACUTE)])
def test_coverage_start_89_vs_90_days_before(extract, days, expected):
    s = _session(extract, f"P1 | {before(days)} |")
    assert outcome(s) == expected


def test_records_before_the_coverage_span_do_not_lengthen_history(extract):
    """The E11.9 record is 3 years old but the covered span began 30 days before."""
    s = _session(extract, f"P1 | {before(30)} | 2025-12-31")
    assert outcome(s) == INSUFFICIENT


def test_session_outside_every_coverage_span(extract):
    """The spec does not say where history starts for a session outside all of a covered
    patient's spans. The engine (anchor_population.sql, session_history) starts it on the session
    date itself, so such a session is insufficient_history; its header's "coverage span holding
    the date, else first record" describes patients without coverage."""
    s = _session(extract, "P1 | 2019-01-01 | 2022-12-31")
    assert (outcome(s), s["history_start"]) == (INSUFFICIENT, SESSION)


def test_coverage_rows_of_other_patients_only(extract):
    """P1 has no coverage rows: first record (3 years before) - acute."""
    tables = {
        "patients": ADULT + "P9 | 1980-01-01\n",
        "diagnoses": DIAGNOSES,
        "procedures": one_line(),
        "coverage": f"patient_id | start_date | end_date\nP9 | {before(10)} |",
    }
    s = only(audit_sessions(extract(**tables)))
    assert (outcome(s), s["history_start"].isoformat()) == (ACUTE, before(1100))


@pytest.mark.parametrize(
    ("code", "status"),
    [
        pytest.param("62323", "denied", id="a non-counting index line"),
        pytest.param("99213", "", id="a non-index procedure"),
    ],
)
def test_no_coverage_first_record_of_any_kind(extract, code, status):
    """History starts at the earliest record of any kind: here a procedure line 100 days
    before (the diagnoses begin on the session date)."""
    s = _session(
        extract,
        None,
        diagnoses=f"patient_id | event_date | code | source_id | site_id\n"
        f"P1 | {SESSION} | M54.50 | C1 | S1",
        procedures=f"""
        patient_id | event_date    | code   | site_id | source_id | status
        P1         | {before(100)} | {code} | S1      | C0        | {status}
        P1         | {SESSION}     | 62323  | S1      | C1        |
        """,
    )
    assert (outcome(s), s["history_start"].isoformat()) == (ACUTE, before(100))


def test_no_coverage_first_record_89_days_before(extract):
    s = _session(
        extract,
        None,
        diagnoses=f"patient_id | event_date | code | source_id | site_id\n"
        f"P1 | {before(89)} | E11.9 | X0 | S1\nP1 | {SESSION} | M54.50 | C1 | S1",
    )
    assert outcome(s) == INSUFFICIENT


def test_coverage_does_not_stop_a_chronic_session(extract):
    """Chronicity reads diagnoses, not coverage: a spine diagnosis 200 days before makes the
    session chronic even though coverage began 30 days before."""
    s = _session(
        extract,
        f"P1 | {before(30)} |",
        diagnoses=f"patient_id | event_date | code | source_id | site_id\n"
        f"P1 | {before(200)} | M54.50 | C0 | S1\nP1 | {SESSION} | M54.50 | C1 | S1",
    )
    assert outcome(s) == ("discordant", None, "AX-EPI")
