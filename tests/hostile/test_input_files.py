"""Hostile-input catalogue: input files and columns as real systems write them.

Each test is one case of docs/security.md, "Input files and columns". A file is never silently
absent (other letter case, a broken link, a folder), a nested Parquet value is never read as the
text of a structure, two columns SQL cannot tell apart are never guessed between, a FHIR export
is read in all its parts, and an OMOP extract without care sites is placed by a rule the user
chooses.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from audit.adapters import canonical, load_adapter
from audit.cli import main
from audit.config import load_settings
from audit.engine import DuckDBEngine
from audit.errors import InputError
from audit.lookups import load_settings_tables
from tests.helpers import audit_sessions, write_extract, write_table


def _connection() -> duckdb.DuckDBPyConnection:
    """A connection holding the run's settings tables, as the adapters read them (the number
    notation, the as-of date)."""
    con = duckdb.connect()
    load_settings_tables(DuckDBEngine(con), load_settings())
    return con


ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
FORMATS = ROOT / "sample_data" / "formats"

PATIENTS = """
patient_id | birth_date | sex
P1         | 1970-05-01 | F
"""
DIAGNOSES = """
patient_id | event_date | code   | source_id | site_id
P1         | 2022-10-01 | M54.50 | C0        | S1
P1         | 2023-03-01 | M54.50 | C1        | S1
"""
PROCEDURES = """
patient_id | event_date | code  | site_id | source_id | modifiers
P1         | 2023-03-01 | 64493 | S1      | C1        | Q1
"""
COVERAGE = """
patient_id | start_date | end_date
P1         | 2020-01-01 |
P1         | 2024-01-01 | 2024-12-31
"""
SITES = """
site_id | site_name
S1      | Riverside
"""


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_extract(
        tmp_path / "in", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )


def run(folder: Path, out: Path, *options: str) -> int:
    """spine-audit run, in process (the same main() the console script calls)."""
    return main(["run", str(folder), "--out", str(out), "--as-of", "2026-06-30", "-q", *options])


def one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    """The one error line of a run that stopped with exit code 2."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("spine-audit: error: "), err
    return lines[0]


def loaded(folder: Path, fmt: str | None = None) -> duckdb.DuckDBPyConnection:
    con = _connection()
    load_adapter(DuckDBEngine(con), folder, fmt)
    return con


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# ------------------------------------------------------------------------ file names


@pytest.mark.parametrize(
    ("table", "name", "text", "rows"),
    [
        ("coverage", "Coverage.csv", COVERAGE, 2),
        ("sites", "SITES.csv", SITES, 1),
        ("patients", "PATIENTS.CSV", PATIENTS, 1),
    ],
)
def test_file_name_in_another_letter_case_is_read(good, table, name, text, rows):
    (good / f"{table}.csv").unlink(missing_ok=True)
    write_table(good / name, text)
    con = _connection()
    files = {f["table"]: f for f in canonical.load(DuckDBEngine(con), good).files}
    assert files[table]["file"] == name
    assert count(con, f"input_{table}") == rows
    assert con.execute(
        "SELECT file_name FROM input_files WHERE table_name = $t", {"t": table}
    ).fetchone() == (name,)
    con.close()


def test_two_files_whose_names_differ_only_by_case_stop_the_run(good, tmp_path, capsys):
    write_table(good / "coverage.csv", COVERAGE)
    write_table(good / "Coverage.csv", COVERAGE)
    line = one_line_error(capsys, run(good, tmp_path / "out"))
    assert "Coverage.csv" in line and "coverage.csv" in line and "keep one" in line
    assert not (tmp_path / "out").exists()


def test_dangling_link_where_an_input_file_would_be_is_an_error(good, tmp_path, capsys):
    (good / "coverage.csv").symlink_to(tmp_path / "gone" / "coverage.csv")
    line = one_line_error(capsys, run(good, tmp_path / "out"))
    assert "coverage.csv" in line and "broken symbolic link" in line


def test_symbolic_link_loop_where_an_input_file_would_be_is_an_error(good, tmp_path, capsys):
    (good / "sites.csv").symlink_to(good / "sites.csv")
    line = one_line_error(capsys, run(good, tmp_path / "out"))
    assert "sites.csv" in line and "symbolic link loop" in line


def test_folder_named_like_an_input_file_is_an_error(good, tmp_path, capsys):
    (good / "coverage.parquet").mkdir()  # a Spark-style dataset folder
    line = one_line_error(capsys, run(good, tmp_path / "out"))
    assert "coverage.parquet" in line and "is a folder" in line


