"""Measure 3.1: procedure lines whose status is denied, void, voided, reversed, cancelled or
entered_in_error (any case) do not count. Blank status counts. Any other value counts and is
listed (the engine lists it in the data-quality table, check status_value_counted)."""

from decimal import Decimal

import pytest

from tests.helpers import audit_sessions, audit_table, outcome
from tests.spec._common import ADULT, SESSION, before, chronic_dx, only

pytestmark = pytest.mark.spec


def _procedures(*rows: tuple[str, str, str]) -> str:
    """Lines (code, status, allowed_amount) on SESSION at S1, claim C1."""
    lines = ["patient_id | event_date | code | site_id | source_id | status | allowed_amount"]
    lines += [f"P1 | {SESSION} | {c} | S1 | C1 | {st} | {amt}" for c, st, amt in rows]
    return "\n".join(lines)


NON_COUNTING = [
    "denied",
    "void",
    "voided",
    "reversed",
    "cancelled",
    "entered_in_error",
    "DENIED",
    "Void",
    "Entered_In_Error",
]
COUNTING = ["", "paid", "pended", "PAID", "adjusted"]


def _one_patient_per_status(statuses: list[str]) -> dict[str, str]:
    """Patient S<i> has one chronic AXIAL epidural line whose status is statuses[i]."""
    patients = ["patient_id | birth_date"]
    diagnoses = ["patient_id | event_date | code | source_id | site_id"]
    procedures = ["patient_id | event_date | code | site_id | source_id | status"]
    for i, status in enumerate(statuses):
        patients.append(f"S{i} | 1970-05-01")
        diagnoses.append(f"S{i} | {before(120)} | M54.50 | C0 | S1")
        diagnoses.append(f"S{i} | {SESSION} | M54.50 | C1 | S1")
        procedures.append(f"S{i} | {SESSION} | 62323 | S1 | C1 | {status}")
    return {
        "patients": "\n".join(patients),
        "diagnoses": "\n".join(diagnoses),
        "procedures": "\n".join(procedures),
    }


def test_non_counting_statuses_in_any_case_make_no_session(extract):
    folder = extract(**_one_patient_per_status(NON_COUNTING))
    assert audit_sessions(folder) == []


def test_blank_and_other_statuses_count(extract):
    folder = extract(**_one_patient_per_status(COUNTING))
    sessions = audit_sessions(folder)
    by_status = {COUNTING[int(s["patient_id"][1:])]: outcome(s) for s in sessions}
    assert by_status == dict.fromkeys(COUNTING, ("discordant", None, "AX-EPI"))


def test_counting_non_blank_status_is_listed(extract):
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx(),
        procedures=_procedures(("62323", "pended", ""), ("64483", "", ""), ("64484", "denied", "")),
    )
    listed = {
        (r["code"], r["row_count"])
        for r in audit_table(folder, "data_quality")
        if r["check_name"] == "status_value_counted"
    }
    assert listed == {("pended", 1)}


def test_denied_line_in_a_session_adds_no_code_and_no_amount(extract):
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx(),
        procedures=_procedures(("64483", "paid", "300.00"), ("64484", "DENIED", "150.00")),
    )
    s = only(audit_sessions(folder))
    assert (list(s["codes"]), s["allowed_amount"]) == (["64483"], Decimal("300.00"))


def test_non_counting_lines_are_reconciled_by_status(extract):
    """Nothing is lost: a non-counting line is counted in the reconciliation by its status."""
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx(),
        procedures=_procedures(
            ("62323", "Void", ""), ("62323", "void", ""), ("62323", "", ""), ("99213", "", "")
        ),
    )
    rows = {
        (r["disposition"], r["detail"]): r["row_count"]
        for r in audit_table(folder, "input_reconciliation")
        if r["table_name"] == "procedures"
    }
    assert rows == {
        ("not_counting_status", "void"): 2,
        ("counted", "index_procedure"): 1,
        ("counted", "other_procedure"): 1,
    }
