"""One audit run, as orchestration: inputs and pack into the engine, the steps, the gate on a
thread of its own, the outputs into a temporary folder moved into place.

What each part does lives in its own module: the engine (audit.engine), the adapters
(audit.adapters), the steps (audit.pipeline), the gate (audit.gate), the files written
(audit.outputs) and the output folder (audit.publish).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from audit.adapters import AdapterResult, load_adapter
from audit.config import Settings
from audit.engine import Engine
from audit.engines import EngineChoice, open_engine
from audit.errors import ConfigError
from audit.gate import BackgroundGate
from audit.lookups import load_pack_tables, load_settings_tables
from audit.outputs import SESSION_COLUMNS, RunResult, write_outputs
from audit.pack import Notice, Pack, resolve_pack
from audit.pipeline import STEPS, PipelineResult, run_steps, step_parameters
from audit.progress import OnStep, StepDone
from audit.publish import OutputFolder

__all__ = ["SESSION_COLUMNS", "RunResult", "StepTables", "check_period", "classify", "run_audit"]


@dataclass
class StepTables:
    """An engine holding the table of every step, with what went into them: the pack, the
    adapted inputs, the pack's definition-check notices and the step timings."""

    engine: Engine
    pack: Pack
    adapted: AdapterResult
    notices: list[Notice]
    pipeline: PipelineResult

    @property
    def con(self):  # noqa: ANN201 - DuckDB's handle, for tests and benchmarks that read tables
        """The DuckDB connection behind the engine (tests and benchmarks read tables with it)."""
        return self.engine.con  # type: ignore[attr-defined]

    def close(self) -> None:
        self.engine.close()


def check_period(settings: Settings, period_from: date | None, period_to: date | None) -> None:
    """An audit period that can hold no session is a mistake in the options, not an audit."""
    if period_from and period_to and period_from > period_to:
        raise ConfigError(f"--from {period_from} is after --to {period_to}")
    as_of = settings.resolved_as_of()
    if period_from and period_from > as_of:
        raise ConfigError(
            f"--from {period_from} is after the as-of date {as_of} (--as-of; dates after it are "
            "impossible): the audit period would hold no session"
        )


def classify(
    input_dir: Path,
    settings: Settings,
    period_from: date | None = None,
    period_to: date | None = None,
    on_step: OnStep | None = None,
    fmt: str | None = None,
    profile_dir: Path | None = None,
    engine: EngineChoice = "duckdb",
    spark_master: str | None = None,
) -> StepTables:
    """Load the pack and the inputs (canonical, claims, omop, fhir; None detects) and run every
    SQL step; write nothing (but DuckDB's profile of each step into ``profile_dir`` when given:
    benchmarks/profile_steps.py). ``engine``: "duckdb", "spark" (a local SparkSession, or the
    one spark-submit started) or an engine made by the caller (SparkEngine on its session)."""
    check_period(settings, period_from, period_to)
    pack: Pack = resolve_pack(settings.pack)
    engine = open_engine(engine, settings, profile_dir, spark_master)
    try:
        notices = load_pack_tables(engine, pack)
        load_settings_tables(engine, settings)
        adapted = load_adapter(engine, Path(input_dir), fmt, settings.omop_site_fallback)
        params = step_parameters(settings, pack, period_from, period_to)
        pipeline = run_steps(engine, params, on_step=on_step)
    except BaseException:
        engine.close()
        raise
    return StepTables(engine, pack, adapted, notices, pipeline)


def run_audit(
    input_dir: Path,
    out_dir: Path,
    settings: Settings,
    period_from: date | None = None,
    period_to: date | None = None,
    on_step: OnStep | None = None,
    fmt: str | None = None,
    warn: Callable[[str], None] | None = None,
    argv: list[str] | None = None,
    engine: EngineChoice = "duckdb",
    spark_master: str | None = None,
) -> RunResult:
    """Run the whole audit; raise a UserError for anything the user can fix.

    ``argv``, the command line as given, is recorded in the internal manifest with the input
    and output folders (``invocation``); it is outside the run id and every other file, so
    the same audit written to two folders differs only there (docs/outputs.md).

    ``--out`` is checked before any work (audit.publish): a folder that is the input, holds
    it, lies inside it or holds files spine-audit did not write is refused. The outputs are
    written into a temporary folder beside it and moved into place at the end.

    The data-quality gate runs on a thread of its own while this thread writes the outputs
    (mostly Python: disclosure control and the HTML pages), so the two overlap instead of
    queueing. Only the index page, the gate's files and the manifest wait for the gate; when
    it fails (an error-level check), the half-written folder is removed and nothing is
    published, as if the gate had run first.
    """
    check_period(settings, period_from, period_to)  # before any work, as --out
    with OutputFolder(Path(out_dir), inputs=(Path(input_dir),), warn=warn) as folder:
        tables = classify(
            input_dir,
            settings,
            period_from,
            period_to,
            on_step,
            fmt,
            engine=engine,
            spark_master=spark_master,
        )
        gate: BackgroundGate | None = None
        try:
            gate = BackgroundGate(tables.engine, on_step)
            started = time.perf_counter()
            result = write_outputs(
                tables.engine,
                folder,
                tables.adapted,
                settings,
                tables.pack,
                tables.notices,
                tables.pipeline,
                period_from,
                period_to,
                gate.result,
                invocation={
                    "argv": argv,
                    "input_dir": str(Path(input_dir).absolute()),
                    "out_dir": str(folder.out),
                },
            )
            result.out_dir = folder.publish(result.manifest["run_id"])
            if on_step is not None:
                on_step(StepDone("outputs and reports", time.perf_counter() - started, len(STEPS)))
            return result
        finally:
            if gate is not None:
                gate.close()
            tables.close()
