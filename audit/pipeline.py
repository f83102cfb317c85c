"""Run the SQL steps in order inside one DuckDB connection.

Each core step (a file in a stage folder of ``sql/``, found and ordered by audit/steps.py) is one
SELECT producing the table it is named after. Values reach SQL as bound named parameters
(``$name``); the runner binds exactly the parameters a step uses.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from audit.config import Settings
from audit.pack import Pack
from audit.resources import data_dir
from audit.steps import ordered_steps, read_sql

# The core steps in the order of what they read (audit/steps.py): found in sql/<n>_<stage>/,
# never listed by hand.
STEPS: tuple[str, ...] = ordered_steps()
# Steps read by later steps a few times but too large to hold: views, scanned where read.
# value_set_diagnoses is a filter of diagnoses_kept: a view, so those rows are held once.
VIEW_STEPS = frozenset({"diagnoses_checked", "procedures_checked", "value_set_diagnoses"})
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


@dataclass
class StepTiming:
    step: str
    seconds: float
    rows: int


@dataclass
class PipelineResult:
    timings: list[StepTiming] = field(default_factory=list)


def step_parameters(
    settings: Settings, pack: Pack, period_from: date | None, period_to: date | None
) -> dict[str, Any]:
    """Every value a SQL step may bind."""
    return {
        "chronic_days": settings.chronic_days,
        "lookback_days": settings.lookback_days,
        "min_age": pack.min_age,
        "as_of_date": settings.resolved_as_of(),
        "period_from": period_from,
        "period_to": period_to,
    }


def load_settings_tables(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Settings that are lists or switches become small tables the SQL joins to; so do the
    as-of date and the number notation, which views (which cannot bind parameters) and the
    adapters' steps read."""
    con.execute("CREATE OR REPLACE TABLE run_settings (as_of_date DATE, decimal_comma BOOLEAN)")
    con.execute(
        "INSERT INTO run_settings VALUES ($d, $comma)",
        {"d": settings.resolved_as_of(), "comma": settings.decimal_comma},
    )
    con.execute("CREATE OR REPLACE TABLE non_counting_statuses (status VARCHAR)")
    if settings.non_counting_statuses:  # none is a valid choice: every status counts
        con.executemany(
            "INSERT INTO non_counting_statuses VALUES (?)",
            [[s] for s in settings.non_counting_statuses],
        )
    con.execute("CREATE OR REPLACE TABLE rule_switches (switch VARCHAR, enabled BOOLEAN)")
    con.execute(
        "INSERT INTO rule_switches VALUES ('other_specific_cause', $on)",
        {"on": settings.other_specific_cause},
    )
    con.execute(
        "CREATE OR REPLACE TABLE input_code_systems AS "
        "SELECT domain, code_system, match_system FROM read_csv($p, all_varchar = true)",
        {"p": str(data_dir() / "code_systems.csv")},
    )


# Checkpoint (compress) the step tables once they hold this share of the memory limit; look
# at their size only after this many new rows (small runs never ask).
COMPRESS_AT = 0.5
CHECK_MEMORY_ROWS = 1_000_000


def compress_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Compress the in-memory tables once they hold half of the memory limit.

    Tables are written uncompressed; a CHECKPOINT of the compressed in-memory database
    (run.connect) shrinks them several-fold, so a 100M-row run keeps its tables in memory
    instead of spilling them. Small runs never pay for it.
    """
    used, limit = con.execute(
        "SELECT (SELECT SUM(memory_usage_bytes) FROM duckdb_memory() "
        "WHERE tag = 'IN_MEMORY_TABLE'), "
        "(SELECT CAST(value AS VARCHAR) FROM duckdb_settings() WHERE name = 'memory_limit')"
    ).fetchone()
    if not used or used < COMPRESS_AT * _bytes(limit):
        return False
    con.execute("CHECKPOINT")
    return True


def _bytes(text: str) -> float:
    """DuckDB's memory_limit setting ("1.1 GiB", "1280.0 MiB", "976.5 KiB") in bytes; infinity
    when it cannot be read (then nothing is compressed: results never depend on it)."""
    number, _, unit = text.strip().partition(" ")
    scale = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}
    try:
        return float(number) * scale[unit]
    except (KeyError, ValueError):
        return float("inf")


def run_steps(
    con: duckdb.DuckDBPyConnection,
    params: dict[str, Any],
    on_step: Callable[[int, int, str, float], None] | None = None,
    steps: tuple[str, ...] = STEPS,
    profile_dir: Path | None = None,
) -> PipelineResult:
    """Materialise each step as a table, in order. With ``profile_dir``, DuckDB's profile of
    each table step (EXPLAIN ANALYZE, as JSON) is written there as ``<step>.json``
    (benchmarks/profile_steps.py reads them)."""
    result = PipelineResult()
    new_rows = 0  # rows written since the tables were last compressed
    for index, step in enumerate(steps, start=1):
        sql = read_sql(step)
        code = _COMMENT.sub("", sql)
        used = {name: params[name] for name in sorted(set(_PARAM.findall(code)))}
        started = time.perf_counter()
        compressed = None
        if step in VIEW_STEPS:
            if used:
                raise ValueError(f"view step {step} cannot bind parameters: {sorted(used)}")
            con.execute(f"CREATE OR REPLACE VIEW {step} AS {sql}")
            rows = -1
        else:
            if profile_dir is not None:
                con.execute("SET enable_profiling = 'json'")
                con.execute("SET profiling_output = $p", {"p": str(profile_dir / f"{step}.json")})
            con.execute(f"CREATE OR REPLACE TABLE {step} AS {sql}", used)
            if profile_dir is not None:
                con.execute("PRAGMA disable_profiling")
            # S608: step name from the step list of sql/ (the tool's own files)
            rows = con.execute(f"SELECT COUNT(*) FROM {step}").fetchone()[0]  # noqa: S608
            new_rows += rows
        seconds = time.perf_counter() - started
        if new_rows >= CHECK_MEMORY_ROWS:
            compress_started = time.perf_counter()
            if compress_tables(con):
                new_rows = 0
                compressed = time.perf_counter() - compress_started
        result.timings.append(StepTiming(step, seconds, rows))
        if on_step is not None:
            on_step(index, len(steps), step, seconds)
            if compressed is not None:  # index 0: a stage outside the numbered steps
                on_step(0, len(steps), "(tables compressed)", compressed)
    return result
