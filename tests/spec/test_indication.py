"""Measure 3.4: a session's indication diagnoses are the patient's diagnoses that share a
source_id with any of its lines, together with the patient's diagnoses on the session date.
Codes are normalised (dot and blanks removed, upper case) before matching; other code systems
map into the same AXIAL / RADICULAR sets.

Unless a test says otherwise the session is an epidural (62323) on 2023-06-01 at S1 on claim C1,
and a spine diagnosis 200 days before on an unrelated claim (H0) makes it chronic without being
one of its indications."""

import pytest

from tests.helpers import discordant, out_of_population

pytestmark = pytest.mark.spec


def test_diagnosis_on_the_same_claim_at_another_date(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-05-22 | M54.16 | C1        | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("RAD-EPI")},
    )
    assert [list(s["pain_types"]) for s in run.sessions()] == [["RADICULAR"]]


def test_diagnosis_on_another_claim_at_another_date_is_not_an_indication(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-05-22 | M54.16 | C2        | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("no_spine_indication")},
    )


def test_diagnosis_on_the_session_date_at_another_site_and_claim(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-06-01 | M54.16 | X7        | S2      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("RAD-EPI")},
    )


def test_diagnosis_on_the_session_date_without_source_or_site(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-06-01 | M54.16 |           |         |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("RAD-EPI")},
    )


def test_diagnosis_after_the_session_on_the_same_claim(spec):
    """The spec puts no date limit on a diagnosis sharing the claim."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-06-04 | M54.16 | C1        | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("RAD-EPI")},
    )


def test_another_patients_diagnosis_on_the_same_claim_id_does_not_count(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1980-01-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P2         | 2023-06-01 | M54.16 | C1        | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("no_spine_indication")},
    )


def test_line_without_source_id_uses_the_session_date_only(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-05-22 | M54.16 |           | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      |
        """,
        expected={"P1": out_of_population("no_spine_indication")},
    )


def test_any_line_of_the_session_shares_its_claim(spec):
    """Lines of one session on two claims: a diagnosis on either claim is an indication."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-05-27 | M54.16 | C2        | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64483 | S1      | C1
            P1         | 2023-06-01 | 64484 | S1      | C2
        """,
        expected={"P1": discordant("RAD-EPI")},
    )


def test_claim_of_a_merged_injection_line_counts_for_the_rfa_session(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-05-27 | M54.50 | C2        | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64635 | S1      | C1
            P1         | 2023-06-01 | 64493 | S1      | C2
        """,
        expected={"P1": discordant("AX-RFA")},
    )
    assert [s["family"] for s in run.sessions()] == ["FACET_RFA"]


def test_pain_types_from_both_paths_together(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-06-01 | M54.50 | X1        | S2      |
            P1         | 2023-05-28 | M54.16 | C1        | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("RAD-EPI")},
    )
    assert [list(s["pain_types"]) for s in run.sessions()] == [["AXIAL", "RADICULAR"]]


def test_dotless_lower_case_and_blank_codes(spec):
    """One patient per spelling of M54.16 (in quotes: the blanks are part of the value); each
    also has M54.50 120 days before (chronic)."""
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
            patient_id | event_date | code       | source_id | site_id | code_system
            P1         | 2023-02-01 | M54.50     | C0        | S1      |
            P1         | 2023-06-01 | "M5416"    | C1        | S1      |
            P2         | 2023-02-01 | M54.50     | C0        | S1      |
            P2         | 2023-06-01 | "m54.16"   | C1        | S1      |
            P3         | 2023-02-01 | M54.50     | C0        | S1      |
            P3         | 2023-06-01 | "m5416"    | C1        | S1      |
            P4         | 2023-02-01 | M54.50     | C0        | S1      |
            P4         | 2023-06-01 | "M54 .16"  | C1        | S1      |
            P5         | 2023-02-01 | M54.50     | C0        | S1      |
            P5         | 2023-06-01 | "M 54.1 6" | C1        | S1      |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
            P5         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": discordant("RAD-EPI"),
            "P2": discordant("RAD-EPI"),
            "P3": discordant("RAD-EPI"),
            "P4": discordant("RAD-EPI"),
            "P5": discordant("RAD-EPI"),
        },
    )


def test_padded_code_with_surrounding_blanks(spec):
    """Quoted cells keep their blanks: code, claim, site and code system all padded."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-06-01 | "  m54.16  " | " C1 " | " S1 " | "  icd10cm "
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("RAD-EPI")},
    )


NBSP, IDEOGRAPHIC_SPACE = "\u00a0", "\u3000"


