"""Measure 3.5 rule 5: out_of_population / inflammatory_arthropathy - at any date up to the
session date: M02, M05, M06, M07, M08, M45, M46.0, M46.8, M46.9, L40.5.

Each session is an epidural (62323) on 2023-06-01 with M54.50 (AXIAL) on its claim C1 and again
120 days before (chronic): discordant AX-EPI unless an exclusion applies."""

import pytest

from tests.helpers import discordant, out_of_population

pytestmark = pytest.mark.spec


def test_any_earlier_date_and_the_session_date_exclude(spec):
    """P1: ten years before; P2: on the session date."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2013-06-03 | M45.9  | C9        | S1       # 3,650 days before
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2023-06-01 | M45.9  | C9        | S1
            P2         | 2023-02-01 | M54.50 | C0        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": out_of_population("inflammatory_arthropathy"),
            "P2": out_of_population("inflammatory_arthropathy"),
        },
    )


def test_the_day_after_does_not_exclude(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-06-02 | M45.9  | C9        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_listed_categories(spec):
    """One patient per code, each 800 days before the session."""
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
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-03-23 | M02.9  | C9        | S1
            P2         | 2021-03-23 | M05.79 | C9        | S1
            P3         | 2021-03-23 | M06.9  | C9        | S1
            P4         | 2021-03-23 | M07.60 | C9        | S1
            P5         | 2021-03-23 | M08.00 | C9        | S1
            P6         | 2021-03-23 | M45.A0 | C9        | S1
            P7         | 2021-03-23 | M46.00 | C9        | S1
            P8         | 2021-03-23 | M46.80 | C9        | S1
            P9         | 2021-03-23 | M46.90 | C9        | S1
            P10        | 2021-03-23 | L40.50 | C9        | S1
            P11        | 2021-03-23 | L40.59 | C9        | S1
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
            P10        | 2023-02-01 | M54.50 | C0        | S1
            P10        | 2023-06-01 | M54.50 | C1        | S1
            P11        | 2023-02-01 | M54.50 | C0        | S1
            P11        | 2023-06-01 | M54.50 | C1        | S1
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
        """,
        expected={f"P{i}": out_of_population("inflammatory_arthropathy") for i in range(1, 12)},
    )


def test_snomed_ankylosing_spondylitis(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code    | source_id | site_id | code_system
            P1         | 2021-03-23 | 9631008 | C9        | S1      | SNOMED
            P1         | 2023-02-01 | M54.50  | C0        | S1      |
            P1         | 2023-06-01 | M54.50  | C1        | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("inflammatory_arthropathy")},
    )


def test_sacroiliitis_m46_1_is_axial_pain_not_inflammatory_arthropathy(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-03-23 | M46.1  | C9        | S1       # 800 days before
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_m46_2_is_a_spinal_infection_not_inflammatory_arthropathy(spec):
    """M46.2-M46.5 are rule 6 (365 days): 800 days before neither rule applies."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-03-23 | M46.20 | C9        | S1       # 800 days before
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_cancer_comes_before_inflammatory_arthropathy(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-05-02 | C34.90 | C8        | S1
            P1         | 2023-05-02 | M45.9  | C9        | S1
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("cancer")},
    )
