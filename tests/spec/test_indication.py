"""Measure 3.4: a session's indication diagnoses are the patient's diagnoses that share a
source_id with any of its lines, together with the patient's diagnoses on the session date.
Codes are normalised (dot and blanks removed, upper case) before matching; other code systems
map into the same AXIAL / RADICULAR sets."""

import csv

import pytest

from tests.helpers import audit_sessions, outcome
from tests.spec._common import ADULT, SESSION, before, one_patient_each, only, per_case, shift

pytestmark = pytest.mark.spec

AX_EPI = ("discordant", None, "AX-EPI")
RAD_EPI = ("discordant", None, "RAD-EPI")
NO_INDICATION = ("out_of_population", "no_spine_indication", None)
# rule 7: a chronic spine diagnosis on an unrelated claim (never an indication itself)
HISTORY = f"P1 | {before(200)} | M54.89 | H0 | S9 | ICD10CM"
DX_HEADER = "patient_id | event_date | code | source_id | site_id | code_system"


def _session(extract, *rows: str, procedures: str | None = None, patients: str = ADULT):
    folder = extract(
        patients=patients,
        diagnoses="\n".join([DX_HEADER, HISTORY, *rows]),
        procedures=procedures
        or f"""
        patient_id | event_date | code  | site_id | source_id
        P1         | {SESSION}  | 62323 | S1      | C1
        """,
    )
    return only(audit_sessions(folder))


def test_diagnosis_on_the_same_claim_at_another_date(extract):
    s = _session(extract, f"P1 | {before(10)} | M54.16 | C1 | S1 |")
    assert (list(s["pain_types"]), outcome(s)) == (["RADICULAR"], RAD_EPI)


def test_diagnosis_on_another_claim_at_another_date_is_not_an_indication(extract):
    s = _session(extract, f"P1 | {before(10)} | M54.16 | C2 | S1 |")
    assert outcome(s) == NO_INDICATION


def test_diagnosis_on_the_session_date_at_another_site_and_claim(extract):
    s = _session(extract, f"P1 | {SESSION} | M54.16 | X7 | S2 |")
    assert outcome(s) == RAD_EPI


def test_diagnosis_on_the_session_date_without_source_or_site(extract):
    s = _session(extract, f"P1 | {SESSION} | M54.16 | | |")
    assert outcome(s) == RAD_EPI


def test_diagnosis_after_the_session_on_the_same_claim(extract):
    """The spec puts no date limit on a diagnosis sharing the claim."""
    s = _session(extract, f"P1 | {shift(3)} | M54.16 | C1 | S1 |")
    assert outcome(s) == RAD_EPI


def test_another_patients_diagnosis_on_the_same_claim_id_does_not_count(extract):
    s = _session(
        extract,
        f"P2 | {SESSION} | M54.16 | C1 | S1 |",
        patients="patient_id | birth_date\nP1 | 1970-05-01\nP2 | 1980-01-01",
    )
    assert outcome(s) == NO_INDICATION


def test_line_without_source_id_uses_the_session_date_only(extract):
    procedures = f"""
    patient_id | event_date | code  | site_id | source_id
    P1         | {SESSION}  | 62323 | S1      |
    """
    s = _session(extract, f"P1 | {before(10)} | M54.16 | | S1 |", procedures=procedures)
    assert outcome(s) == NO_INDICATION


def test_any_line_of_the_session_shares_its_claim(extract):
    """Lines of one session on two claims: a diagnosis on either claim is an indication."""
    procedures = f"""
    patient_id | event_date | code  | site_id | source_id
    P1         | {SESSION}  | 64483 | S1      | C1
    P1         | {SESSION}  | 64484 | S1      | C2
    """
    s = _session(extract, f"P1 | {before(5)} | M54.16 | C2 | S1 |", procedures=procedures)
    assert outcome(s) == RAD_EPI


def test_claim_of_a_merged_injection_line_counts_for_the_rfa_session(extract):
    procedures = f"""
    patient_id | event_date | code  | site_id | source_id
    P1         | {SESSION}  | 64635 | S1      | C1
    P1         | {SESSION}  | 64493 | S1      | C2
    """
    s = _session(extract, f"P1 | {before(5)} | M54.50 | C2 | S1 |", procedures=procedures)
    assert (s["family"], outcome(s)) == ("FACET_RFA", ("discordant", None, "AX-RFA"))


