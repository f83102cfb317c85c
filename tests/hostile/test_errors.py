"""Exit codes and one-line errors for input, settings and the environment (docs/security.md,
"Errors and exit codes").

Every failure the user can act on exits 2 with one line naming its cause (the setting, the file
or the folder) and no traceback; exit 1 ("internal error") is kept for bugs; Ctrl-C gives 130.
Most cases run the command line in process (``audit.cli.main``); those that need another
process (permissions, a signal) run it as a subprocess. The tests run as root here: a file that
root cannot read needs root's override of file permissions dropped (``setpriv``), and a full disk
is a small tmpfs mounted for the test (with a simulation where mounting is not allowed).
"""

from __future__ import annotations

import errno
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import audit.config
import audit.engine
import audit.failures
import audit.pipeline
import audit.run
from audit.cli import main
from audit.config import load_settings
from audit.failures import user_errors
from audit.resources import sample_data_dir
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
AS_OF = ("--as-of", "2025-06-30")
# drops root's override of file permissions, so that chmod 000 binds (util-linux)
UNPRIVILEGED = (
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
)


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_extract(
        tmp_path / "in", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """``spine-audit ARGS -q`` in process: the exit code and what it printed on stderr."""
    code = main([*map(str, args), "-q"])
    return code, capsys.readouterr().err


def one_line_error(code: int, err: str, *names: str) -> str:
    """The single error line (exit 2, no traceback), which must name every one of ``names``."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spine-audit: error: "), err
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "audit.toml"
    path.write_text(text, encoding="utf-8")
    return path


def subprocess_cli(*args: str | Path, unprivileged: bool = False) -> subprocess.CompletedProcess:
    prefix = UNPRIVILEGED if unprivileged and os.geteuid() == 0 else ()
    return subprocess.run(
        [*prefix, sys.executable, "-m", "audit.cli", *map(str, args), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    shutil.copytree(sample_data_dir(), folder, ignore=shutil.ignore_patterns("formats", "*.md"))
    return folder


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A folder on a 2 MiB file system (a tmpfs mounted for the test, unmounted after it), or
    None where mounting is not allowed (the test then simulates the full disk)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield folder if mounted else None
    finally:
        if mounted:
            gc.collect()  # a DuckDB handle of the failed run may still hold a file there
            if subprocess.run(["umount", str(folder)], capture_output=True).returncode:
                subprocess.run(["umount", "--lazy", str(folder)], check=True)


def spy_on_explain(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """The failures audit.failures is asked to explain, as they come."""
    told: list[BaseException] = []
    real_explain = audit.failures.explain

    def spy(exc, *args):
        told.append(exc)
        return real_explain(exc, *args)

    monkeypatch.setattr(audit.failures, "explain", spy)
    return told


def fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until ``leave`` bytes are free."""
    free = shutil.disk_usage(folder).free
    with (folder / "filler").open("wb") as fh:
        fh.write(b"\0" * max(free - leave, 0))


# ---- settings ---------------------------------------------------------------------------------


def test_empty_non_counting_statuses_means_every_status_counts(good, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = run(
        capsys,
        "run",
        good,
        "--out",
        out,
        "--config",
        config(tmp_path, "non_counting_statuses = []"),
    )
    assert code == 0, err
    manifest = json.loads((out / "internal" / "manifest.json").read_text())
    assert manifest["settings"]["non_counting_statuses"] == []
    procedures = manifest["reconciliation"]["procedures"]
    assert procedures["not_counting_status"] == {} and procedures["balanced"]
    assert manifest["results"]["sessions"] == 2  # the denied line counts too


def test_blank_non_counting_status_is_refused(good, tmp_path, capsys):
    toml = config(tmp_path, 'non_counting_statuses = ["denied", " "]')
    line = one_line_error(*run(capsys, "run", good, "--out", tmp_path / "out", "--config", toml))
    assert "non_counting_statuses" in line and "blank status always counts" in line


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ('chronic_days = "ninety"', "chronic_days"),
        ("chronic_days = 90.5", "chronic_days"),
        ('other_specific_cause = "yes"', "other_specific_cause"),
        ('non_counting_statuses = "denied"', "non_counting_statuses"),
        ("non_counting_statuses = [1]", "non_counting_statuses"),
        ("threads = true", "threads"),
        ("memory_limit = 2", "memory_limit"),
        ("pack = 5", "pack"),
        ("temp_dir = 5", "temp_dir"),
        ("suppression = 5", "suppression"),
        ("as_of_date = 2025-06-30T10:00:00", "as_of_date"),
        ('as_of_date = "2025-13-01"', "as_of_date"),
    ],
)
def test_setting_of_the_wrong_type(good, tmp_path, capsys, text, setting):
    toml = config(tmp_path, text)
    one_line_error(*run(capsys, "run", good, "--out", tmp_path / "out", "--config", toml), setting)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ("threads = 0", "threads"),
        ("threads = -4", "threads"),
        ("threads = 100000", "threads"),
        ("chronic_days = -1", "chronic_days"),
        ("lookback_days = 9223372036854775807", "lookback_days"),
        ("chronic_days = 400\nlookback_days = 365", "chronic_days <= lookback_days"),
    ],
)
def test_setting_out_of_range(good, tmp_path, capsys, text, setting):
    toml = config(tmp_path, text)
    one_line_error(*run(capsys, "run", good, "--out", tmp_path / "out", "--config", toml), setting)


