"""Hostile catalogue, output folder: spine-audit never destroys a folder it did not write.

Each test points ``--out`` somewhere a real user has pointed it (the input extract, a web project,
an earlier audit holding the extract, a file, a link) and checks the exit code, the one-line
error, and that every file that was there is still there, unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit import cli
from audit.errors import OutputFolderError
from audit.publish import MARKER_NAME, OutputFolder, check_out_dir, remove_leftovers
from tests.helpers import write_extract

PATIENTS = """
patient_id | birth_date
P1         | 1970-05-01
"""
DIAGNOSES = """
patient_id | event_date | code   | source_id | site_id
P1         | 2022-10-01 | M54.50 | C0        | S1
P1         | 2023-03-01 | M54.50 | C1        | S1
"""
PROCEDURES = """
patient_id | event_date | code  | site_id | source_id
P1         | 2023-03-01 | 64493 | S1      | C1
"""


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    return write_extract(
        tmp_path / "extract", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )


def run(capsys, *args: str | Path) -> tuple[int, str]:
    """The CLI in process: exit code and stderr."""
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def refused(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("spine-audit: error")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


def test_out_is_the_input_folder_with_a_vendor_manifest(capsys, extract):
    (extract / "manifest.json").write_text('{"vendor": "extract v3"}')
    before = snapshot(extract)
    code, err = run(capsys, "run", extract, "--out", extract)
    refused(code, err, str(extract), "--out is the input")
    assert snapshot(extract) == before


def test_out_inside_the_input_folder(capsys, extract):
    before = snapshot(extract)
    code, err = run(capsys, "run", extract, "--out", extract / "audit")
    refused(code, err, "inside the input")
    assert snapshot(extract) == before and not (extract / "audit").exists()


def test_out_above_the_input_folder(capsys, extract, tmp_path):
    code, err = run(capsys, "run", extract, "--out", tmp_path)
    refused(code, err, "holds the input")
    assert (extract / "patients.csv").is_file()


def test_out_reached_through_a_link_to_the_input(capsys, extract, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(extract, target_is_directory=True)
    code, err = run(capsys, "run", extract, "--out", link / "sub")
    refused(code, err, "inside the input")


def test_out_is_a_web_project_with_a_manifest(capsys, extract, tmp_path):
    site = tmp_path / "webapp"
    (site / "public").mkdir(parents=True)
    (site / "manifest.json").write_text('{"name": "my app", "start_url": "/"}')
    (site / "public" / "index.html").write_text("<h1>home</h1>")
    before = snapshot(site)
    code, err = run(capsys, "run", extract, "--out", site)
    refused(code, err, "not written by spine-audit")
    assert snapshot(site) == before


def test_earlier_audit_folder_that_now_holds_the_extract(capsys, extract, tmp_path):
    out = tmp_path / "audit"
    assert run(capsys, "run", extract, "--out", out)[0] == 0
    copy = out / "extract-copy"
    copy.mkdir()
    (copy / "procedures.csv").write_bytes((extract / "procedures.csv").read_bytes())
    before = snapshot(out)
    code, err = run(capsys, "run", extract, "--out", out)
    refused(code, err, "extract-copy")
    assert snapshot(out) == before


def test_an_output_file_edited_by_the_user_is_not_overwritten(capsys, extract, tmp_path):
    out = tmp_path / "audit"
    assert run(capsys, "run", extract, "--out", out)[0] == 0
    page = out / "shareable" / "index.html"
    page.write_text(page.read_text() + "<!-- my annotations -->")
    code, err = run(capsys, "run", extract, "--out", out)
    refused(code, err, "shareable/index.html")
    assert page.read_text().endswith("<!-- my annotations -->")


def test_a_forged_or_broken_marker_is_not_ownership(capsys, extract, tmp_path):
    out = tmp_path / "audit"
    out.mkdir()
    (out / "thesis.docx").write_text("chapter 1")
    for marker in ("not json", json.dumps({"tool": "other-tool", "run_id": "x", "files": {}})):
        (out / MARKER_NAME).write_text(marker)
        refused(*run(capsys, "run", extract, "--out", out), "not written by spine-audit")
    (out / MARKER_NAME).unlink()
    (out / MARKER_NAME).symlink_to(tmp_path / "elsewhere.json")
    refused(*run(capsys, "run", extract, "--out", out), "not written by spine-audit")
    assert (out / "thesis.docx").read_text() == "chapter 1"


def test_a_marker_listing_the_users_file_still_refuses_a_changed_size(extract, tmp_path):
    out = tmp_path / "audit"
    out.mkdir()
    (out / "data.csv").write_text("precious rows")
    marker = {"tool": "spine-audit", "run_id": "x", "state": "complete", "files": {"data.csv": 3}}
    (out / MARKER_NAME).write_text(json.dumps(marker))
    with pytest.raises(OutputFolderError, match="data.csv"):
        check_out_dir(out, [extract])


def test_out_is_a_file(capsys, extract, tmp_path):
    target = tmp_path / "report.pdf"
    target.write_text("%PDF")
    refused(*run(capsys, "run", extract, "--out", target), "not a folder")
    assert target.read_text() == "%PDF"


def test_out_is_a_symbolic_link(capsys, extract, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "out-link"
    link.symlink_to(real, target_is_directory=True)
    refused(*run(capsys, "run", extract, "--out", link), "symbolic link")


def test_out_is_checked_before_any_work(capsys, extract, tmp_path, monkeypatch):
    import audit.run

    def classify_must_not_run(*args, **kwargs):
        raise AssertionError("the pipeline ran before --out was checked")

    monkeypatch.setattr(audit.run, "classify", classify_must_not_run)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "a.txt").write_text("a")
    refused(*run(capsys, "run", extract, "--out", precious), "precious")


def test_validate_out_obeys_the_same_rules(capsys, extract):
    before = snapshot(extract)
    refused(*run(capsys, "validate", extract, "--out", extract), "--out is the input")
    assert snapshot(extract) == before


def test_rerun_into_its_own_folder_replaces_it(capsys, extract, tmp_path):
    out = tmp_path / "audit"
    assert run(capsys, "run", extract, "--out", out, "--as-of", "2026-01-01")[0] == 0
    assert run(capsys, "run", extract, "--out", out, "--as-of", "2026-03-01")[0] == 0
    manifest = json.loads((out / "internal" / "manifest.json").read_text())
    assert manifest["settings"]["as_of_date"] == "2026-03-01"
    marker = json.loads((out / MARKER_NAME).read_text())
    assert marker["run_id"] == manifest["run_id"] and marker["state"] == "complete"
    assert set(marker["files"]) == {
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
    } - {MARKER_NAME}


def test_output_folder_is_owner_only(capsys, extract, tmp_path):
    out = tmp_path / "audit"
    assert run(capsys, "run", extract, "--out", out)[0] == 0
    assert out.stat().st_mode & 0o777 == 0o700


def _killed_run(out: Path) -> None:
    """A process that starts writing into ``out`` and is killed (no clean-up runs)."""
    code = (
        "import os, sys; from pathlib import Path; from audit.publish import OutputFolder;"
        "f = OutputFolder(Path(sys.argv[1]));"
        "(f.internal / 'sessions.parquet').write_text('P000001');"
        "os._exit(9)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code, str(out)], cwd=root, check=False)
    assert result.returncode == 9


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(capsys, extract, tmp_path):
    out = tmp_path / "audit"
    _killed_run(out)
    leftovers = list(tmp_path.glob(".audit.tmp-*"))
    assert len(leftovers) == 1 and (leftovers[0] / "internal" / "sessions.parquet").is_file()
    assert run(capsys, "run", extract, "--out", out)[0] == 0
    assert not list(tmp_path.glob(".audit.tmp-*"))


def test_leftovers_not_ours_or_still_running_are_kept(tmp_path):
    out = tmp_path / "audit"
    stranger = tmp_path / ".audit.tmp-backup"
    stranger.mkdir()
    (stranger / "keep.txt").write_text("not ours")
    running = OutputFolder(out)  # a run of this very process: alive
    try:
        assert remove_leftovers(out) == []
        assert (stranger / "keep.txt").is_file() and running.tmp.is_dir()
    finally:
        running.discard()


def test_a_leftover_that_cannot_be_removed_is_named_in_a_warning(tmp_path, monkeypatch):
    out = tmp_path / "audit"
    _killed_run(out)
    leftover = next(tmp_path.glob(".audit.tmp-*"))

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    import audit.publish

    monkeypatch.setattr(audit.publish.shutil, "rmtree", refuse)
    warnings: list[str] = []
    assert remove_leftovers(out, warnings.append) == []
    assert len(warnings) == 1 and str(leftover) in warnings[0]
    assert "identifiers" in warnings[0]


def test_a_failed_run_leaves_the_earlier_audit_untouched(capsys, extract, tmp_path):
    out = tmp_path / "audit"
    assert run(capsys, "run", extract, "--out", out)[0] == 0
    before = snapshot(out)
    (extract / "procedures.csv").write_text("patient_id,event_date\nP1,2023-01-01\n")
    code, _ = run(capsys, "run", extract, "--out", out)
    assert code == 2
    assert snapshot(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".audit.")]


def test_landing_page_names_both_folders_and_links_only_to_shareable(capsys, extract, tmp_path):
    out = tmp_path / "audit"
    assert run(capsys, "run", extract, "--out", out)[0] == 0
    page = (out / "index.html").read_text()
    assert 'href="shareable/index.html"' in page and "internal/" in page
    assert 'href="internal' not in page
    assert os.path.getsize(out / "shareable" / "index.html") > 0
