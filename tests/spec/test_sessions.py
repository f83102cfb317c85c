"""Measure 3.3: a session is all counting lines of one family for one patient at one site on one
date; add-on codes, bilateral modifiers, units and several levels never make more than one
session; RFA + joint injection and DRG RF + epidural merge ("with or without"); a session's
allowed amount is the sum over its lines, merged lines included."""

from decimal import Decimal

import pytest

from audit.config import load_settings
from tests.helpers import audit_sessions, outcome
from tests.helpers import test_pack as make_pack
from tests.spec._common import ADULT, SESSION, chronic_dx, only, shift

pytestmark = pytest.mark.spec

HEADER = "patient_id | event_date | code | site_id | source_id | modifiers | units | allowed_amount"


def _sessions(extract, *lines: str, diagnoses: str | None = None, settings=None) -> list[dict]:
    folder = extract(
        patients=ADULT,
        diagnoses=diagnoses or chronic_dx(),
        procedures="\n".join([HEADER, *lines]),
    )
    return audit_sessions(folder, settings=settings)


def _line(
    code: str,
    modifiers: str = "",
    units: str = "",
    amount: str = "",
    date: str = str(SESSION),
    site: str = "S1",
    source: str = "C1",
) -> str:
    return f"P1 | {date} | {code} | {site} | {source} | {modifiers} | {units} | {amount}"


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([_line("64483"), _line("64484")], id="add-on code"),
        pytest.param([_line("64483", "50")], id="bilateral modifier 50"),
        pytest.param([_line("64483", "RT"), _line("64483", "LT")], id="RT and LT lines"),
        pytest.param([_line("64483", units="2")], id="units 2"),
        pytest.param(
            [_line("64483"), _line("64484"), _line("64484", "50", "2")], id="several levels"
        ),
        pytest.param(
            [_line("64493", "50"), _line("64494", "50"), _line("64495", "50")],
            id="facet three levels bilateral",
        ),
        pytest.param(
            [_line("64483", source="C1"), _line("64484", source="C2")], id="two claims same day"
        ),
    ],
)
def test_one_session(extract, lines):
    s = only(_sessions(extract, *lines))
    assert s["line_count"] == len(lines)


def test_different_sites_are_separate_sessions(extract):
    sessions = _sessions(extract, _line("62323", site="S1"), _line("62323", site="S2"))
    assert [s["site_id"] for s in sessions] == ["S1", "S2"]


def test_different_dates_are_separate_sessions(extract):
    sessions = _sessions(extract, _line("62323"), _line("62323", date=shift(1)))
    assert [str(s["session_date"]) for s in sessions] == [str(SESSION), shift(1)]


def test_different_families_are_separate_sessions(extract):
    """No merge between EPIDURAL, FACET_INJ and TRIGGER_POINT."""
    sessions = _sessions(extract, _line("62323"), _line("64493"), _line("20552"))
    assert sorted(s["family"] for s in sessions) == ["EPIDURAL", "FACET_INJ", "TRIGGER_POINT"]


def test_different_patients_are_separate_sessions(extract):
    folder = extract(
        patients="patient_id | birth_date\nP1 | 1970-05-01\nP2 | 1980-01-01",
        diagnoses=chronic_dx(
            extra=f"P2 | {shift(-120)} | M54.50 | D0 | S1\nP2 | {SESSION} | M54.50 | D1 | S1"
        ),
        procedures="\n".join(
            [HEADER, _line("62323"), _line("62323", source="D1").replace("P1", "P2", 1)]
        ),
    )
    sessions = audit_sessions(folder)
    assert [(s["patient_id"], s["outcome"]) for s in sessions] == [
        ("P1", "discordant"),
        ("P2", "discordant"),
    ]


def test_facet_rfa_with_facet_injection_is_one_rfa_session(extract):
    s = only(_sessions(extract, _line("64635", amount="500.00"), _line("64493", amount="200.50")))
    assert (s["family"], list(s["codes"]), s["allowed_amount"]) == (
        "FACET_RFA",
        ["64493", "64635"],
        Decimal("700.50"),
    )
    assert outcome(s) == ("discordant", None, "AX-RFA")


def test_si_rfa_with_si_injection_is_one_rfa_session(extract):
    s = only(
        _sessions(
            extract,
            _line("64625", amount="400"),
            _line("27096", amount="100"),
            _line("G0260", amount="$1,000.25"),
        )
    )
    assert (s["family"], list(s["codes"]), s["allowed_amount"]) == (
        "SI_RFA",
        ["27096", "64625", "G0260"],
        Decimal("1500.25"),
    )


def test_facet_injection_with_si_rfa_merges_into_it(extract):
    """3.3: "a FACET_INJ or SI_INJ session ... as a FACET_RFA or SI_RFA session"."""
    s = only(_sessions(extract, _line("64625"), _line("64493")))
    assert (s["family"], list(s["codes"])) == ("SI_RFA", ["64493", "64625"])


def test_injection_merges_into_the_same_joint_rfa_when_both_rfas_are_there(extract):
    """Both a facet and an SI RFA on the day: the spec says the injection is part of "that RFA
    session" without naming which; the engine prefers the same joint (pack session_merges.csv
    preference 1), so the facet injection joins the facet RFA."""
    sessions = _sessions(extract, _line("64635"), _line("64625"), _line("64493"))
    assert {s["family"]: list(s["codes"]) for s in sessions} == {
        "FACET_RFA": ["64493", "64635"],
        "SI_RFA": ["64625"],
    }


@pytest.mark.parametrize(
    ("rfa", "injection"),
    [
        pytest.param({"site": "S1"}, {"site": "S2"}, id="other site"),
        pytest.param({}, {"date": shift(-7)}, id="other date"),
    ],
)
def test_rfa_and_injection_at_another_site_or_date_do_not_merge(extract, rfa, injection):
    sessions = _sessions(extract, _line("64635", **rfa), _line("64493", **injection))
    assert sorted(s["family"] for s in sessions) == ["FACET_INJ", "FACET_RFA"]


def test_injection_does_not_merge_into_a_non_counting_rfa_line(extract):
    """A denied RFA line makes no RFA session (3.1), so the injection stays its own session."""
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx(),
        procedures=f"""
        patient_id | event_date | code  | site_id | source_id | status
        P1         | {SESSION}  | 64635 | S1      | C1        | denied
        P1         | {SESSION}  | 64493 | S1      | C1        | paid
        """,
    )
    s = only(audit_sessions(folder))
    assert (s["family"], list(s["codes"]), outcome(s)) == (
        "FACET_INJ",
        ["64493"],
        ("discordant", None, "AX-JNT"),
    )


def test_epidural_and_rfa_do_not_merge(extract):
    sessions = _sessions(extract, _line("64635"), _line("62323"))
    assert sorted(s["family"] for s in sessions) == ["EPIDURAL", "FACET_RFA"]


@pytest.fixture
def drg_settings(tmp_path):
    pack = make_pack(
        tmp_path, ["DRG_RF,SNOMED,999000001,Test DRG RF code,,true,,,test fixture,provisional"]
    )
    return load_settings(pack=pack)


def _drg_line(site: str = "S1", amount: str = "") -> str:
    return f"P1 | {SESSION} | 999000001 | {site} | C1 | | | {amount} | SNOMED"


def test_drg_rf_with_epidural_is_one_drg_session(extract, drg_settings):
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx("M54.16"),
        procedures="\n".join(
            [
                HEADER + " | code_system",
                _drg_line(amount="900"),
                _line("64483", amount="250") + " | HCPCS",
            ]
        ),
    )
    s = only(audit_sessions(folder, settings=drg_settings))
    assert (s["family"], list(s["codes"]), s["allowed_amount"]) == (
        "DRG_RF",
        ["64483", "999000001"],
        Decimal("1150"),
    )
    assert outcome(s) == ("discordant", None, "RAD-DRG")


def test_drg_rf_and_epidural_at_another_site_do_not_merge(extract, drg_settings):
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx("M54.16"),
        procedures="\n".join(
            [
                HEADER + " | code_system",
                _drg_line(site="S1"),
                _line("64483", site="S2") + " | HCPCS",
            ]
        ),
    )
    sessions = audit_sessions(folder, settings=drg_settings)
    assert sorted(s["family"] for s in sessions) == ["DRG_RF", "EPIDURAL"]


def test_allowed_amount_is_summed_over_lines(extract):
    s = only(
        _sessions(
            extract,
            _line("64483", amount="120.10"),
            _line("64484", amount="80.15"),
            _line("64484", "50", amount=""),
        )
    )
    assert s["allowed_amount"] == Decimal("200.25")


def test_codes_list_is_distinct_and_sorted(extract):
    s = only(_sessions(extract, _line("64484"), _line("64483"), _line("64484", "50")))
    assert list(s["codes"]) == ["64483", "64484"]