def test_unknown_setting(good, tmp_path, capsys):
    toml = config(tmp_path, "[audit]\nchronic_dayz = 90\n")
    one_line_error(
        *run(capsys, "run", good, "--out", tmp_path / "out", "--config", toml), "chronic_dayz"
    )


def test_setting_outside_the_audit_table_is_not_silently_ignored(good, tmp_path, capsys):
    toml = config(tmp_path, "threads = 2\n[audit]\nchronic_days = 90\n")
    line = one_line_error(*run(capsys, "run", good, "--out", tmp_path / "out", "--config", toml))
    assert "threads (outside [audit])" in line


def test_audit_key_that_is_not_a_table(good, tmp_path, capsys):
    toml = config(tmp_path, "audit = 5\n")
    one_line_error(*run(capsys, "run", good, "--out", tmp_path / "out", "--config", toml), "audit")


def test_config_file_that_is_a_folder(good, tmp_path, capsys):
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", "--config", tmp_path)
    one_line_error(code, err, str(tmp_path), "is a folder")


@pytest.mark.parametrize("text", ["abc", "1024", "-1GB", "0MB", "150%", "1e3MB"])
def test_memory_limit_that_is_not_a_size(good, tmp_path, capsys, text):
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", f"--memory-limit={text}")
    one_line_error(code, err, "--memory-limit", repr(text))


@pytest.mark.parametrize("threads", ["0", "-2"])
def test_threads_option_below_one(good, tmp_path, capsys, threads):
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", "--threads", threads)
    one_line_error(code, err, "--threads", threads)


def test_temp_dir_that_is_a_file(good, tmp_path, capsys):
    (tmp_path / "spill").write_text("")
    code, err = run(
        capsys, "run", good, "--out", tmp_path / "out", "--temp-dir", tmp_path / "spill"
    )
    one_line_error(code, err, "--temp-dir", "is a file")


def test_temp_dir_under_a_file(good, tmp_path, capsys):
    (tmp_path / "spill").write_text("")
    target = tmp_path / "spill" / "sub"
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", "--temp-dir", target)
    one_line_error(code, err, "--temp-dir", f"lies under the file {tmp_path / 'spill'}")


