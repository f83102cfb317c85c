"""Measure 3.5 rule 4: out_of_population / cancer - a malignant neoplasm (C00-C96 except C44)
within the 365 days up to and including the session date, or a secondary malignant neoplasm of
bone or spinal cord/meninges (C79.4x, C79.5x) at any earlier date.

Each session is an epidural (62323) on 2023-06-01 with M54.50 (AXIAL) on its claim C1 and again
120 days before (chronic): discordant AX-EPI unless an exclusion applies."""

import pytest

from tests.helpers import discordant, out_of_population

pytestmark = pytest.mark.spec


def test_cancer_365_days_before_excludes_366_does_not(spec):
    """ "Within the 365 days up to and including the session date" is read as 0 to 365 days
    before, both ends included (pack exclusion_rules.csv: CANCER 0..365)."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-06-01 | C34.90 | C9        | S1       # 365 days before
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2022-05-31 | C34.90 | C9        | S1       # 366 days before
            P2         | 2023-02-01 | M54.50 | C0        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("cancer"), "P2": discordant("AX-EPI")},
    )


def test_cancer_on_the_session_date_excludes(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-06-01 | C34.90 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("cancer")},
    )
    assert [s["exclusion_code"] for s in run.sessions()] == ["C3490"]


def test_cancer_the_day_after_the_session_does_not_exclude(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-06-02 | C34.90 | C9        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_malignant_neoplasm_codes_across_the_range(spec):
    """One patient per code, each 30 days before the session on another claim."""
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
            P1         | 2023-05-02 | C00.0   | C9        | S1
            P2         | 2023-05-02 | C4A.9   | C9        | S1
            P3         | 2023-05-02 | C50.911 | C9        | S1
            P4         | 2023-05-02 | C7A.00  | C9        | S1
            P5         | 2023-05-02 | C80.1   | C9        | S1
            P6         | 2023-05-02 | C96.9   | C9        | S1
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
        expected={
            "P1": out_of_population("cancer"),
            "P2": out_of_population("cancer"),
            "P3": out_of_population("cancer"),
            "P4": out_of_population("cancer"),
            "P5": out_of_population("cancer"),
            "P6": out_of_population("cancer"),
        },
    )


def test_skin_cancer_c44_and_in_situ_do_not_exclude(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code    | source_id | site_id
            P1         | 2023-05-02 | C44.91  | C9        | S1
            P2         | 2023-05-02 | C44.311 | C9        | S1
            P3         | 2023-05-02 | D05.10  | C9        | S1       # in situ
            P1         | 2023-02-01 | M54.50  | C0        | S1
            P1         | 2023-06-01 | M54.50  | C1        | S1
            P2         | 2023-02-01 | M54.50  | C0        | S1
            P2         | 2023-06-01 | M54.50  | C1        | S1
            P3         | 2023-02-01 | M54.50  | C0        | S1
            P3         | 2023-06-01 | M54.50  | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": discordant("AX-EPI"),
            "P2": discordant("AX-EPI"),
            "P3": discordant("AX-EPI"),
        },
    )


def test_secondary_of_bone_or_spinal_cord_five_years_earlier_excludes(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2018-06-01 | C79.51 | C9        | S1       # 1,826 days before
            P2         | 2018-06-01 | C79.52 | C9        | S1
            P3         | 2018-06-01 | C79.40 | C9        | S1
            P4         | 2018-06-01 | C79.49 | C9        | S1
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2023-02-01 | M54.50 | C0        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
            P3         | 2023-02-01 | M54.50 | C0        | S1
            P3         | 2023-06-01 | M54.50 | C1        | S1
            P4         | 2023-02-01 | M54.50 | C0        | S1
            P4         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": out_of_population("cancer"),
            "P2": out_of_population("cancer"),
            "P3": out_of_population("cancer"),
            "P4": out_of_population("cancer"),
        },
    )


def test_secondary_of_bone_the_day_after_does_not_exclude(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2023-06-02 | C79.51 | C9        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_other_secondary_older_than_365_days_does_not_exclude(spec):
    """C79.31 (secondary of brain) is a malignant neoplasm but not C79.4x / C79.5x: only the
    365-day window applies to it."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-04-27 | C79.31 | C9        | S1       # 400 days before
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_cancer_at_another_site_on_another_claim_excludes(spec):
    """The exclusion reads the patient's whole record, not the indication diagnoses."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-21 | C18.9  | X1        | S9       # 100 days before
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("cancer")},
    )