def test_pipe_where_an_input_file_would_be_is_an_error(good, tmp_path, capsys):
    os.mkfifo(good / "sites.csv")  # reading it would block the run
    line = one_line_error(capsys, run(good, tmp_path / "out"))
    assert "sites.csv" in line and "not a regular file" in line


def test_hidden_side_file_is_not_an_input(tmp_path):
    folder = tmp_path / "fhir"
    shutil.copytree(FORMATS / "fhir", folder)
    # the AppleDouble file macOS writes next to every file it copies to a shared drive
    (folder / "._Patient.ndjson").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    con, result = _load(folder)
    assert "._Patient.ndjson" not in {e["file"] for e in result.files}
    assert count(con, "input_patients") == 8
    con.close()


def test_link_to_a_real_file_is_read(good, tmp_path):
    target = tmp_path / "elsewhere.csv"
    write_table(target, COVERAGE)
    (good / "coverage.csv").symlink_to(target)
    con = _connection()
    canonical.load(DuckDBEngine(con), good)
    assert count(con, "input_coverage") == 2
    con.close()


def test_adapter_formats_share_the_finder(tmp_path, capsys):
    # OMOP: an upper-case table name is read, a broken link is named
    omop = tmp_path / "omop"
    shutil.copytree(FORMATS / "omop", omop)
    (omop / "person.csv").rename(omop / "PERSON.csv")
    con = loaded(omop, "omop")
    assert count(con, "input_patients") == 8
    con.close()
    (omop / "care_site.csv").unlink()
    os.symlink(tmp_path / "missing.csv", omop / "Care_Site.csv")
    line = one_line_error(capsys, run(omop, tmp_path / "out"))
    assert "Care_Site.csv" in line and "broken symbolic link" in line


# ------------------------------------------------------------------------ FHIR exports


def _split_fhir(target: Path) -> dict[str, list[str]]:
    """The FHIR fixture written as a server would: each type in two parts, named in the
    styles of real servers, some gzipped. Returns {fixture file: [part names]}."""
    target.mkdir()
    styles = {
        "Patient.ndjson": ("Patient.000.ndjson", "Patient.001.ndjson"),
        "Encounter.ndjson": ("Encounter_1.ndjson", "Encounter_2.ndjson.gz"),
        "Condition.ndjson": ("1.Condition.ndjson", "2.Condition.ndjson"),
        "Procedure.ndjson": ("Procedure-1.ndjson.gz", "Procedure-2.ndjson"),
        "ExplanationOfBenefit.ndjson": (
            "ExplanationOfBenefit.000.ndjson",
            "ExplanationOfBenefit.001.ndjson.gz",
        ),
        "Coverage.ndjson": ("coverage_1.ndjson", "COVERAGE_2.NDJSON"),
        "Organization.ndjson": ("Organization.ndjson",),
    }
    for source, names in styles.items():
        lines = (FORMATS / "fhir" / source).read_text(encoding="utf-8").splitlines()
        half = (len(lines) + 1) // 2
        chunks = [lines[:half], lines[half:]] if len(names) == 2 else [lines]
        for name, chunk in zip(names, chunks, strict=True):
            data = ("\n".join(chunk) + "\n").encode("utf-8")
            path = target / name
            path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    return {k: list(v) for k, v in styles.items()}


def test_fhir_export_in_parts_is_read_whole_and_each_part_reconciled(tmp_path):
    parts = _split_fhir(tmp_path / "parts")
    con_whole, whole = _load(FORMATS / "fhir")
    con_parts, split = _load(tmp_path / "parts")
    for table in ("patients", "diagnoses", "procedures", "sites", "coverage"):
        assert count(con_parts, f"input_{table}") == count(con_whole, f"input_{table}"), table
    entries = {e["file"]: e for e in split.files}
    assert set(entries) == {name for names in parts.values() for name in names}
    for source, names in parts.items():
        reconciled = [entries[n]["reconciliation"] for n in names if source != "Encounter.ndjson"]
        assert all(r["balanced"] for r in reconciled)
        if source == "Encounter.ndjson":
            continue
        expected = next(e for e in whole.files if e["file"] == source)["reconciliation"]
        assert sum(r["units"] for r in reconciled) == expected["units"]
        assert sum(r["canonical_rows"] for r in reconciled) == expected["canonical_rows"]
    con_whole.close()
    con_parts.close()
    # and the audit classifies the parts exactly as the single files
    assert audit_sessions(tmp_path / "parts", fmt="fhir") == audit_sessions(
        FORMATS / "fhir", fmt="fhir"
    )