def test_temp_dir_that_is_not_writable(good, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    result = subprocess_cli(
        "run", good, "--out", tmp_path / "out", "--temp-dir", locked / "spill", unprivileged=True
    )
    one_line_error(result.returncode, result.stderr, "--temp-dir", f"{locked} is not writable")


def test_as_of_date_before_all_data(tmp_path, capsys):
    sample = copy_sample(tmp_path)
    code, err = run(capsys, "run", sample, "--out", tmp_path / "out", "--as-of", "2000-01-01")
    one_line_error(code, err, "events_after_extract_end", "as-of date 2000-01-01", "--as-of")
    assert not (tmp_path / "out").exists()


def test_from_after_the_as_of_date(good, tmp_path, capsys):
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", "--from", "2026-01-01", *AS_OF)
    one_line_error(code, err, "--from 2026-01-01", "as-of date 2025-06-30")
    assert not (tmp_path / "out").exists()


def test_from_after_to(good, tmp_path, capsys):
    code, err = run(
        capsys, "run", good, "--out", tmp_path / "out", "--from", "2024-01-01", "--to", "2023-01-01"
    )
    one_line_error(code, err, "--from 2024-01-01", "--to 2023-01-01")


# ---- the output folder --------------------------------------------------------------------


def test_bad_out_is_reported_before_any_work(good, tmp_path, capsys, monkeypatch):
    def no_work(*_args, **_kwargs):
        raise AssertionError("classification started before --out was checked")

    monkeypatch.setattr(audit.run, "classify", no_work)
    (tmp_path / "out").write_text("a file, not a folder")
    code, err = run(capsys, "run", good, "--out", tmp_path / "out")
    one_line_error(code, err, str(tmp_path / "out"))
    assert (tmp_path / "out").read_text() == "a file, not a folder"


def test_full_disk_while_writing_the_outputs(good, tmp_path, capsys, small_disk, monkeypatch):
    """The pages and CSV files (written from Python) find the disk full."""
    if small_disk is None:  # no mount allowed: the write fails as a full disk makes it fail
        real_write_text = Path.write_text

        def full(self: Path, *args, **kwargs):
            if self.suffix == ".html":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write_text(self, *args, **kwargs)

        monkeypatch.setattr(Path, "write_text", full)
        out = tmp_path / "out"
    else:
        fill(small_disk, leave=48 * 1024)  # room for the DuckDB files, not for the pages
        out = small_disk / "out"
    told = spy_on_explain(monkeypatch)
    code, err = run(capsys, "run", good, "--out", out, *AS_OF)
    one_line_error(code, err, f"cannot write the outputs in {out}", "No space left on device")
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")]  # no half-written
    assert [type(e) for e in told] == [OSError]  # Python's failure, not DuckDB's


def test_full_disk_while_duckdb_writes_the_sessions(
    good, tmp_path, capsys, small_disk, monkeypatch
):
    """sessions.parquet (written by DuckDB, the first file of internal/) finds the disk full."""
    if small_disk is None:  # no mount allowed: DuckDB's error, as a full disk makes it

        def full(con, folder, *args):
            raise duckdb.IOException(
                f'IO Error: Could not write file "{folder.tmp}/internal/sessions.parquet": '
                "No space left on device"
            )

        monkeypatch.setattr(audit.run, "write_outputs", full)
        out = tmp_path / "out"
    else:
        fill(small_disk, leave=4 * 1024)  # one page: the ownership marker, not the files
        out = small_disk / "out"
    told = spy_on_explain(monkeypatch)
    code, err = run(capsys, "run", good, "--out", out, *AS_OF)
    one_line_error(code, err, f"cannot write the outputs in {out}", "No space left on device")
    assert not out.exists()
    assert [type(e) for e in told] == [duckdb.IOException]  # DuckDB's failure, not Python's


# ---- memory and the spill folder ------------------------------------------------------------


def test_memory_limit_too_small_for_the_run(tmp_path, capsys):
    sample = copy_sample(tmp_path)
    code, err = run(
        capsys, "run", sample, "--out", tmp_path / "out", "--memory-limit", "16MB", "--threads", "1"
    )
    line = one_line_error(
        code, err, "needs more memory than --memory-limit 16MB allows", "raise it"
    )
    assert "Out of Memory" not in line  # DuckDB's own text (several lines) is not shown
    assert not (tmp_path / "out").exists()


def test_memory_limit_too_small_to_start(good, tmp_path, capsys):
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", "--memory-limit", "1KB")
    one_line_error(code, err, "needs more memory than --memory-limit 1KB allows")


def test_spill_folder_full(tmp_path, capsys, small_disk, monkeypatch):
    sample = copy_sample(tmp_path)
    if small_disk is None:  # no mount allowed: DuckDB's own cap on the spill folder
        real_connect = audit.engine.DuckDBEngine.connect

        def capped(settings, profile_dir=None):
            engine = real_connect(settings, profile_dir)
            engine.con.execute("SET max_temp_directory_size = '64KiB'")
            return engine

        monkeypatch.setattr(audit.engine.DuckDBEngine, "connect", capped)
        spill = tmp_path / "spill"
    else:
        fill(small_disk, leave=64 * 1024)
        spill = small_disk / "spill"
    code, err = run(
        capsys,
        "run",
        sample,
        "--out",
        tmp_path / "out",
        "--memory-limit",
        "30MB",
        "--threads",
        "1",
        "--temp-dir",
        spill,
    )
    one_line_error(code, err, f"the spill folder {spill} is full", "--temp-dir")


def test_spill_folder_lost_during_the_run(tmp_path, capsys, monkeypatch):
    """The spill folder passed the check but cannot be created when DuckDB first spills (here a
    file stands in its way, as when the folder is replaced mid-run)."""
    monkeypatch.setattr(audit.config, "_temp_dir", lambda value: value)  # the check is passed
    sample = copy_sample(tmp_path)
    (tmp_path / "spill").write_text("")
    code, err = run(
        capsys,
        "run",
        sample,
        "--out",
        tmp_path / "out",
        "--memory-limit",
        "30MB",
        "--threads",
        "1",
        "--temp-dir",
        tmp_path / "spill",
    )
    one_line_error(code, err, f"cannot spill to {tmp_path / 'spill'} (--temp-dir)", "File exists")


# ---- input files --------------------------------------------------------------------------


def _as_parquet(folder: Path, table: str, copies: int = 1) -> Path:
    """Rewrite ``table``.csv as Snappy-compressed Parquet of text columns (``copies`` times the
    rows, so that a data page is large enough to damage in its middle)."""
    csv_path = folder / f"{table}.csv"
    path = folder / f"{table}.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT c.* FROM read_csv($csv, all_varchar = true) AS c, range($n)) "
            "TO $out (FORMAT parquet, COMPRESSION snappy)",
            {"csv": str(csv_path), "n": copies, "out": str(path)},
        )
    csv_path.unlink()
    return path


