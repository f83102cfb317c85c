"""The built wheel carries the SQL, templates, pack and sample data: `pip install .` into a
fresh virtual environment and running from another folder works."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_wheel_installs_and_runs_from_another_folder(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    [wheel] = wheels.glob("spine_audit-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # the dependencies (duckdb, pandas, ...) come from this test environment, appended after
    # the new venv's own site-packages; the tool itself only from the wheel
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import audit, audit.resources as r; print(audit.__file__); "
            "print(r.sql_dir()); print(r.reports_dir()); print(r.sample_data_dir())",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=elsewhere,
    ).stdout.splitlines()
    assert all(str(env_dir) in line for line in where), where
    script = env_dir / "bin" / "spine-audit"
    result = subprocess.run(
        [str(script), "demo", "--out", "report"], capture_output=True, text=True, cwd=elsewhere
    )
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "report" / "shareable" / "index.html").is_file()
    assert (elsewhere / "report" / "internal" / "sessions.parquet").is_file()
    assert list((elsewhere / "report" / "shareable" / "sites").glob("*.html"))
