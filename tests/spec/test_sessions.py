"""Measure 3.3: a session is all counting lines of one family for one patient at one site on one
date; add-on codes, bilateral modifiers, units and several levels never make more than one
session; RFA + joint injection and DRG RF + epidural merge ("with or without"); a session's
allowed amount is the sum over its lines, merged lines included.

Unless a test says otherwise each patient has M54.50 (AXIAL) on claim C1 on 2023-06-01 and 120
days before (chronic)."""

from datetime import date
from decimal import Decimal

import pytest

from audit.config import load_settings
from tests.helpers import discordant
from tests.helpers import test_pack as make_pack

pytestmark = pytest.mark.spec


def test_lines_that_make_one_session(spec):
    """P1 an add-on code; P2 bilateral modifier 50; P3 RT and LT lines; P4 units 2; P5 several
    levels; P6 facet injection at three levels, bilateral; P7 two claims on the same day."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
            P5         | 1970-05-01
            P6         | 1970-05-01
            P7         | 1970-05-01
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
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id | modifiers | units
            P1         | 2023-06-01 | 64483 | S1      | C1        |           |
            P1         | 2023-06-01 | 64484 | S1      | C1        |           |
            P2         | 2023-06-01 | 64483 | S1      | C1        | 50        |
            P3         | 2023-06-01 | 64483 | S1      | C1        | RT        |
            P3         | 2023-06-01 | 64483 | S1      | C1        | LT        |
            P4         | 2023-06-01 | 64483 | S1      | C1        |           | 2
            P5         | 2023-06-01 | 64483 | S1      | C1        |           |
            P5         | 2023-06-01 | 64484 | S1      | C1        |           |
            P5         | 2023-06-01 | 64484 | S1      | C1        | 50        | 2
            P6         | 2023-06-01 | 64493 | S1      | C1        | 50        |
            P6         | 2023-06-01 | 64494 | S1      | C1        | 50        |
            P6         | 2023-06-01 | 64495 | S1      | C1        | 50        |
            P7         | 2023-06-01 | 64483 | S1      | C1        |           |
            P7         | 2023-06-01 | 64484 | S1      | C2        |           |
        """,
        expected={
            "P1": discordant("AX-EPI"),
            "P2": discordant("AX-EPI"),
            "P3": discordant("AX-EPI"),
            "P4": discordant("AX-EPI"),
            "P5": discordant("AX-EPI"),
            "P6": discordant("AX-JNT"),
            "P7": discordant("AX-EPI"),
        },
    )
    assert {s["patient_id"]: s["line_count"] for s in run.sessions()} == {
        "P1": 2,
        "P2": 1,
        "P3": 2,
        "P4": 1,
        "P5": 3,
        "P6": 3,
        "P7": 2,
    }


def test_different_sites_are_separate_sessions(spec):
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
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P1         | 2023-06-01 | 62323 | S2      | C1
        """,
        expected={"P1": [discordant("AX-EPI"), discordant("AX-EPI")]},
    )
    assert [s["site_id"] for s in run.sessions()] == ["S1", "S2"]


def test_different_dates_are_separate_sessions(spec):
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
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P1         | 2023-06-02 | 62323 | S1      | C1
        """,
        expected={"P1": [discordant("AX-EPI"), discordant("AX-EPI")]},
    )
    assert [s["session_date"] for s in run.sessions()] == [date(2023, 6, 1), date(2023, 6, 2)]


def test_different_families_are_separate_sessions(spec):
    """No merge between EPIDURAL, FACET_INJ and TRIGGER_POINT."""
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
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P1         | 2023-06-01 | 64493 | S1      | C1
            P1         | 2023-06-01 | 20552 | S1      | C1
        """,
        expected={"P1": [discordant("AX-EPI"), discordant("AX-JNT"), discordant("AX-IM")]},
    )
    assert [s["family"] for s in run.sessions()] == ["EPIDURAL", "FACET_INJ", "TRIGGER_POINT"]


def test_different_patients_are_separate_sessions(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1980-01-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2023-02-01 | M54.50 | D0        | S1
            P2         | 2023-06-01 | M54.50 | D1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | D1
        """,
        expected={"P1": discordant("AX-EPI"), "P2": discordant("AX-EPI")},
    )


def test_facet_rfa_with_facet_injection_is_one_rfa_session(spec):
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
            patient_id | event_date | code  | site_id | source_id | allowed_amount
            P1         | 2023-06-01 | 64635 | S1      | C1        | 500.00
            P1         | 2023-06-01 | 64493 | S1      | C1        | 200.50
        """,
        expected={"P1": discordant("AX-RFA")},
    )
    [session] = run.sessions()
    assert (session["family"], list(session["codes"]), session["allowed_amount"]) == (
        "FACET_RFA",
        ["64493", "64635"],
        Decimal("700.50"),
    )


def test_si_rfa_with_si_injection_is_one_rfa_session(spec):
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
            patient_id | event_date | code  | site_id | source_id | allowed_amount
            P1         | 2023-06-01 | 64625 | S1      | C1        | 400
            P1         | 2023-06-01 | 27096 | S1      | C1        | 100
            P1         | 2023-06-01 | G0260 | S1      | C1        | $1,000.25
        """,
        expected={"P1": discordant("AX-RFA")},
    )
    [session] = run.sessions()
    assert (session["family"], list(session["codes"]), session["allowed_amount"]) == (
        "SI_RFA",
        ["27096", "64625", "G0260"],
        Decimal("1500.25"),
    )


def test_facet_injection_with_si_rfa_merges_into_it(spec):
    """3.3: "a FACET_INJ or SI_INJ session ... as a FACET_RFA or SI_RFA session"."""
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
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64625 | S1      | C1
            P1         | 2023-06-01 | 64493 | S1      | C1
        """,
        expected={"P1": discordant("AX-RFA")},
    )
    [session] = run.sessions()
    assert (session["family"], list(session["codes"])) == ("SI_RFA", ["64493", "64625"])


def test_injection_merges_into_the_same_joint_rfa_when_both_rfas_are_there(spec):
    """Both a facet and an SI RFA on the day: the spec says the injection is part of "that RFA
    session" without naming which; the engine prefers the same joint (pack session_merges.csv
    preference 1), so the facet injection joins the facet RFA."""
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
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64635 | S1      | C1
            P1         | 2023-06-01 | 64625 | S1      | C1
            P1         | 2023-06-01 | 64493 | S1      | C1
        """,
        expected={"P1": [discordant("AX-RFA"), discordant("AX-RFA")]},
    )
    assert {s["family"]: list(s["codes"]) for s in run.sessions()} == {
        "FACET_RFA": ["64493", "64635"],
        "SI_RFA": ["64625"],
    }


def test_rfa_and_injection_at_another_site_or_date_do_not_merge(spec):
    """P1: the injection at another site; P2: a week earlier."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2023-02-01 | M54.50 | C0        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64635 | S1      | C1
            P1         | 2023-06-01 | 64493 | S2      | C1
            P2         | 2023-06-01 | 64635 | S1      | C1
            P2         | 2023-05-25 | 64493 | S1      | C1
        """,
        expected={
            "P1": [discordant("AX-RFA"), discordant("AX-JNT")],
            "P2": [discordant("AX-JNT"), discordant("AX-RFA")],
        },
    )
    assert [(s["patient_id"], s["family"]) for s in run.sessions()] == [
        ("P2", "FACET_INJ"),
        ("P1", "FACET_RFA"),
        ("P2", "FACET_RFA"),
        ("P1", "FACET_INJ"),
    ]


def test_injection_does_not_merge_into_a_non_counting_rfa_line(spec):
    """A denied RFA line makes no RFA session (3.1), so the injection stays its own session."""
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
            P1         | 2023-06-01 | 64635 | S1      | C1        | denied
            P1         | 2023-06-01 | 64493 | S1      | C1        | paid
        """,
        expected={"P1": discordant("AX-JNT")},
    )
    [session] = run.sessions()
    assert (session["family"], list(session["codes"])) == ("FACET_INJ", ["64493"])


def test_epidural_and_rfa_do_not_merge(spec):
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
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64635 | S1      | C1
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": [discordant("AX-EPI"), discordant("AX-RFA")]},
    )
    assert [s["family"] for s in run.sessions()] == ["EPIDURAL", "FACET_RFA"]


@pytest.fixture
def drg_settings(tmp_path):
    """The shipped pack has no DRG RF code: a test pack adds a SNOMED one, 999000001."""
    pack = make_pack(
        tmp_path, ["DRG_RF,SNOMED,999000001,Test DRG RF code,,true,,,test fixture,provisional"]
    )
    return load_settings(pack=pack)


def test_drg_rf_with_epidural_is_one_drg_session(spec, drg_settings):
    run = spec(
        settings=drg_settings,
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
            patient_id | event_date | code      | code_system | site_id | source_id | allowed_amount
            P1         | 2023-06-01 | 999000001 | SNOMED      | S1      | C1        | 900
            P1         | 2023-06-01 | 64483     | HCPCS       | S1      | C1        | 250
        """,
        expected={"P1": discordant("RAD-DRG")},
    )
    [session] = run.sessions()
    assert (session["family"], list(session["codes"]), session["allowed_amount"]) == (
        "DRG_RF",
        ["64483", "999000001"],
        Decimal("1150"),
    )


def test_drg_rf_and_epidural_at_another_site_do_not_merge(spec, drg_settings):
    run = spec(
        settings=drg_settings,
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
            patient_id | event_date | code      | code_system | site_id | source_id | allowed_amount
            P1         | 2023-06-01 | 999000001 | SNOMED      | S1      | C1        |
            P1         | 2023-06-01 | 64483     | HCPCS       | S2      | C1        |
        """,
        expected={"P1": [discordant("RAD-DRG"), discordant("RAD-EPI")]},
    )
    assert [s["family"] for s in run.sessions()] == ["DRG_RF", "EPIDURAL"]


def test_allowed_amount_is_summed_over_lines(spec):
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
            patient_id | event_date | code  | site_id | source_id | modifiers | allowed_amount
            P1         | 2023-06-01 | 64483 | S1      | C1        |           | 120.10
            P1         | 2023-06-01 | 64484 | S1      | C1        |           | 80.15
            P1         | 2023-06-01 | 64484 | S1      | C1        | 50        |
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    assert [s["allowed_amount"] for s in run.sessions()] == [Decimal("200.25")]


def test_codes_list_is_distinct_and_sorted(spec):
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
            P1         | 2023-06-01 | 64484 | S1      | C1        |
            P1         | 2023-06-01 | 64483 | S1      | C1        |
            P1         | 2023-06-01 | 64484 | S1      | C1        | 50
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    assert [list(s["codes"]) for s in run.sessions()] == [["64483", "64484"]]