def _load(folder: Path):
    con = _connection()
    return con, load_adapter(DuckDBEngine(con), folder, "fhir")


def _resource(kind: str, rid: str, **fields) -> str:
    return json.dumps({"resourceType": kind, "id": rid, **fields})


def _eob(eob_id: str, items: list[tuple[str, list[str]]]) -> str:
    """An ExplanationOfBenefit of patient 1 on 2025-06-18 at Organization/G1: one item per
    (CPT code, modifiers)."""
    return _resource(
        "ExplanationOfBenefit",
        eob_id,
        status="active",
        patient={"reference": "Patient/1"},
        billablePeriod={"start": "2025-06-18"},
        provider={"reference": "Organization/G1"},
        item=[
            {
                "sequence": n,
                "productOrService": {
                    "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code}]
                },
                "modifier": [{"coding": [{"code": m}]} for m in modifiers],
                "servicedDate": "2025-06-18",
            }
            for n, (code, modifiers) in enumerate(items, start=1)
        ],
    )


def test_fhir_claim_items_and_parts_are_rows_of_their_own(tmp_path):
    folder = tmp_path / "fhir"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(_resource("Patient", "1", birthDate="1960") + "\n")
    # line 1 of each part: a facet RFA under trial modifier Q1 beside a trigger point injection
    # (one claim), and in the second part a transforaminal epidural without modifier
    (folder / "ExplanationOfBenefit.000.ndjson").write_text(
        _eob("E1", [("64635", ["Q1"]), ("20553", [])]) + "\n"
    )
    (folder / "ExplanationOfBenefit.001.ndjson").write_text(_eob("E2", [("64483", [])]) + "\n")
    trial = {s["family"]: s["has_trial_modifier"] for s in audit_sessions(folder, fmt="fhir")}
    # a trial modifier belongs to its item: before each row had its own key, the three items
    # shared row 1 and all three sessions were taken for trials
    assert trial == {"FACET_RFA": True, "TRIGGER_POINT": False, "EPIDURAL": False}


def test_fhir_quarantined_row_names_its_part_and_line(tmp_path, capsys):
    folder = tmp_path / "fhir"
    _split_fhir(folder)
    bad = _resource("Patient", "P-bad", birthDate="1980-01-01")
    bad_condition = _resource(
        "Condition",
        "c-bad",
        subject={"reference": "Patient/nobody"},
        recordedDate="2024-01-01",
        code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"}]},
    )
    with (folder / "2.Condition.ndjson").open("a") as fh:
        fh.write(bad + "\n" + bad_condition + "\n")
    lines = (folder / "2.Condition.ndjson").read_text().splitlines()
    out = tmp_path / "out"
    assert run(folder, out) == 0, capsys.readouterr().err
    with (out / "internal" / "quarantine" / "quarantine.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["table_name"], r["file_name"], r["row_number"], r["reason"]) for r in rows] == [
        ("diagnoses", "2.Condition.ndjson", str(len(lines)), "unknown_patient")
    ]


def test_fhir_line_of_another_resource_type_is_read_as_its_own_type(tmp_path):
    folder = tmp_path / "fhir"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(_resource("Patient", "1", birthDate="1970") + "\n")
    condition = _resource(
        "Condition",
        "c1",
        subject={"reference": "Patient/2"},
        recordedDate="2024-01-01",
        code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"}]},
    )
    stray_patient = _resource("Patient", "2", birthDate="1980-02-03")
    (folder / "Condition.ndjson").write_text(condition + "\n" + stray_patient + "\n")
    con, result = _load(folder)
    assert con.execute("SELECT patient_id FROM input_patients ORDER BY 1").fetchall() == [
        ("1",),
        ("2",),
    ]
    entry = next(e for e in result.files if e["file"] == "Condition.ndjson")
    assert entry["lines_of_other_resource_types"] == {"Patient": 1}
    assert entry["reconciliation"]["units"] == 2
    assert entry["reconciliation"]["canonical_rows"] == 1
    assert entry["reconciliation"]["balanced"]
    files = dict(con.execute("SELECT table_name, file_name FROM input_files").fetchall())
    assert files["patients"] == "Patient.ndjson+Condition.ndjson"
    con.close()


