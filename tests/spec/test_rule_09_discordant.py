"""Measure 3.5 rule 9: discordant, with the recommendation the family and pain types give.

Each patient has its indication diagnosis on the session's claim C1 and again 120 days before
(chronic)."""

import pytest

from audit.config import load_settings
from tests.helpers import discordant
from tests.helpers import test_pack as make_pack

pytestmark = pytest.mark.spec


def test_family_and_pain_type_give_the_recommendation(spec):
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
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2023-02-01 | M54.50 | C0        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
            P3         | 2023-02-01 | M54.50 | C0        | S1
            P3         | 2023-06-01 | M54.50 | C1        | S1
            P4         | 2023-02-01 | M46.1  | C0        | S1
            P4         | 2023-06-01 | M46.1  | C1        | S1
            P5         | 2023-02-01 | M54.2  | C0        | S1
            P5         | 2023-06-01 | M54.2  | C1        | S1
            P6         | 2023-02-01 | M54.50 | C0        | S1
            P6         | 2023-06-01 | M54.50 | C1        | S1
            P7         | 2023-02-01 | M54.16 | C0        | S1
            P7         | 2023-06-01 | M54.16 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64635 | S1      | C1
            P2         | 2023-06-01 | 64625 | S1      | C1
            P3         | 2023-06-01 | 64493 | S1      | C1
            P4         | 2023-06-01 | 27096 | S1      | C1
            P5         | 2023-06-01 | 20552 | S1      | C1
            P6         | 2023-06-01 | 62323 | S1      | C1
            P7         | 2023-06-01 | 64483 | S1      | C1
        """,
        expected={
            "P1": discordant("AX-RFA"),
            "P2": discordant("AX-RFA"),
            "P3": discordant("AX-JNT"),
            "P4": discordant("AX-JNT"),
            "P5": discordant("AX-IM"),
            "P6": discordant("AX-EPI"),
            "P7": discordant("RAD-EPI"),
        },
    )


def test_more_families_and_pain_types(spec):
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
            P10        | 1970-05-01
            P11        | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code    | source_id | site_id
            P1         | 2023-02-01 | M54.2   | C0        | S1
            P1         | 2023-06-01 | M54.2   | C1        | S1
            P2         | 2023-02-01 | M54.2   | C0        | S1
            P2         | 2023-06-01 | M54.2   | C1        | S1
            P3         | 2023-02-01 | M46.1   | C0        | S1
            P3         | 2023-06-01 | M46.1   | C1        | S1
            P4         | 2023-02-01 | M46.1   | C0        | S1
            P4         | 2023-06-01 | M46.1   | C1        | S1
            P5         | 2023-02-01 | M54.89  | C0        | S1
            P5         | 2023-06-01 | M54.89  | C1        | S1
            P6         | 2023-02-01 | M54.12  | C0        | S1
            P6         | 2023-06-01 | M54.12  | C1        | S1
            P7         | 2023-02-01 | M51.16  | C0        | S1
            P7         | 2023-06-01 | M51.16  | C1        | S1
            P8         | 2023-02-01 | M50.10  | C0        | S1
            P8         | 2023-06-01 | M50.10  | C1        | S1
            P9         | 2023-02-01 | M48.061 | C0        | S1
            P9         | 2023-06-01 | M48.061 | C1        | S1
            P10        | 2023-02-01 | M48.062 | C0        | S1
            P10        | 2023-06-01 | M48.062 | C1        | S1
            P11        | 2023-02-01 | M51.362 | C0        | S1
            P11        | 2023-06-01 | M51.362 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64633 | S1      | C1
            P2         | 2023-06-01 | 64490 | S1      | C1
            P3         | 2023-06-01 | G0260 | S1      | C1
            P4         | 2023-06-01 | 64451 | S1      | C1
            P5         | 2023-06-01 | 20553 | S1      | C1
            P6         | 2023-06-01 | 62321 | S1      | C1
            P7         | 2023-06-01 | 0230T | S1      | C1
            P8         | 2023-06-01 | 64479 | S1      | C1
            P9         | 2023-06-01 | 62322 | S1      | C1        # M48.0x except M48.062: AXIAL
            P10        | 2023-06-01 | 62322 | S1      | C1        # M48.062 is RADICULAR
            P11        | 2023-06-01 | 62322 | S1      | C1        # FY2025 M51.36x sub-code
        """,
        expected={
            "P1": discordant("AX-RFA"),
            "P2": discordant("AX-JNT"),
            "P3": discordant("AX-JNT"),
            "P4": discordant("AX-JNT"),
            "P5": discordant("AX-IM"),
            "P6": discordant("RAD-EPI"),
            "P7": discordant("RAD-EPI"),
            "P8": discordant("RAD-EPI"),
            "P9": discordant("AX-EPI"),
            "P10": discordant("RAD-EPI"),
            "P11": discordant("AX-EPI"),
        },
    )


def test_epidural_with_axial_and_radicular_is_rad_epi(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-06-01 | M54.16 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("RAD-EPI")},
    )
    assert [list(s["pain_types"]) for s in run.sessions()] == [["AXIAL", "RADICULAR"]]


def test_joint_injection_with_axial_and_radicular_is_ax_jnt(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-06-01 | M54.16 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64493 | S1      | C1
        """,
        expected={"P1": discordant("AX-JNT")},
    )


def test_drg_rf_with_radicular_is_rad_drg(spec, tmp_path):
    """No HCPCS code exists for DRG RF; a test pack adds a SNOMED procedure code for it."""
    pack = make_pack(
        tmp_path, ["DRG_RF,SNOMED,999000001,Test DRG RF code,,true,,,test fixture,provisional"]
    )
    run = spec(
        settings=load_settings(pack=pack),
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
            patient_id | event_date | code      | code_system | site_id | source_id
            P1         | 2023-06-01 | 999000001 | SNOMED      | S1      | C1
        """,
        expected={"P1": discordant("RAD-DRG")},
    )
    assert [s["family"] for s in run.sessions()] == ["DRG_RF"]