def _damage_a_page(path: Path, column: int) -> None:
    """Overwrite bytes in the middle of the data pages of one column (after its dictionary)."""
    meta = pq.ParquetFile(path).metadata.row_group(0).column(column)
    start = meta.dictionary_page_offset or meta.data_page_offset
    pages = meta.total_compressed_size - (meta.data_page_offset - start)
    middle = meta.data_page_offset + pages // 2
    data = bytearray(path.read_bytes())
    data[middle : middle + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))


def test_corrupt_parquet_page(tmp_path, capsys):
    """A damaged data page is found only when a step decodes it (inputs are read in place);
    DuckDB names the file."""
    sample = copy_sample(tmp_path)
    _damage_a_page(_as_parquet(sample, "procedures"), column=0)
    code, err = run(capsys, "run", sample, "--out", tmp_path / "out", *AS_OF)
    one_line_error(code, err, "procedures.parquet: cannot read the file", "damaged")
    assert not (tmp_path / "out").exists()


def test_corrupt_parquet_page_that_duckdb_does_not_name(good, tmp_path, capsys):
    """DuckDB reports this damage as "Corrupted file?" without a file name: the Parquet inputs
    are then decoded one by one to find it."""
    path = _as_parquet(good, "procedures", copies=2000)
    _damage_a_page(path, column=2)
    with pytest.raises(duckdb.Error) as raised, duckdb.connect() as con:  # the precondition
        con.execute("SELECT bit_xor(hash(code)) FROM read_parquet($p)", {"p": str(path)})
    assert path.name not in str(raised.value)
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", *AS_OF)
    one_line_error(code, err, "procedures.parquet: cannot read the file")


def test_truncated_parquet(good, tmp_path, capsys):
    path = _as_parquet(good, "procedures")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", *AS_OF)
    one_line_error(code, err, "procedures.parquet", "cannot read the file")