def test_fhir_file_named_for_no_type_is_typed_by_its_first_line(tmp_path):
    folder = tmp_path / "fhir"
    shutil.copytree(FORMATS / "fhir", folder)
    (folder / "Patient.ndjson").rename(folder / "export-0001.ndjson")
    con, result = _load(folder)
    assert count(con, "input_patients") == 8
    entry = next(e for e in result.files if e["file"] == "export-0001.ndjson")
    assert entry["table"] == "patients" and entry["reconciliation"]["balanced"]
    con.close()


def test_fhir_file_of_a_type_not_read_is_listed_not_read(tmp_path):
    folder = tmp_path / "fhir"
    shutil.copytree(FORMATS / "fhir", folder)
    (folder / "Observation.000.ndjson").write_text(_resource("Observation", "o1") + "\n")
    con, result = _load(folder)
    assert result.notes["ndjson_files_not_read"] == [
        {"file": "Observation.000.ndjson", "resource_type": "Observation", "told_by": "first line"}
    ]
    assert "Observation.000.ndjson" not in {e["file"] for e in result.files}
    con.close()


def test_fhir_file_name_naming_two_resource_types_is_an_error(tmp_path, capsys):
    folder = tmp_path / "fhir"
    shutil.copytree(FORMATS / "fhir", folder)
    (folder / "Patient-Condition.ndjson").write_text(_resource("Patient", "9") + "\n")
    line = one_line_error(capsys, run(folder, tmp_path / "out"))
    assert "Patient-Condition.ndjson" in line and "two resource types" in line


# ------------------------------------------------------------------------ Parquet types


def _sample_parquet_twin(target: Path) -> Path:
    """sample_data as Parquet files, every column text, procedures.modifiers a list<string>
    (`50,Q1` -> ["50", "Q1"]; empty -> null)."""
    target.mkdir()
    for path in sorted(SAMPLE.glob("*.csv")):
        table = _text_table(path)
        if path.stem == "procedures":
            modifiers = [
                [m for m in re.split(r"[,;\s]+", text or "") if m] or None
                for text in table.column("modifiers").to_pylist()
            ]
            index = table.column_names.index("modifiers")
            table = table.set_column(
                index, "modifiers", pa.array(modifiers, type=pa.list_(pa.string()))
            )
        pq.write_table(table, target / f"{path.stem}.parquet")
    return target


