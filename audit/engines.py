"""The run's engine, chosen by name (``--engine duckdb|spark``) or given by the caller.

DuckDB is the default and needs nothing more; Spark (audit.spark_engine) is imported only when
asked for, so pyspark stays an optional dependency (the ``spark`` extra).
"""

from __future__ import annotations

from pathlib import Path

from audit.config import Settings
from audit.engine import DuckDBEngine, Engine
from audit.errors import ConfigError

ENGINES: tuple[str, ...] = ("duckdb", "spark")
# an engine by name, or one the caller made (e.g. SparkEngine(spark) on a session of theirs)
EngineChoice = str | Engine


def open_engine(
    choice: EngineChoice,
    settings: Settings,
    profile_dir: Path | None = None,
    spark_master: str | None = None,
) -> Engine:
    """The engine to run on: DuckDB (the default), Spark on a session of its own (local[2],
    ``spark_master``, or the session spark-submit started) or the engine given."""
    if not isinstance(choice, str):
        return choice
    if choice == "duckdb":
        return DuckDBEngine.connect(settings, profile_dir=profile_dir)
    if choice == "spark":
        from audit.spark_engine import SparkEngine

        return SparkEngine.connect(spark_master)
    raise ConfigError(f"unknown engine {choice!r}: {' or '.join(ENGINES)}")
