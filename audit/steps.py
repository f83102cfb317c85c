"""Find the core SQL steps and derive their order from the tables each one reads.

The core steps live in one folder per stage under ``sql/``; the number in front of a folder's
name is the stage order, declared once, by the folder list itself (``sql/1_checked_inputs``,
``sql/2_sessions`` ...). A step is a ``.sql`` file in a stage folder, named for the table it
produces. Nothing lists the steps by hand: a new file is a new step, placed by what it reads.

Order: a step runs after every step whose table it reads (a topological sort); among steps that
could run next, the earlier stage, then the name, goes first, so the order is the same on every
machine. Tables a step reads that no step produces are sources (the input tables of the
adapters, the pack's tables, the settings tables); ``tests/test_step_graph.py`` checks that each
of them is one a loader writes, that no step reads a later stage, and that the reads found here
are those sqlglot finds.

``python -m audit.steps --graph`` prints the step graph (docs/development.md, "Step graph").
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from audit.resources import sql_dir

_STAGE_FOLDER = re.compile(r"^(\d+)_([a-z][a-z0-9_]*)$")
_COMMENT = re.compile(r"--[^\n]*")
_LITERAL = re.compile(r"'(?:[^']|'')*'")
# a CTE: WITH name AS ( or , name AS (
_CTE = re.compile(r"(?:\bWITH|,)\s*([a-z_][a-z0-9_]*)\s+AS\s*\(", re.IGNORECASE)
# a table after FROM or JOIN (not IS [NOT] DISTINCT FROM, not a table function such as read_csv)
_TABLE = re.compile(
    r"(?<![a-z0-9_])(?<!DISTINCT\s)(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)\b(?!\s*\()",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Step:
    """One core SQL step: the table it produces, its stage and the tables it reads."""

    name: str
    stage: str
    stage_order: int
    path: Path
    reads: frozenset[str]


class StepGraphError(ValueError):
    """The steps cannot be ordered (a cycle, or two files producing one table)."""


def stages(root: Path | None = None) -> tuple[tuple[int, str, Path], ...]:
    """The stage folders under ``sql/``, in stage order: (order, name, folder)."""
    root = root or sql_dir()
    found = []
    for folder in root.iterdir():
        match = _STAGE_FOLDER.match(folder.name)
        if folder.is_dir() and match:
            found.append((int(match.group(1)), match.group(2), folder))
    return tuple(sorted(found))


def tables_read(sql: str) -> frozenset[str]:
    """The tables a SELECT reads: every name after FROM or JOIN that is not one of its CTEs.

    A reading of the text, not a parse (sqlglot is a test dependency and takes seconds);
    tests/test_step_graph.py holds it to sqlglot's parse of every step and check."""
    code = _LITERAL.sub("''", _COMMENT.sub("", sql))
    ctes = {name.lower() for name in _CTE.findall(code)}
    return frozenset(name.lower() for name in _TABLE.findall(code)) - ctes


def discover(root: Path | None = None) -> dict[str, Step]:
    """Every core step (a .sql file in a stage folder), by name."""
    found: dict[str, Step] = {}
    for order, stage, folder in stages(root):
        for path in sorted(folder.glob("*.sql")):
            if path.stem in found:
                raise StepGraphError(
                    f"two steps produce {path.stem}: {found[path.stem].path} and {path}"
                )
            reads = tables_read(path.read_text(encoding="utf-8")) - {path.stem}
            found[path.stem] = Step(path.stem, stage, order, path, reads)
    return found


def order(steps: dict[str, Step]) -> tuple[str, ...]:
    """The steps in an order where each runs after the steps it reads; ties go to the earlier
    stage, then the name (Kahn's algorithm with a sorted frontier)."""
    needs = {name: {t for t in step.reads if t in steps} for name, step in steps.items()}
    done: list[str] = []
    ready = sorted((s.stage_order, s.name) for s in steps.values() if not needs[s.name])
    while ready:
        _, name = ready.pop(0)
        done.append(name)
        for other, wanted in needs.items():
            if name in wanted:
                wanted.discard(name)
                if not wanted:
                    ready.append((steps[other].stage_order, other))
        ready.sort()
    if len(done) < len(steps):
        waiting = sorted(set(steps) - set(done))
        raise StepGraphError(f"the steps read each other in a cycle: {', '.join(waiting)}")
    return tuple(done)


@lru_cache(maxsize=1)
def core_steps() -> dict[str, Step]:
    """The tool's own steps (sql/ of this checkout or wheel), read once."""
    return discover()


@lru_cache(maxsize=1)
def ordered_steps() -> tuple[str, ...]:
    """The order the core steps run in."""
    return order(core_steps())


def step_path(step: str) -> Path:
    """The file of one core step."""
    return core_steps()[step].path


def read_sql(step: str) -> str:
    """The text of one core step, by the name of the table it produces."""
    return step_path(step).read_text(encoding="utf-8")


def steps_needed(reads: Iterable[str]) -> tuple[str, ...]:
    """The steps (in run order) that produce the given tables, and the steps those read: what
    must run before a query reading ``reads`` (the gate's checks) can run."""
    steps = core_steps()
    wanted: set[str] = set()
    todo = [t for t in reads if t in steps]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(t for t in steps[name].reads if t in steps)
    return tuple(s for s in ordered_steps() if s in wanted)


def graph_markdown(steps: dict[str, Step] | None = None) -> str:
    """The step graph as Markdown: a Mermaid flowchart (one box per stage, an arrow from each
    step to the steps that read it) and a table of what each step reads, stage by stage."""
    steps = steps or core_steps()
    run = order(steps)
    lines = ["```mermaid", "flowchart TD"]
    by_stage: dict[tuple[int, str], list[str]] = {}
    for name in run:
        by_stage.setdefault((steps[name].stage_order, steps[name].stage), []).append(name)
    for (number, stage), names in sorted(by_stage.items()):
        lines.append(f'    subgraph s{number}["{number} {stage.replace("_", " ")}"]')
        lines.extend(f"        {name}" for name in names)
        lines.append("    end")
    for name in run:
        for source in sorted(t for t in steps[name].reads if t in steps):
            lines.append(f"    {source} --> {name}")
    lines += ["```", "", "| # | stage | step | reads |", "|---|---|---|---|"]
    for index, name in enumerate(run, start=1):
        step = steps[name]
        reads = ", ".join(
            f"`{t}`" if t in steps else t
            for t in sorted(step.reads, key=lambda t: (t not in steps, t))
        )
        folder = f"{step.stage_order}_{step.stage}"
        lines.append(f"| {index} | {folder} | [`{name}`](../sql/{folder}/{name}.sql) | {reads} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m audit.steps --graph``: print the step graph; ``--order``: the run order."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--graph"]:
        sys.stdout.write(graph_markdown())
        return 0
    if args == ["--order"]:
        sys.stdout.write("\n".join(ordered_steps()) + "\n")
        return 0
    sys.stderr.write("usage: python -m audit.steps --graph | --order\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
