"""The Spark engine gives DuckDB's answer (issue 14): the whole audit, run with both engines on
the sample data, every format fixture and a Parquet copy of the sample, writes the same
sessions.parquet rows (every column, every row, in order, with one schema), the same site
summaries and reports (byte for byte), the same quarantine and data-quality files and the
same reconciliation.

All of it runs on one local SparkSession (the session-scoped ``spark`` fixture), in one pytest-xdist
worker (``xdist_group``; the Makefile runs pytest with ``--dist loadgroup``). The clinical
vignettes of tests/spec run on Spark with ``pytest tests/spec --engine spark``; each is then
also compared, every column of every session, with DuckDB's (tests/spec/conftest.py).

Time: each audit on a local Spark session costs about a minute here, whatever its size (some
150 Spark queries at 0.3-1 s of fixed cost each). ``make test`` runs the sample and the four
format fixtures (about five minutes in one worker, beside the rest of the suite); the tests
marked ``spark_full`` (a Parquet copy of the sample with the steps written as Parquet, and the
command line in a process of its own) and the clinical vignettes on Spark run with
``make test-spark``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark")

from audit.config import load_settings  # noqa: E402
from audit.resources import sample_data_dir  # noqa: E402
from audit.run import run_audit  # noqa: E402
from audit.spark_engine import SparkEngine  # noqa: E402
from tests.helpers import AS_OF, cli  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

FORMATS = sorted(p.name for p in (sample_data_dir() / "formats").iterdir() if p.is_dir())
# files that name the run's own folder or the engine's bytes: compared by what they hold
BY_CONTENT = {"internal/manifest.json", "internal/sessions.parquet", ".spine-audit-output.json"}


def audit_both(
    folder: Path, tmp_path: Path, spark, work_dir: Path | None = None
) -> tuple[Path, Path]:
    """The output folders of one audit of ``folder`` on DuckDB and on Spark (each step's table
    a local checkpoint, or Parquet under ``work_dir``: what a cluster uses)."""
    settings = replace(load_settings(), as_of_date=AS_OF)
    out = {}
    for name in ("duckdb", "spark"):
        engine = SparkEngine(spark, work_dir) if name == "spark" else "duckdb"
        out[name] = tmp_path / name
        run_audit(folder, out[name], settings, engine=engine)
    return out["duckdb"], out["spark"]


def assert_same_outputs(duck: Path, spark: Path) -> None:
    # sessions.parquet: the same column names and types, and every row equal in every column,
    # in order. (Whether a column is flagged NOT NULL is each optimiser's inference, not data:
    # it is left out of the comparison.)
    a = pq.read_table(duck / "internal" / "sessions.parquet")
    b = pq.read_table(spark / "internal" / "sessions.parquet")
    assert [(f.name, f.type) for f in b.schema] == [(f.name, f.type) for f in a.schema]
    assert b.to_pylist() == a.to_pylist()
    # every other file (site summaries, pages, quarantine, data quality): byte for byte
    files = sorted(str(p.relative_to(duck)) for p in duck.rglob("*") if p.is_file())
    assert sorted(str(p.relative_to(spark)) for p in spark.rglob("*") if p.is_file()) == files
    assert "shareable/site_summary.csv" in files
    for name in sorted(set(files) - BY_CONTENT):
        assert (spark / name).read_bytes() == (duck / name).read_bytes(), name
    # the internal manifest: all but the invocation (output folder) and sessions.parquet's digest
    manifests = []
    for folder in (duck, spark):
        manifest = json.loads((folder / "internal" / "manifest.json").read_text())
        manifest.pop("invocation")
        manifest["outputs"].pop("internal/sessions.parquet")
        manifests.append(manifest)
    assert manifests[1]["reconciliation"] == manifests[0]["reconciliation"]
    assert manifests[1] == manifests[0]


def test_sample_data_gives_the_same_audit_on_spark(tmp_path, spark):
    duck, on_spark = audit_both(sample_data_dir(), tmp_path, spark)
    assert_same_outputs(duck, on_spark)
    assert pq.read_metadata(duck / "internal" / "sessions.parquet").num_rows > 100


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_fixture_gives_the_same_audit_on_spark(fmt, tmp_path, spark):
    duck, on_spark = audit_both(sample_data_dir() / "formats" / fmt, tmp_path, spark)
    assert_same_outputs(duck, on_spark)
    assert pq.read_metadata(duck / "internal" / "sessions.parquet").num_rows > 0


@pytest.mark.spark_full
def test_parquet_inputs_give_the_same_audit_on_spark(tmp_path, spark):
    """The sample as typed Parquet files (dates as DATE, numbers as numbers): read in place by
    Spark, row numbers from the file's order; the steps' tables written as Parquet (work_dir)."""
    folder = tmp_path / "parquet"
    folder.mkdir()
    con = duckdb.connect()
    for csv in sorted(sample_data_dir().glob("*.csv")):
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv}')) TO '{folder / csv.stem}.parquet' "
            "(FORMAT parquet)"
        )
    con.close()
    duck, on_spark = audit_both(folder, tmp_path, spark, work_dir=tmp_path / "work")
    assert (tmp_path / "work").is_dir()
    assert list((tmp_path / "work").iterdir()) == []  # the engine's tables removed at close
    assert_same_outputs(duck, on_spark)


@pytest.mark.e2e
@pytest.mark.spark_full
def test_the_command_line_runs_on_spark(tmp_path):
    """`spine-audit run --engine spark` end to end in a process of its own (its own local
    session, started and stopped by the run): the same sessions as `--engine duckdb`."""
    folder = sample_data_dir() / "formats" / "canonical"
    for engine in ("duckdb", "spark"):
        result = cli(
            "run",
            folder,
            "--out",
            tmp_path / engine,
            "--engine",
            engine,
            "--as-of",
            AS_OF.isoformat(),
            "-q",
        )
        assert result.returncode == 0, result.stderr[-2000:]
    a = pq.read_table(tmp_path / "duckdb" / "internal" / "sessions.parquet")
    b = pq.read_table(tmp_path / "spark" / "internal" / "sessions.parquet")
    assert b.to_pylist() == a.to_pylist() and a.num_rows > 0


def test_an_unknown_engine_is_refused(tmp_path):
    result = cli("run", sample_data_dir(), "--out", tmp_path / "out", "--engine", "sqlite")
    assert result.returncode == 2 and "--engine" in result.stderr