def test_truncated_gzip_csv(good, tmp_path, capsys):
    import gzip

    data = gzip.compress((good / "diagnoses.csv").read_bytes() * 50, mtime=0)
    (good / "diagnoses.csv").unlink()
    (good / "diagnoses.csv.gz").write_bytes(data[: len(data) // 2])
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", *AS_OF)
    one_line_error(code, err, "diagnoses.csv.gz", "cannot read")


def test_unreadable_input_file(good, tmp_path):
    (good / "patients.csv").chmod(0)
    result = subprocess_cli("run", good, "--out", tmp_path / "out", *AS_OF, unprivileged=True)
    one_line_error(result.returncode, result.stderr, "patients.csv", "Permission denied")


def test_unreadable_parquet_input_file(good, tmp_path):
    _as_parquet(good, "procedures").chmod(0)
    result = subprocess_cli("run", good, "--out", tmp_path / "out", *AS_OF, unprivileged=True)
    one_line_error(result.returncode, result.stderr, "procedures.parquet", "Permission denied")


def test_unreadable_input_folder(good, tmp_path):
    good.chmod(0)
    try:
        result = subprocess_cli("run", good, "--out", tmp_path / "out", *AS_OF, unprivileged=True)
    finally:
        good.chmod(0o755)
    one_line_error(result.returncode, result.stderr, str(good), "Permission denied")


def test_input_folder_that_is_a_file(tmp_path, capsys):
    (tmp_path / "extract.csv").write_text("patient_id\n")
    code, err = run(capsys, "run", tmp_path / "extract.csv", "--out", tmp_path / "out")
    one_line_error(code, err, "extract.csv", "is a file, not a folder")


def test_validate_names_a_corrupt_parquet_page(tmp_path, capsys):
    sample = copy_sample(tmp_path)
    _damage_a_page(_as_parquet(sample, "procedures"), column=0)
    code, err = run(capsys, "validate", sample, *AS_OF)
    capsys.readouterr()
    one_line_error(code, err, "procedures.parquet: cannot read the file")


# ---- bugs stay bugs; Ctrl-C stays Ctrl-C -----------------------------------------------------


def test_a_bug_in_a_step_stays_an_internal_error(good, tmp_path, capsys, monkeypatch):
    real = audit.pipeline.read_sql

    def broken(step: str) -> str:
        if step == "index_lines":
            return "SELECT no_such_column FROM procedures_kept"
        return real(step)

    monkeypatch.setattr(audit.pipeline, "read_sql", broken)
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", *AS_OF)
    assert code == 1, err
    assert "internal error: BinderException" in err and "Traceback" not in err


def test_a_duckdb_input_error_naming_no_input_stays_an_internal_error(
    good, tmp_path, capsys, monkeypatch
):
    def broken(*_args, **_kwargs):
        raise duckdb.InvalidInputException("Invalid Input Error: something only a bug can do")

    monkeypatch.setattr(audit.run, "load_settings_tables", broken)
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", *AS_OF)
    assert code == 1, err
    assert "internal error: InvalidInputException" in err


def test_a_failure_naming_no_file_does_not_blame_a_healthy_parquet_input(
    good, tmp_path, capsys, monkeypatch
):
    _as_parquet(good, "procedures", copies=10)

    def broken(*_args, **_kwargs):
        raise duckdb.Error("Corrupted file?")

    monkeypatch.setattr(audit.run, "write_outputs", broken)
    code, err = run(capsys, "run", good, "--out", tmp_path / "out", *AS_OF)
    assert code == 1, err
    assert "internal error: Error: Corrupted file?" in err


def test_interrupted_query_is_an_interrupt(good, tmp_path):
    """DuckDB's Python client reports Ctrl-C during a query as RuntimeError("Query
    interrupted"), which would be an internal error: it is told as Ctrl-C again (exit 130)."""
    config = {"memory_limit": "256MB", "temp_directory": str(tmp_path / "spill")}
    con = duckdb.connect(":memory:", config=config)
    timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
    try:
        with pytest.raises(KeyboardInterrupt) as caught, user_errors(load_settings(), good):
            timer.start()  # the client sees the signal when the sort (1-5 s) returns
            con.execute("CREATE TABLE t AS SELECT i FROM range(20000000) AS r(i) ORDER BY i DESC")
    finally:
        timer.cancel()
        con.close()
    assert type(caught.value.__context__) is RuntimeError  # the query was interrupted


def test_ctrl_c_gives_130(tmp_path):
    sample = copy_sample(tmp_path)
    with subprocess.Popen(
        [sys.executable, "-m", "audit.cli", "run", sample, "--out", tmp_path / "out", "-v"],
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:  # wait until the SQL steps are running
            if "[ 1/" in line:
                break
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=120) == 130, rest
    assert "spine-audit: interrupted" in rest and "Traceback" not in rest
    assert not (tmp_path / "out").exists()
    assert not any(p.name.startswith(".out.tmp-") for p in tmp_path.iterdir())