def test_pain_types_from_both_paths_together(extract):
    s = _session(
        extract, f"P1 | {SESSION} | M54.50 | X1 | S2 |", f"P1 | {before(4)} | M54.16 | C1 | S1 |"
    )
    assert (list(s["pain_types"]), outcome(s)) == (["AXIAL", "RADICULAR"], RAD_EPI)


def test_dotless_lower_case_and_blank_codes(extract):
    """One patient per spelling of M54.16, in one run (padded codes: next test)."""
    cases = [{"dx": code} for code in ["M5416", "m54.16", "m5416", "M54 .16", "M 54.1 6"]]
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases) == [RAD_EPI] * len(cases)


def test_padded_code_with_surrounding_blanks(extract):
    """Inline tables trim cells, so the padded value is written to the CSV directly."""
    folder = extract(
        patients=ADULT,
        diagnoses="\n".join([DX_HEADER, HISTORY]),
        procedures=f"""
        patient_id | event_date | code  | site_id | source_id
        P1         | {SESSION}  | 62323 | S1      | C1
        """,
    )
    with (folder / "diagnoses.csv").open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(
            ["P1", str(SESSION), "  m54.16  ", " C1 ", " S1 ", "  icd10cm "]
        )
    assert outcome(only(audit_sessions(folder))) == RAD_EPI


@pytest.mark.parametrize("space", ["\u00a0", "\u3000", " "])
def test_patient_ids_padded_with_unicode_spaces_are_trimmed(extract, space):
    """TRIM removes the Unicode spaces too (no-break space, ideographic space): a diagnosis and a
    procedure line whose patient_id is padded with one still belong to the patient, as with a
    plain blank. The engine trims only ids that need it; this pins that it misses none."""
    folder = extract(
        patients=ADULT,
        diagnoses=DX_HEADER,
        procedures="patient_id | event_date | code | site_id | source_id",
    )
    with (folder / "diagnoses.csv").open("a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([space + "P1", before(200), "M54.16", "H0", "S9", "ICD10CM"])
        writer.writerow(["P1" + space, str(SESSION), "M54.16", "C1", "S1", "ICD10CM"])
    with (folder / "procedures.csv").open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(
            [space + "P1" + space, str(SESSION), "62323", "S1", "C1"]
        )
    assert outcome(only(audit_sessions(folder))) == RAD_EPI


def test_icd10_who_and_cm_code_systems(extract):
    """ICD-10 (WHO) codes match the ICD-10-CM value sets where the code exists (M54.5 exists
    in both; M54.16 too). Blank code_system is ICD10CM."""
    systems = ["ICD10", "icd-10", "ICD10CM", "ICD-10-CM", ""]
    cases = [{"dx": "M54.5", "dx_system": cs} for cs in systems]
    cases.append({"dx": "M54.16", "dx_system": "ICD10"})
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases, lambda s: (list(s["pain_types"]), outcome(s))) == [
        (["AXIAL"], AX_EPI)
    ] * len(systems) + [(["RADICULAR"], RAD_EPI)]


SNOMED = [
    ("23056005", "SNOMED", RAD_EPI),  # sciatica
    ("128196005", "SNOMEDCT", RAD_EPI),  # lumbar radiculopathy (alias)
    ("279039007", "snomed", AX_EPI),  # low back pain
    ("279039007", "ICD10CM", NO_INDICATION),  # a SNOMED id sent as ICD-10-CM never matches
]


def test_snomed_codes(extract):
    cases = [{"dx": code, "dx_system": system} for code, system, _ in SNOMED]
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases) == [expected for _, _, expected in SNOMED]


def test_icd9_codes_never_match(extract):
    """ICD-9-CM is accepted but the value sets are ICD-10: 724.2 (lumbago) is no indication."""
    s = _session(extract, f"P1 | {SESSION} | 724.2 | C1 | S1 | ICD9CM")
    assert outcome(s) == NO_INDICATION