def test_patient_ids_padded_with_unicode_spaces_are_trimmed(spec):
    """TRIM removes the Unicode spaces too (no-break space, ideographic space): a diagnosis and a
    procedure line whose patient_id is padded with one still belong to the patient, as with a
    plain blank (P1: no-break space, P2: ideographic space, P3: blank). The engine trims only
    ids that need it; this pins that it misses none."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
        """,
        diagnoses=f"""
            patient_id    | event_date | code   | source_id | site_id | code_system
            "{NBSP}P1"    | 2022-11-13 | M54.16 | H0        | S9      | ICD10CM
            "P1{NBSP}"    | 2023-06-01 | M54.16 | C1        | S1      | ICD10CM
            "{IDEOGRAPHIC_SPACE}P2" | 2022-11-13 | M54.16 | H0 | S9   | ICD10CM
            "P2{IDEOGRAPHIC_SPACE}" | 2023-06-01 | M54.16 | C1 | S1   | ICD10CM
            " P3"         | 2022-11-13 | M54.16 | H0        | S9      | ICD10CM
            "P3 "         | 2023-06-01 | M54.16 | C1        | S1      | ICD10CM
        """,
        procedures=f"""
            patient_id    | event_date | code  | site_id | source_id
            "{NBSP}P1{NBSP}" | 2023-06-01 | 62323 | S1   | C1
            "{IDEOGRAPHIC_SPACE}P2{IDEOGRAPHIC_SPACE}" | 2023-06-01 | 62323 | S1 | C1
            " P3 "        | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": discordant("RAD-EPI"),
            "P2": discordant("RAD-EPI"),
            "P3": discordant("RAD-EPI"),
        },
    )


def test_icd10_who_and_cm_code_systems(spec):
    """ICD-10 (WHO) codes match the ICD-10-CM value sets where the code exists (M54.5 exists
    in both; M54.16 too). Blank code_system is ICD10CM."""
    run = spec(
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
            patient_id | event_date | code      | source_id | site_id | code_system
            P1         | 2023-02-01 | M54.50    | C0        | S1      |
            P1         | 2023-06-01 | M54.5     | C1        | S1      | ICD10
            P2         | 2023-02-01 | M54.50    | C0        | S1      |
            P2         | 2023-06-01 | M54.5     | C1        | S1      | icd-10
            P3         | 2023-02-01 | M54.50    | C0        | S1      |
            P3         | 2023-06-01 | M54.5     | C1        | S1      | ICD10CM
            P4         | 2023-02-01 | M54.50    | C0        | S1      |
            P4         | 2023-06-01 | M54.5     | C1        | S1      | ICD-10-CM
            P5         | 2023-02-01 | M54.50    | C0        | S1      |
            P5         | 2023-06-01 | M54.5     | C1        | S1      |
            P6         | 2023-02-01 | M54.50    | C0        | S1      |
            P6         | 2023-06-01 | M54.16    | C1        | S1      | ICD10
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
            "P1": discordant("AX-EPI"),
            "P2": discordant("AX-EPI"),
            "P3": discordant("AX-EPI"),
            "P4": discordant("AX-EPI"),
            "P5": discordant("AX-EPI"),
            "P6": discordant("RAD-EPI"),
        },
    )
    assert [list(s["pain_types"]) for s in run.sessions()] == [["AXIAL"]] * 5 + [["RADICULAR"]]


def test_snomed_codes(spec):
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code      | source_id | site_id | code_system
            P1         | 2023-02-01 | M54.50    | C0        | S1      |
            P1         | 2023-06-01 | 23056005  | C1        | S1      | SNOMED       # sciatica
            P2         | 2023-02-01 | M54.50    | C0        | S1      |
            P2         | 2023-06-01 | 128196005 | C1        | S1      | SNOMEDCT     # an alias
            P3         | 2023-02-01 | M54.50    | C0        | S1      |
            P3         | 2023-06-01 | 279039007 | C1        | S1      | snomed       # low back pain
            P4         | 2023-02-01 | M54.50    | C0        | S1      |
            P4         | 2023-06-01 | 279039007 | C1        | S1      | ICD10CM      # never matches
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
            P2         | 2023-06-01 | 62323 | S1      | C1
            P3         | 2023-06-01 | 62323 | S1      | C1
            P4         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={
            "P1": discordant("RAD-EPI"),
            "P2": discordant("RAD-EPI"),
            "P3": discordant("AX-EPI"),
            "P4": out_of_population("no_spine_indication"),
        },
    )


def test_icd9_codes_never_match(spec):
    """ICD-9-CM is accepted but the value sets are ICD-10: 724.2 (lumbago) is no indication."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id | code_system
            P1         | 2022-11-13 | M54.89 | H0        | S9      | ICD10CM  # chronic
            P1         | 2023-06-01 | 724.2  | C1        | S1      | ICD9CM
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": out_of_population("no_spine_indication")},
    )
