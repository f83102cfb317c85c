"""Measure 3.1: procedure lines whose status is denied, void, voided, reversed, cancelled or
entered_in_error (any case) do not count. Blank status counts. Any other value counts and is
listed (the engine lists it in the data-quality table, check status_value_counted).

Each patient has M54.50 (AXIAL) on the session's claim C1 and 120 days before (chronic)."""

from decimal import Decimal

import pytest

from tests.helpers import discordant

pytestmark = pytest.mark.spec


def test_non_counting_statuses_in_any_case_make_no_session(spec):
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
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | status
            P1         | 2023-06-01 | 62323 | S1      | C1        | denied
            P2         | 2023-06-01 | 62323 | S1      | C1        | void
            P3         | 2023-06-01 | 62323 | S1      | C1        | voided
            P4         | 2023-06-01 | 62323 | S1      | C1        | reversed
            P5         | 2023-06-01 | 62323 | S1      | C1        | cancelled
            P6         | 2023-06-01 | 62323 | S1      | C1        | entered_in_error
            P7         | 2023-06-01 | 62323 | S1      | C1        | DENIED
            P8         | 2023-06-01 | 62323 | S1      | C1        | Void
            P9         | 2023-06-01 | 62323 | S1      | C1        | Entered_In_Error
        """,
        expected={},
    )


def test_blank_and_other_statuses_count(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
            P5         | 1970-05-01
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
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | status
            P1         | 2023-06-01 | 62323 | S1      | C1        |
            P2         | 2023-06-01 | 62323 | S1      | C1        | paid
            P3         | 2023-06-01 | 62323 | S1      | C1        | pended
            P4         | 2023-06-01 | 62323 | S1      | C1        | PAID
            P5         | 2023-06-01 | 62323 | S1      | C1        | adjusted
        """,
        expected={f"P{i}": discordant("AX-EPI") for i in range(1, 6)},
    )


def test_counting_non_blank_status_is_listed(spec):
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
            patient_id | event_date | code  | site_id | source_id | status
            P1         | 2023-06-01 | 62323 | S1      | C1        | pended
            P1         | 2023-06-01 | 64483 | S1      | C1        |
            P1         | 2023-06-01 | 64484 | S1      | C1        | denied
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    listed = run.rows("data_quality", where="check_name = 'status_value_counted'")
    assert [(r["code"], r["row_count"]) for r in listed] == [("pended", 1)]


def test_denied_line_in_a_session_adds_no_code_and_no_amount(spec):
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
            patient_id | event_date | code  | site_id | source_id | status | allowed_amount
            P1         | 2023-06-01 | 64483 | S1      | C1        | paid   | 300.00
            P1         | 2023-06-01 | 64484 | S1      | C1        | DENIED | 150.00
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    [session] = run.sessions()
    assert (list(session["codes"]), session["allowed_amount"]) == (["64483"], Decimal("300.00"))


def test_non_counting_lines_are_reconciled_by_status(spec):
    """Nothing is lost: a non-counting line is counted in the reconciliation by its status."""
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
            patient_id | event_date | code  | site_id | source_id | status
            P1         | 2023-06-01 | 62323 | S1      | C1        | Void
            P1         | 2023-06-01 | 62323 | S1      | C1        | void
            P1         | 2023-06-01 | 62323 | S1      | C1        |
            P1         | 2023-06-01 | 99213 | S1      | C1        |
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    rows = run.rows("input_reconciliation", where="table_name = 'procedures'")
    assert {(r["disposition"], r["detail"]): r["row_count"] for r in rows} == {
        ("not_counting_status", "void"): 2,
        ("counted", "index_procedure"): 1,
        ("counted", "other_procedure"): 1,
    }
