"""Measure 3.5 rule 6: out_of_population / other_specific_cause - within the 365 days up to the
session date a vertebral fracture, spinal infection or cauda equina syndrome; on the session date
a pregnancy or delivery code. Switchable off (setting other_specific_cause).

Each session is an epidural (62323) on 2023-06-01 with M54.50 (AXIAL) on its claim C1 and again
120 days before (chronic): discordant AX-EPI unless an exclusion applies."""

import pytest

from audit.config import load_settings
from tests.helpers import discordant, out_of_population

pytestmark = pytest.mark.spec


def test_fracture_within_365_days(spec):
    """ "Within the 365 days up to the session date": 0 to 365 days before, both ends included
    (pack exclusion_rules.csv), the same reading as rule 4."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code     | source_id | site_id
            P1         | 2023-06-01 | S32.010A | C9        | S1       # on the session date
            P2         | 2022-06-01 | S32.010A | C9        | S1       # 365 days before
            P3         | 2022-05-31 | S32.010A | C9        | S1       # 366 days before
            P4         | 2023-06-02 | S32.010A | C9        | S1       # the day after
            P1         | 2023-02-01 | M54.50   | C0        | S1
            P1         | 2023-06-01 | M54.50   | C1        | S1
            P2         | 2023-02-01 | M54.50   | C0        | S1
            P2         | 2023-06-01 | M54.50   | C1        | S1
            P3         | 2023-02-01 | M54.50   | C0        | S1
            P3         | 2023-06-01 | M54.50   | C1        | S1
            P4         | 2023-02-01 | M54.50   | C0        | S1
            P4         | 2023-06-01 | M54.50   | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": out_of_population("other_specific_cause"),
            "P2": out_of_population("other_specific_cause"),
            "P3": discordant("AX-EPI"),
            "P4": discordant("AX-EPI"),
        },
    )


def test_listed_causes_within_the_window(spec):
    """One patient per code, each 30 days before the session."""
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
            P12        | 1970-05-01
            P13        | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code     | source_id | site_id
            P1         | 2023-05-02 | S12.000A | C9        | S1       # fracture
            P2         | 2023-05-02 | S22.000A | C9        | S1
            P3         | 2023-05-02 | S32.010A | C9        | S1
            P4         | 2023-05-02 | S32.10XA | C9        | S1
            P5         | 2023-05-02 | M48.50XA | C9        | S1
            P6         | 2023-05-02 | M80.08XA | C9        | S1
            P7         | 2023-05-02 | M46.20   | C9        | S1       # spinal infection
            P8         | 2023-05-02 | M46.30   | C9        | S1
            P9         | 2023-05-02 | M46.46   | C9        | S1
            P10        | 2023-05-02 | M46.50   | C9        | S1
            P11        | 2023-05-02 | G06.1    | C9        | S1
            P12        | 2023-05-02 | A18.01   | C9        | S1
            P13        | 2023-05-02 | G83.4    | C9        | S1       # cauda equina syndrome
            P1         | 2023-02-01 | M54.50   | C0        | S1
            P1         | 2023-06-01 | M54.50   | C1        | S1
            P2         | 2023-02-01 | M54.50   | C0        | S1
            P2         | 2023-06-01 | M54.50   | C1        | S1
            P3         | 2023-02-01 | M54.50   | C0        | S1
            P3         | 2023-06-01 | M54.50   | C1        | S1
            P4         | 2023-02-01 | M54.50   | C0        | S1
            P4         | 2023-06-01 | M54.50   | C1        | S1
            P5         | 2023-02-01 | M54.50   | C0        | S1
            P5         | 2023-06-01 | M54.50   | C1        | S1
            P6         | 2023-02-01 | M54.50   | C0        | S1
            P6         | 2023-06-01 | M54.50   | C1        | S1
            P7         | 2023-02-01 | M54.50   | C0        | S1
            P7         | 2023-06-01 | M54.50   | C1        | S1
            P8         | 2023-02-01 | M54.50   | C0        | S1
            P8         | 2023-06-01 | M54.50   | C1        | S1
            P9         | 2023-02-01 | M54.50   | C0        | S1
            P9         | 2023-06-01 | M54.50   | C1        | S1
            P10        | 2023-02-01 | M54.50   | C0        | S1
            P10        | 2023-06-01 | M54.50   | C1        | S1
            P11        | 2023-02-01 | M54.50   | C0        | S1
            P11        | 2023-06-01 | M54.50   | C1        | S1
            P12        | 2023-02-01 | M54.50   | C0        | S1
            P12        | 2023-06-01 | M54.50   | C1        | S1
            P13        | 2023-02-01 | M54.50   | C0        | S1
            P13        | 2023-06-01 | M54.50   | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
            P5         | 2023-06-01 | 62323 | S1      | C1
            P6         | 2023-06-01 | 62323 | S1      | C1
            P7         | 2023-06-01 | 62323 | S1      | C1
            P8         | 2023-06-01 | 62323 | S1      | C1
            P9         | 2023-06-01 | 62323 | S1      | C1
            P10        | 2023-06-01 | 62323 | S1      | C1
            P11        | 2023-06-01 | 62323 | S1      | C1
            P12        | 2023-06-01 | 62323 | S1      | C1
            P13        | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={f"P{i}": out_of_population("other_specific_cause") for i in range(1, 14)},
    )


def test_pregnancy_code_on_the_session_date_excludes(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
            P5         | 1970-05-01
            P6         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code    | source_id | site_id
            P1         | 2023-06-01 | O26.891 | C9        | S1
            P2         | 2023-06-01 | O09.90  | C9        | S1
            P3         | 2023-06-01 | O9A.119 | C9        | S1
            P4         | 2023-06-01 | Z33.1   | C9        | S1
            P5         | 2023-06-01 | Z34.00  | C9        | S1
            P6         | 2023-06-01 | Z37.0   | C9        | S1
            P1         | 2023-02-01 | M54.50  | C0        | S1
            P1         | 2023-06-01 | M54.50  | C1        | S1
            P2         | 2023-02-01 | M54.50  | C0        | S1
            P2         | 2023-06-01 | M54.50  | C1        | S1
            P3         | 2023-02-01 | M54.50  | C0        | S1
            P3         | 2023-06-01 | M54.50  | C1        | S1
            P4         | 2023-02-01 | M54.50  | C0        | S1
            P4         | 2023-06-01 | M54.50  | C1        | S1
            P5         | 2023-02-01 | M54.50  | C0        | S1
            P5         | 2023-06-01 | M54.50  | C1        | S1
            P6         | 2023-02-01 | M54.50  | C0        | S1
            P6         | 2023-06-01 | M54.50  | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
            P5         | 2023-06-01 | 62323 | S1      | C1
            P6         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={f"P{i}": out_of_population("other_specific_cause") for i in range(1, 7)},
    )


def test_pregnancy_code_the_day_before_does_not_exclude(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code    | source_id | site_id
            P1         | 2023-05-31 | O26.891 | C9        | S1
            P1         | 2023-02-01 | M54.50  | C0        | S1
            P1         | 2023-06-01 | M54.50  | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_z33_2_is_not_a_listed_pregnancy_code(spec):
    """Only Z33.1 of Z33 is listed."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-06-01 | Z33.2  | C9        | S1
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


