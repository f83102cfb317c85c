"""Measure 3.5 rule 9: discordant, with the recommendation the family and pain types give."""

import pytest

from audit.config import load_settings
from tests.helpers import audit_sessions, outcome
from tests.helpers import test_pack as make_pack
from tests.spec._common import one_patient_each, per_case

pytestmark = pytest.mark.spec

PATIENTS = """
patient_id | birth_date
P1         | 1970-05-01
"""


def _chronic(code: str) -> str:
    # a spine diagnosis 120 days before the session makes it chronic (rule 7)
    return f"""
    patient_id | event_date | code    | source_id | site_id
    P1         | 2022-11-01 | {code}  | C0        | S1
    P1         | 2023-03-01 | {code}  | C1        | S1
    """


@pytest.mark.parametrize(
    ("procedure_code", "dx", "expected"),
    [
        ("64635", "M54.50", "AX-RFA"),
        ("64625", "M54.50", "AX-RFA"),
        ("64493", "M54.50", "AX-JNT"),
        ("27096", "M46.1", "AX-JNT"),
        ("20552", "M54.2", "AX-IM"),
        ("62323", "M54.50", "AX-EPI"),
        ("64483", "M54.16", "RAD-EPI"),
    ],
)
def test_family_and_pain_type_give_the_recommendation(extract, procedure_code, dx, expected):
    folder = extract(
        patients=PATIENTS,
        diagnoses=_chronic(dx),
        procedures=f"""
        patient_id | event_date | code             | site_id | source_id
        P1         | 2023-03-01 | {procedure_code} | S1      | C1
        """,
    )
    [session] = audit_sessions(folder)
    assert outcome(session) == ("discordant", None, expected)


def _session(extract, procedures: str, diagnoses: str, settings=None) -> dict:
    folder = extract(patients=PATIENTS, diagnoses=diagnoses, procedures=procedures)
    [session] = audit_sessions(folder, settings=settings)
    return session


def _line(code: str, code_system: str = "") -> str:
    return f"""
    patient_id | event_date | code   | site_id | source_id | code_system
    P1         | 2023-03-01 | {code} | S1      | C1        | {code_system}
    """


BOTH = """
patient_id | event_date | code   | source_id | site_id
P1         | 2022-11-01 | M54.50 | C0        | S1
P1         | 2023-03-01 | M54.50 | C1        | S1
P1         | 2023-03-01 | M54.16 | C1        | S1
"""


def test_epidural_with_axial_and_radicular_is_rad_epi(extract):
    session = _session(extract, _line("62323"), BOTH)
    assert list(session["pain_types"]) == ["AXIAL", "RADICULAR"]
    assert outcome(session) == ("discordant", None, "RAD-EPI")


def test_joint_injection_with_axial_and_radicular_is_ax_jnt(extract):
    session = _session(extract, _line("64493"), BOTH)
    assert outcome(session) == ("discordant", None, "AX-JNT")


MORE = [
    ("64633", "M54.2", "AX-RFA"),
    ("64490", "M54.2", "AX-JNT"),
    ("G0260", "M46.1", "AX-JNT"),
    ("64451", "M46.1", "AX-JNT"),
    ("20553", "M54.89", "AX-IM"),
    ("62321", "M54.12", "RAD-EPI"),
    ("0230T", "M51.16", "RAD-EPI"),
    ("64479", "M50.10", "RAD-EPI"),
    ("62322", "M48.061", "AX-EPI"),  # M48.0x except M48.062 is AXIAL
    ("62322", "M48.062", "RAD-EPI"),  # ... and M48.062 is RADICULAR
    ("62322", "M51.362", "AX-EPI"),  # FY2025 M51.36x sub-code
]


def test_more_families_and_pain_types(extract):
    """One patient per (procedure, indication) pair, in one run."""
    cases = [{"procedure": code, "dx": dx, "history": dx} for code, dx, _ in MORE]
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases) == [("discordant", None, rec) for _, _, rec in MORE]


def test_drg_rf_with_radicular_is_rad_drg(extract, tmp_path):
    """No HCPCS code exists for DRG RF; a test pack adds a SNOMED procedure code for it."""
    pack = make_pack(
        tmp_path, ["DRG_RF,SNOMED,999000001,Test DRG RF code,,true,,,test fixture,provisional"]
    )
    session = _session(
        extract,
        _line("999000001", "SNOMED"),
        _chronic("M54.16"),
        settings=load_settings(pack=pack),
    )
    assert (session["family"], outcome(session)) == ("DRG_RF", ("discordant", None, "RAD-DRG"))