def _text_table(path: Path) -> pa.Table:
    """A CSV file as an Arrow table of text columns (empty cells null, as DuckDB reads them)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        names = next(csv.reader(fh))
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
        ),
    )


def test_parquet_list_of_modifiers_is_read_as_modifiers(tmp_path):
    twin = _sample_parquet_twin(tmp_path / "twin")
    schema = pq.read_schema(twin / "procedures.parquet")
    assert str(schema.field("modifiers").type) == "list<element: string>"
    from_csv = audit_sessions(SAMPLE)
    from_parquet = audit_sessions(twin)
    assert sum(s["outcome"] == "clinical_trial" for s in from_csv) == 21
    assert from_parquet == from_csv


NESTED = {
    "struct": pa.array([{"system": "CPT", "value": "64493"}]),
    "list": pa.array([["S1"]]),
    "list of lists": pa.array([[["Q1"]]]),
    "map": pa.array([[("1970", "05-01")]], type=pa.map_(pa.string(), pa.string())),
}


@pytest.mark.parametrize(
    ("table", "column", "kind", "type_text"),
    [
        ("procedures", "code", "struct", "STRUCT("),
        ("procedures", "site_id", "list", "VARCHAR[]"),
        ("procedures", "modifiers", "list of lists", "VARCHAR[][]"),
        ("patients", "birth_date", "map", "MAP(VARCHAR, VARCHAR)"),
    ],
)
def test_parquet_nested_column_is_refused_naming_file_column_and_type(
    good, tmp_path, capsys, table, column, kind, type_text
):
    source = _text_table(good / f"{table}.csv")
    source = source.set_column(source.column_names.index(column), column, NESTED[kind])
    (good / f"{table}.csv").unlink()
    pq.write_table(source, good / f"{table}.parquet")
    line = one_line_error(capsys, run(good, tmp_path / "out"))
    assert f"{table}.parquet" in line and repr(column) in line and type_text in line
    assert "nested type" in line


def test_omop_database_nested_column_is_refused(tmp_path, capsys):
    db = tmp_path / "cdm.duckdb"
    con = duckdb.connect(str(db))
    for table in ("person", "condition_occurrence", "procedure_occurrence"):
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv($p, all_varchar = true)",
            {"p": str(FORMATS / "omop" / f"{table}.csv")},
        )
    con.execute(
        "ALTER TABLE procedure_occurrence ALTER modifier_source_value "
        "TYPE VARCHAR[] USING string_split(modifier_source_value, ',')"
    )
    con.close()
    line = one_line_error(capsys, run(db, tmp_path / "out"))
    assert "cdm.duckdb:procedure_occurrence" in line and "'modifier_source_value'" in line
    assert "VARCHAR[]" in line


def test_adapter_parquet_nested_column_is_refused(tmp_path, capsys):
    folder = tmp_path / "claims"
    shutil.copytree(FORMATS / "claims", folder)
    claims = _text_table(folder / "claims.csv")
    modifiers = [[m] if m else [] for m in claims.column("modifier_1").to_pylist()]
    claims = claims.set_column(
        claims.column_names.index("modifier_1"),
        "modifier_1",
        pa.array(modifiers, type=pa.list_(pa.string())),
    )
    (folder / "claims.csv").unlink()
    pq.write_table(claims, folder / "claims.parquet")
    line = one_line_error(capsys, run(folder, tmp_path / "out"))
    assert "claims.parquet" in line and "'modifier_1'" in line and "VARCHAR[]" in line


# ------------------------------------------------------------------------ column names


def test_column_differing_from_a_required_one_only_by_case_is_named(good, tmp_path, capsys):
    write_table(
        good / "patients.csv",
        """
        patient_id | PATIENT_ID | birth_date
        P1         | X1         | 1970-05-01
        """,
    )
    line = one_line_error(capsys, run(good, tmp_path / "out"))
    assert "patients.csv" in line and "'patient_id'" in line and "'PATIENT_ID'" in line
    assert "differ only by letter case" in line


def test_parquet_column_differing_only_by_case_is_named(good, tmp_path, capsys):
    (good / "patients.csv").unlink()
    pq.write_table(
        pa.table({"patient_id": ["P1"], "Patient_ID": ["X1"], "birth_date": ["1970-05-01"]}),
        good / "patients.parquet",
    )
    line = one_line_error(capsys, run(good, tmp_path / "out"))
    assert "patients.parquet" in line and "'patient_id'" in line and "'Patient_ID'" in line


def test_adapter_column_differing_only_by_case_is_named(tmp_path, capsys):
    folder = tmp_path / "claims"
    shutil.copytree(FORMATS / "claims", folder)
    with (folder / "members.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    rows = [[*rows[0], "MEMBER_ID"], *([*r, r[0]] for r in rows[1:])]
    with (folder / "members.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    line = one_line_error(capsys, run(folder, tmp_path / "out"))
    assert "members.csv" in line and "'member_id'" in line and "'MEMBER_ID'" in line


# ------------------------------------------------------------------------ OMOP sites


def _csv(path: Path, header: str, *rows: str) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def _eunomia(target: Path, provider_sites: dict[str, str]) -> Path:
    """An OMOP extract in the shape of OHDSI's Eunomia Synthea27Nj CDM 5.4: no care_site table,
    no care_site_id on any visit; providers with or without a care site (``provider_sites``).
    Procedures (CSV rows 2-5): by provider 11; by provider 12; with no provider of its own but a
    visit by provider 12; with no provider at all."""
    target.mkdir()
    _csv(
        target / "person.csv",
        "person_id,gender_concept_id,year_of_birth,month_of_birth,day_of_birth",
        "1,8532,1960,5,1",
        "2,8507,1955,3,2",
    )
    _csv(
        target / "observation_period.csv",
        "person_id,observation_period_start_date,observation_period_end_date",
        "1,2015-01-01,2026-01-01",
        "2,2015-01-01,2026-01-01",
    )
    _csv(
        target / "visit_occurrence.csv",
        "visit_occurrence_id,person_id,visit_start_date,care_site_id,provider_id",
        "101,1,2024-01-10,,11",
        "102,1,2024-06-03,,11",
        "201,2,2024-02-01,,12",
        "202,2,2024-07-01,,12",
        "203,2,2024-08-01,,",
    )
    _csv(
        target / "condition_occurrence.csv",
        "condition_occurrence_id,person_id,condition_start_date,condition_source_value,"
        "visit_occurrence_id,provider_id",
        "1,1,2024-01-10,M54.50,101,11",
        "2,1,2024-06-03,M54.50,102,11",
        "3,2,2024-02-01,M54.16,201,",
        "4,2,2024-07-01,M54.16,202,12",
    )
    _csv(
        target / "procedure_occurrence.csv",
        "procedure_occurrence_id,person_id,procedure_date,procedure_source_value,"
        "visit_occurrence_id,provider_id",
        "1,1,2024-06-03,64493,102,11",
        "2,2,2024-07-01,64483,202,12",
        "3,2,2024-07-01,64484,202,",
        "4,2,2024-08-01,64483,203,",
    )
    _csv(
        target / "provider.csv",
        "provider_id,care_site_id",
        *(f"{p},{s}" for p, s in provider_sites.items()),
    )
    return target


def _sites(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT src_row, site_id FROM input_procedures ORDER BY src_row").fetchall()


def test_omop_without_any_care_site_stops_naming_the_fallback_option(tmp_path, capsys):
    folder = _eunomia(tmp_path / "omop", {"11": "", "12": ""})
    line = one_line_error(capsys, run(folder, tmp_path / "out"))
    assert "no procedure has a care site" in line and "--omop-site-fallback" in line


def test_omop_site_is_the_providers_care_site_when_the_visit_has_none(tmp_path):
    folder = _eunomia(tmp_path / "omop", {"11": "500", "12": ""})
    con = _connection()
    result = load_adapter(DuckDBEngine(con), folder, "omop")
    assert _sites(con) == [(2, "500"), (3, None), (4, None), (5, None)]
    assert result.notes["site_sources"]["procedures"] == {"provider_care_site": 1, "none": 3}
    con.close()


def test_omop_site_fallback_provider_makes_each_provider_a_site(tmp_path):
    folder = _eunomia(tmp_path / "omop", {"11": "500", "12": ""})
    con = _connection()
    result = load_adapter(DuckDBEngine(con), folder, "omop", "provider")
    # procedure 3 has no provider of its own: its visit's provider is used
    assert _sites(con) == [(2, "500"), (3, "provider:12"), (4, "provider:12"), (5, None)]
    assert result.notes["site_sources"]["procedures"] == {
        "provider_care_site": 1,
        "provider": 2,
        "none": 1,
    }
    con.close()


def test_omop_site_fallback_unrecorded_puts_them_at_one_site(tmp_path):
    folder = _eunomia(tmp_path / "omop", {"11": "", "12": ""})
    con = _connection()
    result = load_adapter(DuckDBEngine(con), folder, "omop", "unrecorded")
    assert {site for _, site in _sites(con)} == {"(site not recorded)"}
    assert result.notes["site_sources"] == {
        "procedures": {"not_recorded": 4},
        "diagnoses": {"not_recorded": 4},
    }
    con.close()


def test_omop_site_sources_are_in_the_manifest_and_on_the_index(tmp_path, capsys):
    folder = _eunomia(tmp_path / "omop", {"11": "500", "12": ""})
    out = tmp_path / "out"
    assert run(folder, out, "--omop-site-fallback", "provider") == 0
    manifest = json.loads((out / "internal" / "manifest.json").read_text())
    assert manifest["settings"]["omop_site_fallback"] == "provider"
    assert manifest["site_sources"]["procedures"] == {
        "provider_care_site": 1,
        "provider": 2,
        "none": 1,
    }
    index = (out / "shareable" / "index.html").read_text()
    assert re.search(
        r"<dt>Sites from</dt><dd>the provider&#39;s care site; the provider itself "
        r"\(chosen fallback\); no site \(quarantined\)</dd>",
        index,
    )


def test_omop_site_fallback_rejects_unknown_values(tmp_path, capsys):
    folder = _eunomia(tmp_path / "omop", {"11": "", "12": ""})
    (tmp_path / "audit.toml").write_text('omop_site_fallback = "nearest"\n')
    code = run(folder, tmp_path / "out", "--config", str(tmp_path / "audit.toml"))
    line = one_line_error(capsys, code)
    assert "omop_site_fallback" in line and "nearest" in line
    with pytest.raises(InputError, match="omop_site_fallback"):
        load_adapter(DuckDBEngine(_connection()), folder, "omop", "nearest")