@pytest.fixture
def rule_6_off(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("other_specific_cause = false\n", encoding="utf-8")
    return load_settings(path)


def test_switched_off_falls_through(spec, rule_6_off):
    """A TOML settings file with other_specific_cause = false: fracture, infection, cauda equina
    and pregnancy (all on the session date) no longer take the session out."""
    spec(
        settings=rule_6_off,
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code     | source_id | site_id
            P1         | 2023-06-01 | S32.010A | C9        | S1
            P2         | 2023-06-01 | M46.20   | C9        | S1
            P3         | 2023-06-01 | G83.4    | C9        | S1
            P4         | 2023-06-01 | O26.891  | C9        | S1
            P1         | 2023-02-01 | M54.50   | C0        | S1
            P1         | 2023-06-01 | M54.50   | C1        | S1
            P2         | 2023-02-01 | M54.50   | C0        | S1
            P2         | 2023-06-01 | M54.50   | C1        | S1
            P3         | 2023-02-01 | M54.50   | C0        | S1
            P3         | 2023-06-01 | M54.50   | C1        | S1
            P4         | 2023-02-01 | M54.50   | C0        | S1
            P4         | 2023-06-01 | M54.50   | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": discordant("AX-EPI"),
            "P2": discordant("AX-EPI"),
            "P3": discordant("AX-EPI"),
            "P4": discordant("AX-EPI"),
        },
    )


def test_switch_on_by_default(spec):
    """The same four without the settings file: all other_specific_cause."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code     | source_id | site_id
            P1         | 2023-06-01 | S32.010A | C9        | S1
            P2         | 2023-06-01 | M46.20   | C9        | S1
            P3         | 2023-06-01 | G83.4    | C9        | S1
            P4         | 2023-06-01 | O26.891  | C9        | S1
            P1         | 2023-02-01 | M54.50   | C0        | S1
            P1         | 2023-06-01 | M54.50   | C1        | S1
            P2         | 2023-02-01 | M54.50   | C0        | S1
            P2         | 2023-06-01 | M54.50   | C1        | S1
            P3         | 2023-02-01 | M54.50   | C0        | S1
            P3         | 2023-06-01 | M54.50   | C1        | S1
            P4         | 2023-02-01 | M54.50   | C0        | S1
            P4         | 2023-06-01 | M54.50   | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": out_of_population("other_specific_cause"),
            "P2": out_of_population("other_specific_cause"),
            "P3": out_of_population("other_specific_cause"),
            "P4": out_of_population("other_specific_cause"),
        },
    )


def test_switched_off_leaves_cancer_in_place(spec, rule_6_off):
    spec(
        settings=rule_6_off,
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-05-02 | C34.90 | C9        | S1
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("cancer")},
    )


def test_inflammatory_arthropathy_comes_before_other_specific_cause(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code     | source_id | site_id
            P1         | 2023-05-02 | S32.010A | C9        | S1
            P1         | 2023-05-02 | M45.9    | C8        | S1
            P1         | 2023-02-01 | M54.50   | C0        | S1
            P1         | 2023-06-01 | M54.50   | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("inflammatory_arthropathy")},
    )


def test_other_specific_cause_comes_before_acute(spec):
    """No chronic evidence and a long history (acute) - rule 6 is tested first."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code     | source_id | site_id
            P1         | 2020-12-13 | E11.9    | C7        | S1       # 900 days before
            P1         | 2023-05-02 | S32.010A | C9        | S1
            P1         | 2023-06-01 | M54.50   | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("other_specific_cause")},
    )


def test_fracture_the_day_after_does_not_exclude(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code     | source_id | site_id
            P1         | 2023-06-02 | S12.000A | C9        | S1
            P1         | 2023-02-01 | M54.50   | C0        | S1
            P1         | 2023-06-01 | M54.50   | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )
