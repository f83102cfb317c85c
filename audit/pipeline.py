"""Run the SQL steps in order on the engine (audit.engine).

Each core step (a file in a stage folder of ``sql/``, found and ordered by audit/steps.py) is one
SELECT producing the table it is named after. Values reach SQL as bound named parameters
(``$name``); the runner binds exactly the parameters a step uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from audit.config import Settings
from audit.engine import Engine
from audit.pack import Pack
from audit.progress import OnStep, StepDone
from audit.steps import ordered_steps, read_sql

# The core steps in the order of what they read (audit/steps.py): found in sql/<n>_<stage>/,
# never listed by hand.
STEPS: tuple[str, ...] = ordered_steps()
# Steps read by later steps a few times but too large to hold: views, scanned where read.
# value_set_diagnoses is a filter of diagnoses_kept: a view, so those rows are held once.
VIEW_STEPS = frozenset(
    {"classified_sessions", "diagnoses_checked", "procedures_checked", "value_set_diagnoses"}
)


@dataclass
class StepTiming:
    step: str
    seconds: float
    rows: int


@dataclass
class PipelineResult:
    timings: list[StepTiming] = field(default_factory=list)


# The trend history of an audit that starts at --from: this many calendar months before the
# period, so a one-month audit is read against the two years before it (docs/monthly.md).
TREND_HISTORY_MONTHS = 24


def history_start(period_from: date | None, months: int = TREND_HISTORY_MONTHS) -> date | None:
    """First day of the trend history: ``months`` calendar months before the month of
    ``period_from``, moved back to the first day of its quarter so that every quarter of the
    trend is whole; None without --from (the period is then all the data there is)."""
    if period_from is None:
        return None
    index = period_from.year * 12 + period_from.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month - month % 3 + 1, 1)


def step_parameters(
    settings: Settings, pack: Pack, period_from: date | None, period_to: date | None
) -> dict[str, Any]:
    """Every value a SQL step may bind."""
    return {
        "history_from": history_start(period_from),
        "chronic_days": settings.chronic_days,
        "lookback_days": settings.lookback_days,
        "min_age": pack.min_age,
        "as_of_date": settings.resolved_as_of(),
        "period_from": period_from,
        "period_to": period_to,
    }


def run_steps(
    engine: Engine,
    params: dict[str, Any],
    on_step: OnStep | None = None,
    steps: tuple[str, ...] = STEPS,
    read: Callable[[str], str] | None = None,
) -> PipelineResult:
    """Materialise each step as the relation it is named after, in order (a view for
    VIEW_STEPS), binding exactly the parameters a step uses. ``read`` gives a step's SQL: the
    core steps of ``sql/`` by default; an adapter passes its own folder's. The one step runner
    of the audit: core steps, adapter steps and (through the engine) the gate."""
    result = PipelineResult()
    for index, step in enumerate(steps, start=1):
        sql = read(step) if read is not None else read_sql(step)
        started = time.perf_counter()
        kind = "view" if step in VIEW_STEPS else "table"
        rows = engine.run_step(step, sql, params, kind=kind)
        seconds = time.perf_counter() - started
        compressed = engine.housekeeping()
        result.timings.append(StepTiming(step, seconds, -1 if rows is None else rows))
        if on_step is not None:
            on_step(StepDone(step, seconds, len(steps), index))
            if compressed is not None:
                on_step(StepDone("(tables compressed)", compressed, len(steps)))
    return result
