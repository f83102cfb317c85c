"""Test helpers: inline tables (as in OpenSAFELY's ehrQL spec tests), the outcome triples of the
measure, and the ONE place the tests run the audit's classification in process (``classified``).

An inline table is text with a header line and ``|`` between cells. Cells are trimmed; a blank
cell is empty; a cell in double quotes keeps its blanks (``"  m54.16 "``); `` # `` starts a
comment to the end of the line:

    patients = '''
        patient_id | birth_date
        P1         | 1970-05-01    # an adult
    '''
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from audit.config import Settings, load_settings
from audit.resources import packs_dir
from audit.run import SESSION_COLUMNS, classify

# Every in-process run of the tests reads "today" as this date, so ages and validity never move.
AS_OF = date(2026, 1, 1)
# The order of sessions.parquet.
SESSION_ORDER = "site_id, session_date, patient_id, family"

Outcome = tuple[str, str | None, str | None]

# The outcome triples (outcome, reason, recommendation) of measure section 5.
NOT_ADDRESSED: Outcome = ("not_addressed", None, None)


def discordant(recommendation: str) -> Outcome:
    """A session the recommendation (e.g. AX-EPI) advises against."""
    return ("discordant", None, recommendation)


def clinical_trial(recommendation: str | None) -> Outcome:
    """A session under a trial modifier or Z00.6; the recommendation is kept (may be null)."""
    return ("clinical_trial", None, recommendation)


def out_of_population(reason: str) -> Outcome:
    """A session rule 1-7 takes out of the population, with the reason."""
    return ("out_of_population", reason, None)


_COMMENT = re.compile(r"\s+#\s.*$|^\s*#.*$")


def _cell(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def parse_table(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of an inline ``|`` table."""
    lines = [_COMMENT.sub("", line) for line in text.strip("\n").splitlines()]
    lines = [line for line in lines if line.strip()]
    if not lines:
        return [], []
    header = [_cell(c) for c in lines[0].split("|")]
    rows = []
    for line in lines[1:]:
        cells = [_cell(c) for c in line.split("|")]
        if len(cells) != len(header):
            raise ValueError(f"row has {len(cells)} cells, header has {len(header)}: {line!r}")
        rows.append(cells)
    return header, rows


def write_table(path: Path, text: str) -> None:
    header, rows = parse_table(text)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_extract(folder: Path, **tables: str | None) -> Path:
    """Write inline tables as canonical CSV files; an empty procedures/diagnoses table is made
    with its required header when not given."""
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {
        "patients": "patient_id | birth_date",
        "diagnoses": "patient_id | event_date | code | source_id | site_id",
        "procedures": "patient_id | event_date | code | site_id | source_id",
    }
    for name, text in {**defaults, **{k: v for k, v in tables.items() if v is not None}}.items():
        write_table(folder / f"{name}.csv", text)
    return folder


def test_pack(tmp: Path, extra_value_set_rows: Iterable[str] = ()) -> str:
    """A copy of the shipped pack with extra value-set rows (CSV lines of the value-set schema);
    used where the shipped pack has no code for a family (DRG_RF)."""
    target = tmp / "pack"
    if not target.exists():
        shutil.copytree(packs_dir() / "bmj2025_spine", target)
    rows = list(extra_value_set_rows)
    if rows:
        with (target / "valuesets" / "zz_test_rows.csv").open("w", encoding="utf-8") as fh:
            fh.write(
                "value_set,code_system,code,description,region,billable,valid_from,"
                "valid_to,source,confidence\n"
            )
            fh.write("\n".join(rows) + "\n")
    return str(target)


test_pack.__test__ = False  # a helper, not a test, wherever it is imported


# The engine in-process runs use: "duckdb", or "spark" under `pytest --engine spark` (set by
# tests/conftest.py), which runs every spec vignette on Spark (docs/spark.md).
ENGINE = "duckdb"


@dataclass
class AuditRun:
    """The step tables of one in-process classification (a DuckDB connection; on Spark, the
    engine, read through its transpiling ``query``)."""

    con: duckdb.DuckDBPyConnection | None
    engine: Any = None

    def _dicts(self, sql: str) -> list[dict]:
        if self.con is None:
            return self.engine.query(sql).to_pylist()
        rel = self.con.execute(sql)
        names = [d[0] for d in rel.description]
        return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]

    def rows(self, table: str, where: str = "", order_by: str = "") -> list[dict]:
        """Rows of a step table as dicts (``where``/``order_by``: SQL written by the test)."""
        sql = f"SELECT * FROM {table}"
        sql += f" WHERE {where}" if where else ""
        sql += f" ORDER BY {order_by}" if order_by else ""
        return self._dicts(sql)

    def sessions(self) -> list[dict]:
        """The sessions as sessions.parquet holds them: its columns, in its order."""
        return self._dicts(
            f"SELECT {', '.join(SESSION_COLUMNS)} FROM session_outcomes ORDER BY {SESSION_ORDER}"
        )


_SPARK: list[Any] = []


def spark_session() -> Any:
    """The one local SparkSession of a test process (started on first use): local[2], no UI,
    one shuffle partition, no adaptive execution or whole-stage code generation (the fixtures
    are tiny: planning, not data, is the cost)."""
    if not _SPARK:
        from audit.spark_engine import local_session

        spark = local_session("local[2]")
        spark.conf.set("spark.sql.shuffle.partitions", "1")
        spark.conf.set("spark.sql.adaptive.enabled", "false")
        spark.conf.set("spark.sql.codegen.wholeStage", "false")
        _SPARK.append(spark)
    return _SPARK[0]


@contextmanager
def classified(
    folder: Path, settings: Settings | None = None, engine: str | None = None, **run: Any
) -> Iterator[AuditRun]:
    """Classify an extract in process (``run``: period_from, period_to, fmt) with the as-of date
    fixed at AS_OF unless the settings give one, on ``engine`` (ENGINE by default). The one
    place the tests call the engine."""
    settings = settings or load_settings()
    settings = replace(settings, as_of_date=settings.as_of_date or AS_OF)
    if (engine or ENGINE) == "spark":
        from audit.spark_engine import SparkEngine

        tables = classify(folder, settings, engine=SparkEngine(spark_session()), **run)
        try:
            yield AuditRun(None, tables.engine)
        finally:
            tables.close()
        return
    con = classify(folder, settings, **run).con
    try:
        yield AuditRun(con)
    finally:
        con.close()


def audit_sessions(folder: Path, settings: Settings | None = None, **run: Any) -> list[dict]:
    """Classify an extract in process; the sessions as dicts, in output order."""
    with classified(folder, settings, **run) as result:
        return result.sessions()


def outcome(session: dict) -> Outcome:
    """(outcome, reason, recommendation) of one session."""
    return session["outcome"], session["reason"], session["recommendation"]


def cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The command line in a child process (``python -m audit.cli``), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "audit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The one line of a user error (exit 2), asserted to be exactly one line."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spine-audit: error: "), result.stderr
    return lines[0]


def chart_data(html: str, column: str, period: str = "Month") -> dict[str, str]:
    """The first data table of a chart (table.chartdata) by ``period`` ("Month" or "Quarter")
    whose second column is ``column``: period label -> the text of that cell."""
    for table in re.findall(r'<table class="chartdata">(.*?)</table>', html, re.S):
        head = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table)
        if head[:2] == [period, column]:
            return {
                label: re.sub(r"<[^>]+>", "", cell)
                for label, cell in re.findall(
                    r'<tr><th scope="row">(.*?)</th><td class="num">(.*?)</td>', table
                )
            }
    raise AssertionError(f"no chart data table of {period} and {column!r}")
