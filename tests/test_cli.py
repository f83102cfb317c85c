"""End-to-end tests of the command line: good runs, each kind of bad input, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.helpers import write_extract

pytestmark = pytest.mark.e2e

PATIENTS = """
patient_id | birth_date | sex
P1         | 1970-05-01 | F
P2         | 1965-01-01 | M
"""
DIAGNOSES = """
patient_id | event_date | code   | source_id | site_id
P1         | 2022-10-01 | M54.50 | C0        | S1
P1         | 2023-03-01 | M54.50 | C1        | S1
P2         | 2023-04-01 | M54.16 | C2        | S1
"""
PROCEDURES = """
patient_id | event_date | code  | site_id | source_id | allowed_amount | status
P1         | 2023-03-01 | 64493 | S1      | C1        | 400.00         |
P2         | 2023-04-01 | 64483 | S1      | C2        | 300.00         | denied
"""


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "audit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_extract(
        tmp_path / "in", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("spine-audit: error")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_run_writes_every_output(good, tmp_path):
    out = tmp_path / "out"
    result = cli("run", good, "--out", out, "--as-of", "2026-01-01")
    assert result.returncode == 0, result.stderr
    for name in (
        "index.html",
        ".spine-audit-output.json",
        "internal/sessions.parquet",
        "shareable/site_summary.parquet",
        "shareable/site_summary.csv",
        "shareable/index.html",
        "internal/manifest.json",
        "internal/quarantine/quarantine.csv",
        "internal/quarantine/value_issues.csv",
    ):
        assert (out / name).is_file(), name
    assert list((out / "shareable" / "sites").glob("*.html"))
    manifest = json.loads((out / "internal" / "manifest.json").read_text())
    assert manifest["reconciliation"]["procedures"]["balanced"]
    assert manifest["reconciliation"]["procedures"]["not_counting_status"] == {"denied": 1}
    assert manifest["settings"]["chronic_days"] == 90
    assert {i["table"]: i["rows"] for i in manifest["inputs"]}["procedures"] == 2
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"] if i["file"])
    table = pq.read_table(out / "internal" / "sessions.parquet")
    assert table.column_names[:12] == [
        "patient_id",
        "site_id",
        "session_date",
        "family",
        "region",
        "pain_types",
        "outcome",
        "reason",
        "recommendation",
        "codes",
        "allowed_amount",
        "age",
    ]
    assert table.num_rows == 1
    assert table.column("recommendation").to_pylist() == ["AX-JNT"]
    # no leftovers of the atomic write beside the output folder
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_reports_hold_no_patient_identifiers(good, tmp_path):
    out = tmp_path / "out"
    assert cli("run", good, "--out", out, "--suppression", "none").returncode == 0
    for page in [
        out / "shareable" / "index.html",
        *(out / "shareable" / "sites").glob("*.html"),
        out / "shareable" / "site_summary.csv",
    ]:
        text = page.read_text(encoding="utf-8")
        assert "P1" not in text and "P2" not in text, page


def test_two_runs_are_byte_identical(good, tmp_path):
    out, first = tmp_path / "out", tmp_path / "first"
    assert cli("run", good, "--out", out, "--as-of", "2026-01-01").returncode == 0
    out.rename(first)
    assert cli("run", good, "--out", out, "--as-of", "2026-01-01").returncode == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert "internal/sessions.parquet" in files and ".spine-audit-output.json" in files
    for name in files:
        assert (out / name).read_bytes() == (first / name).read_bytes(), name


def test_runs_into_two_folders_differ_only_in_the_recorded_invocation(good, tmp_path):
    """The command line and the folders go into the internal manifest's ``invocation`` alone:
    every other file, the run id included, is the same wherever the run was written."""
    a, b = tmp_path / "a", tmp_path / "bb"
    assert cli("run", good, "--out", a, "--as-of", "2026-01-01").returncode == 0
    assert cli("run", good, "--out", b, "--as-of", "2026-01-01").returncode == 0
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    manifest, marker = "internal/manifest.json", ".spine-audit-output.json"
    for name in files:
        if name not in (manifest, marker):
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ma, mb = (json.loads((d / manifest).read_text()) for d in (a, b))
    assert ma.pop("invocation")["out_dir"] == str(a) and mb.pop("invocation")["out_dir"] == str(b)
    assert ma == mb
    ka, kb = (json.loads((d / marker).read_text()) for d in (a, b))
    assert ka["run_id"] == kb["run_id"] and ka["files"].keys() == kb["files"].keys()


def test_rerun_replaces_an_earlier_audit(good, tmp_path):
    out = tmp_path / "out"
    assert cli("run", good, "--out", out, "--as-of", "2026-01-01").returncode == 0
    first = (out / "internal" / "manifest.json").read_text()
    assert cli("run", good, "--out", out, "--as-of", "2026-02-01").returncode == 0
    second = (out / "internal" / "manifest.json").read_text()
    assert first != second and '"as_of_date": "2026-02-01"' in second
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_refuses_to_replace_an_audit_folder_holding_a_file_it_did_not_write(good, tmp_path):
    out = tmp_path / "out"
    assert cli("run", good, "--out", out).returncode == 0
    (out / "internal" / "notes.txt").write_text("mine")
    line = _one_line_error(cli("run", good, "--out", out))
    assert "internal/notes.txt" in line
    assert (out / "internal" / "notes.txt").read_text() == "mine"


def test_refuses_to_replace_a_folder_it_did_not_write(good, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.docx").write_text("x")
    line = _one_line_error(cli("run", good, "--out", out))
    assert "precious" in line
    assert (out / "thesis.docx").exists()


def test_missing_required_file(tmp_path):
    folder = write_extract(
        tmp_path / "in", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )
    (folder / "procedures.csv").unlink()
    out = tmp_path / "out"
    line = _one_line_error(cli("run", folder, "--out", out))
    assert "procedures.csv" in line
    assert not out.exists()


def test_missing_required_column(tmp_path):
    folder = write_extract(
        tmp_path / "in",
        patients=PATIENTS,
        diagnoses=DIAGNOSES,
        procedures="""
        patient_id | event_date | code  | source_id
        P1         | 2023-03-01 | 64493 | C1
        """,
    )
    out = tmp_path / "out"
    line = _one_line_error(cli("run", folder, "--out", out))
    assert "procedures.csv" in line and "site_id" in line
    assert not out.exists()


def test_misspelt_column_gets_a_hint(tmp_path):
    folder = write_extract(
        tmp_path / "in",
        patients="""
        Patient_ID | birth_date
        P1         | 1970-01-01
        """,
        diagnoses=DIAGNOSES,
        procedures=PROCEDURES,
    )
    line = _one_line_error(cli("run", folder, "--out", tmp_path / "out"))
    assert "patients.csv" in line and "Patient_ID" in line


def test_patients_need_a_birth_column(tmp_path):
    folder = write_extract(
        tmp_path / "in",
        patients="""
        patient_id | sex
        P1         | F
        """,
        diagnoses=DIAGNOSES,
        procedures=PROCEDURES,
    )
    line = _one_line_error(cli("run", folder, "--out", tmp_path / "out"))
    assert "birth_date" in line


def test_two_files_for_one_table(good, tmp_path):
    (good / "patients.parquet").write_bytes(b"PAR1")
    line = _one_line_error(cli("run", good, "--out", tmp_path / "out"))
    assert "patients.csv" in line and "patients.parquet" in line


def test_unreadable_parquet(good, tmp_path):
    (good / "sites.parquet").write_bytes(b"this is not parquet")
    line = _one_line_error(cli("run", good, "--out", tmp_path / "out"))
    assert "sites.parquet" in line


def test_missing_input_folder(tmp_path):
    _one_line_error(cli("run", tmp_path / "nope", "--out", tmp_path / "out"))


def test_bad_rows_are_quarantined_with_file_row_and_column(tmp_path):
    folder = write_extract(
        tmp_path / "in",
        patients=PATIENTS + "\n | 1980-01-01 | F\n",
        diagnoses=DIAGNOSES
        + """
        P1 | 2023-02-30 | M54.50 | C9 | S1
        P9 | 2023-03-01 | M54.50 | C9 | S1
        P1 | 2023-03-01 | 7244   | C9 | S1
        """,
        procedures=PROCEDURES
        + """
        P1 | 2023-13-01 | 64493 | S1 | C1 | 1    |
        P1 | 2023-03-01 | 64493 | S1 | C1 | lots |
        """,
    )
    out = tmp_path / "out"
    result = cli("run", folder, "--out", out)
    assert result.returncode == 0, result.stderr
    rows = (out / "internal" / "quarantine" / "quarantine.csv").read_text().splitlines()
    assert rows[0] == "table_name,file_name,row_number,column_name,reason,value"
    body = set(rows[1:])
    assert "diagnoses,diagnoses.csv,5,event_date,unparseable_date,2023-02-30" in body
    assert "diagnoses,diagnoses.csv,6,patient_id,unknown_patient,P9" in body
    assert "diagnoses,diagnoses.csv,7,code,icd9_code_in_icd10_field,7244" in body
    assert "patients,patients.csv,4,patient_id,missing_patient_id," in body
    assert "procedures,procedures.csv,4,event_date,unparseable_date,2023-13-01" in body
    assert "procedures,procedures.csv,5,allowed_amount,invalid_number,lots" in body
    manifest = json.loads((out / "internal" / "manifest.json").read_text())
    assert manifest["quarantined_rows"] == 6
    for table, entry in manifest["reconciliation"].items():
        assert entry["balanced"], table


def test_bom_and_crlf_files_are_read(tmp_path):
    folder = write_extract(
        tmp_path / "in", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )
    for file in folder.glob("*.csv"):
        text = file.read_text(encoding="utf-8").replace("\n", "\r\n")
        file.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    out = tmp_path / "out"
    assert cli("run", folder, "--out", out).returncode == 0
    assert pq.read_table(out / "internal" / "sessions.parquet").num_rows == 1


@pytest.mark.slow
def test_parquet_inputs_give_the_same_sessions(good, tmp_path):
    import duckdb

    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    con = duckdb.connect()
    for file in good.glob("*.csv"):
        con.execute(
            "COPY (SELECT * FROM read_csv($src, all_varchar = true)) TO $dst (FORMAT parquet)",
            {"src": str(file), "dst": str(pq_dir / f"{file.stem}.parquet")},
        )
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("run", good, "--out", a).returncode == 0
    assert cli("run", pq_dir, "--out", b).returncode == 0
    assert (a / "internal" / "sessions.parquet").read_bytes() == (
        b / "internal" / "sessions.parquet"
    ).read_bytes()


def test_period_options(good, tmp_path):
    out = tmp_path / "out"
    assert cli("run", good, "--out", out, "--from", "2023-04-01").returncode == 0
    assert pq.read_table(out / "internal" / "sessions.parquet").num_rows == 0
    _one_line_error(cli("run", good, "--out", out, "--from", "2023-05-01", "--to", "2023-01-01"))
    _one_line_error(cli("run", good, "--out", out, "--from", "2023-02-30"))


def test_bad_config(good, tmp_path):
    config = tmp_path / "audit.toml"
    config.write_text("chronic_dayz = 90\n")
    line = _one_line_error(cli("run", good, "--out", tmp_path / "out", "--config", config))
    assert "chronic_dayz" in line
    config.write_text("chronic_days = 'ninety'\n")
    _one_line_error(cli("run", good, "--out", tmp_path / "out", "--config", config))
    _one_line_error(cli("run", good, "--out", tmp_path / "out", "--config", tmp_path / "x.toml"))


def test_config_is_recorded_in_the_manifest(good, tmp_path):
    config = tmp_path / "audit.toml"
    config.write_text("chronic_days = 60\nother_specific_cause = false\n")
    out = tmp_path / "out"
    assert cli("run", good, "--out", out, "--config", config).returncode == 0
    settings = json.loads((out / "internal" / "manifest.json").read_text())["settings"]
    assert settings["chronic_days"] == 60 and settings["other_specific_cause"] is False


def test_unknown_pack(good, tmp_path):
    line = _one_line_error(cli("run", good, "--out", tmp_path / "out", "--pack", "nice2019"))
    assert "nice2019" in line


@pytest.mark.parametrize("command", [[], ["run"], ["demo"], ["generate"], ["valuesets"]])
def test_help_everywhere(command):
    result = cli(*command, "--help")
    assert result.returncode == 0
    assert "usage: spine-audit" in result.stdout


def test_usage_errors_exit_2():
    assert cli("run").returncode == 2
    assert cli("frobnicate").returncode == 2
    assert cli().returncode == 2


@pytest.mark.slow
def test_every_input_format_gives_the_same_sessions(tmp_path):
    """The committed claims, OMOP and FHIR samples are twins of the canonical one: the same
    sessions, but for the ids each format traces them by (source_ids, provider_ids,
    billing_provider_ids; each held per format by test_adapters)."""
    root = Path(__file__).resolve().parents[1] / "sample_data" / "formats"
    digests = {}
    for fmt in ("canonical", "claims", "omop", "fhir"):
        out = tmp_path / fmt
        result = cli("run", root / fmt, "--out", out, "--as-of", "2026-01-01")
        assert result.returncode == 0, result.stderr
        manifest = json.loads((out / "internal" / "manifest.json").read_text())
        assert manifest["input_format"] == fmt
        assert all(entry["balanced"] for entry in manifest["reconciliation"].values())
        sessions = pq.read_table(out / "internal" / "sessions.parquet")
        digests[fmt] = sessions.drop_columns(["source_ids", "provider_ids", "billing_provider_ids"])
    assert all(digests[fmt].equals(digests["canonical"]) for fmt in digests)


def test_explicit_format_and_ambiguous_folder(tmp_path):
    root = Path(__file__).resolve().parents[1] / "sample_data" / "formats"
    out = tmp_path / "out"
    assert cli("run", root / "claims", "--out", out, "--format", "claims").returncode == 0
    line = _one_line_error(cli("run", root / "claims", "--out", out, "--format", "omop"))
    assert "omop" in line.lower() or "person" in line.lower()


def test_gate_error_stops_the_run_and_validate_explains(tmp_path):
    bad_lines = "\n".join(f"P1 | 2023-31-{i % 28 + 1:02d} | 64493 | S1 | C1" for i in range(80))
    good_lines = "\n".join(f"P2 | 2023-04-{i % 28 + 1:02d} | 99213 | S1 | C2" for i in range(40))
    folder = write_extract(
        tmp_path / "in",
        patients=PATIENTS,
        diagnoses=DIAGNOSES,
        procedures="patient_id | event_date | code | site_id | source_id\n"
        + bad_lines
        + "\n"
        + good_lines,
    )
    out = tmp_path / "out"
    line = _one_line_error(cli("run", folder, "--out", out))
    assert "data-quality gate" in line and "date_parse" in line
    assert not out.exists()
    result = cli("validate", folder, "--out", tmp_path / "dq")
    assert result.returncode == 2
    assert "date_parse" in result.stdout
    assert (tmp_path / "dq" / "internal" / "data_quality" / "checks.csv").is_file()
    assert cli("validate", "sample_data").returncode == 0


def test_run_writes_the_gate_results(good, tmp_path):
    out = tmp_path / "out"
    assert cli("run", good, "--out", out).returncode == 0
    assert (out / "internal" / "data_quality" / "checks.csv").is_file()
    manifest = json.loads((out / "internal" / "manifest.json").read_text())
    assert "data_quality_gate" in manifest


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"patient_id,event_date,code,site_id\nP1,2023-03-01,64493,S1,extra\n",
            "procedures.csv: row 2: cannot read the file: expected 4 cells, found 5",
        ),
        (
            b'patient_id,event_date,code,site_id\nP1,2023-03-01,64493,S1\nP1,"2023-03-01,1,S1\n',
            "procedures.csv: row 3: cannot read the file: an unterminated or misplaced quote",
        ),
        (
            b"patient_id,event_date,code,site_id\nP1,2023-03-01,64493,S1\nP\xe9,2023-03-01,1,S1\n",
            "procedures.csv: row 3: cannot read the file: not UTF-8 text",
        ),
        (b"", "procedures.csv: the file is empty (a header row is required)"),
    ],
)
def test_malformed_csv_is_named_by_file_and_row(good, tmp_path, content, expected):
    (good / "procedures.csv").write_bytes(content)
    out = tmp_path / "out"
    line = _one_line_error(cli("run", good, "--out", out))
    assert line.endswith(expected)
    assert not out.exists()


def test_gzipped_csv_inputs(good, tmp_path):
    import gzip

    for name in ("diagnoses", "procedures"):
        data = (good / f"{name}.csv").read_bytes()
        (good / f"{name}.csv").unlink()
        (good / f"{name}.csv.gz").write_bytes(gzip.compress(data, mtime=0))
    out = tmp_path / "out"
    assert cli("run", good, "--out", out).returncode == 0
    assert pq.read_table(out / "internal" / "sessions.parquet").num_rows == 1
