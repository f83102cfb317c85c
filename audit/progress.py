"""Progress of a run, as the command line shows it: one event per finished step or stage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StepDone:
    """One finished piece of work. ``number`` is the step's place among ``total`` numbered SQL
    steps (1-based); None for a stage outside the numbered steps (the gate, the outputs, a
    compression of the tables)."""

    name: str
    seconds: float
    total: int
    number: int | None = None


OnStep = Callable[[StepDone], None]
