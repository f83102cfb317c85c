"""Repeatable monthly runs (``--config`` with input and an out pattern, ``--month``) and
``spine-audit verify``: a run recomputed from its manifest is byte-identical, and anything that
differs is named with its cause (docs/monthly.md)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from audit.inputs import sha256
from audit.resources import sample_data_dir
from tests.helpers import cli, one_line_error

pytestmark = pytest.mark.e2e

MANIFEST = "internal/manifest.json"
MARKER = ".spine-audit-output.json"
CONFIG = """\
input = "in"
out = "audits/{month}"
format = "canonical"
suppression = "cms"
as_of_date = "2026-06-30"
"""


def manifest_of(run: Path) -> dict:
    return json.loads((run / MANIFEST).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def monthly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of sample_data and a settings file beside it; the run of --month 2025-11."""
    root = tmp_path_factory.mktemp("monthly")
    (root / "in").mkdir()
    for csv in sample_data_dir().glob("*.csv"):
        shutil.copy(csv, root / "in" / csv.name)
    (root / "audit.toml").write_text(CONFIG, encoding="utf-8")
    result = cli("run", "--config", root / "audit.toml", "--month", "2025-11", "-q")
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def run_copy(monthly: Path, tmp_path: Path) -> Path:
    """A copy of the monthly run's folder, to change without touching the shared one."""
    copy = tmp_path / "run"
    shutil.copytree(monthly / "audits" / "2025-11", copy)
    return copy


def test_month_sets_the_period_and_fills_the_out_pattern(monthly):
    run = monthly / "audits" / "2025-11"
    manifest = manifest_of(run)
    assert manifest["period"]["from"] == "2025-11-01"
    assert manifest["period"]["to"] == "2025-11-30"
    assert manifest["input_format"] == "canonical"
    # paths in the settings file are read from the file's folder
    assert manifest["invocation"]["input_dir"] == str(monthly / "in")
    assert manifest["invocation"]["out_dir"] == str(run)


def test_manifest_records_command_line_and_versions(monthly):
    manifest = manifest_of(monthly / "audits" / "2025-11")
    argv = manifest["invocation"]["argv"]
    assert argv[:2] == ["spine-audit", "run"] and argv[-3:] == ["--month", "2025-11", "-q"]
    assert argv[3] == str(monthly / "audit.toml")
    versions = manifest["versions"]
    assert set(versions) == {
        "python",
        "duckdb",
        "pyarrow",
        "pandas",
        "jinja2",
        "spine-audit",
        "pack",
        "pack_sha256",
    }
    assert versions["pack_sha256"] == manifest["pack"]["value_set_sha256"]
    assert manifest["settings"]["suppression"] == "cms"


def test_outputs_map_holds_every_written_file(monthly):
    run = monthly / "audits" / "2025-11"
    written = {
        p.relative_to(run).as_posix()
        for p in run.rglob("*")
        if p.is_file() and p.name != MARKER and p.relative_to(run).as_posix() != MANIFEST
    }
    outputs = manifest_of(run)["outputs"]
    assert set(outputs) == written and "internal/sessions.parquet" in outputs
    for rel, digest in outputs.items():
        assert sha256(run / rel) == digest, rel


def test_verify_passes_on_the_monthly_run(monthly, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run = monthly / "audits" / "2025-11"
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    result = cli("verify", run, env={**os.environ, "TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr
    assert (
        result.stderr.strip() == f"verified: {len(manifest_of(run)['outputs']) + 1} files identical"
    )
    # the rerun went to a temporary folder outside the run folder, and is gone
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before
    assert list(scratch.iterdir()) == []


def test_verify_names_a_changed_input_file(monthly, tmp_path):
    changed = tmp_path / "in"
    shutil.copytree(monthly / "in", changed)
    data = bytearray((changed / "procedures.csv").read_bytes())
    data[-2] = ord("7") if data[-2] != ord("7") else ord("8")  # one byte of the last line
    (changed / "procedures.csv").write_bytes(bytes(data))
    result = cli("verify", monthly / "audits" / "2025-11", changed)
    assert result.returncode == 3, result.stderr
    assert "input file procedures.csv changed" in result.stderr
    assert "patients.csv" not in result.stderr


def test_verify_names_an_output_edited_after_the_run(run_copy):
    page = run_copy / "shareable" / "site_summary.csv"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace(",", ";", 1), encoding="utf-8")  # one byte of the header
    result = cli("verify", run_copy)
    assert result.returncode == 3, result.stderr
    assert "shareable/site_summary.csv: edited after the run" in result.stderr
    assert result.stderr.count("differs:") == 1, result.stderr


def test_verify_names_a_different_duckdb_version(run_copy):
    manifest = manifest_of(run_copy)
    manifest["versions"]["duckdb"] = "0.0.1"
    (run_copy / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    result = cli("verify", run_copy)
    assert result.returncode == 3, result.stderr
    assert "DuckDB differs: recorded 0.0.1, here" in result.stderr


def test_verify_names_a_file_the_run_did_not_write(run_copy):
    (run_copy / "shareable" / "notes.txt").write_text("mine", encoding="utf-8")
    result = cli("verify", run_copy)
    assert result.returncode == 3, result.stderr
    assert "shareable/notes.txt: in the run folder, but the run did not write it" in result.stderr


def test_verify_refuses_a_folder_spine_audit_did_not_write(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert "not a spine-audit output folder" in one_line_error(cli("verify", tmp_path))


def test_month_is_refused_with_from_or_to(monthly):
    line = one_line_error(
        cli("run", "--config", monthly / "audit.toml", "--month", "2025-11", "--to", "2025-11-30")
    )
    assert "either --month or --from/--to" in line


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "11-2025", "2025-11-01", "2025-00"])
def test_a_malformed_month_is_refused(monthly, month):
    line = one_line_error(cli("run", "--config", monthly / "audit.toml", "--month", month))
    assert "is not a calendar month" in line


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("audits/{year}", "{year} is not a placeholder"),
        ("audits/{month!r}", "is not a placeholder"),
        ("audits/{month:>10}", "is not a placeholder"),
        ("audits/{month.real}", "is not a placeholder"),
        ("../{month}", "'..' is not allowed"),
        ("audits/{from}", "needs --from (or --month)"),
    ],
)
def test_an_unsafe_out_pattern_is_refused(tmp_path, pattern, why):
    config = tmp_path / "audit.toml"
    config.write_text(f'input = "{sample_data_dir()}"\nout = "{pattern}"\n', encoding="utf-8")
    month = [] if "{from}" in pattern else ["--month", "2025-11"]
    assert why in one_line_error(cli("run", "--config", config, *month))
    assert [p.name for p in tmp_path.iterdir()] == ["audit.toml"]


def test_command_line_overrides_the_settings_file(monthly, tmp_path):
    out = tmp_path / "other"
    result = cli(
        "run", "--config", monthly / "audit.toml", "--month", "2025-11",
        "--suppression", "none", "--out", out, "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = manifest_of(out)
    assert manifest["settings"]["suppression"] == "none"
    assert manifest["invocation"]["out_dir"] == str(out)
    assert not (monthly / "audits" / "2025-11" / "shareable" / "other").exists()
