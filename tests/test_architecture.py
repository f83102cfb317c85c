"""The import graph of the audit package: no circles, no upward imports.

Layers, lowest first (docs/development.md, "Layers"). A module may import modules of its own
layer or of lower ones, never of a higher one, at module level or inside a function. Every
module of the package must be placed in a layer, so a new module is placed on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "audit"

LAYERS: tuple[tuple[str, ...], ...] = (
    # foundations: no engine, no clinical knowledge
    (
        "audit",
        "audit.errors",
        "audit.resources",
        "audit.config",
        "audit.csvfile",
        "audit.progress",
        "audit.context",
        "audit.finder",
        "audit.publish",
    ),
    # the engine, and the one place that tells its failures apart
    # (and the Spark engine of issue 14: sqlglot's transpilation, the SparkSession)
    ("audit.engine", "audit.failures", "audit.spark_sql", "audit.spark_engine"),
    # the input model and the guideline pack; report building blocks; the generator
    (
        "audit.inputs",
        "audit.pack",
        "audit.valuesets",
        "audit.disclosure",
        "audit.funnel",
        "audit.charts",
        "audit.trends",
        "audit.attrition",
        "audit.generate",
        "audit.payer",
        "audit.workbook",
    ),
    # the steps and the small tables they read
    ("audit.steps", "audit.pipeline", "audit.lookups", "audit.engines"),
    # the adapters (canonical, claims, OMOP, FHIR)
    (
        "audit.adapters",
        "audit.adapters._common",
        "audit.adapters.canonical",
        "audit.adapters.claims",
        "audit.adapters.omop",
        "audit.adapters.fhir",
    ),
    # the data-quality gate (and its background runner)
    ("audit.gate",),
    # the published reports (the network section, then the pages)
    ("audit.network", "audit.report"),
    # the files of the output folder
    ("audit.outputs", "audit.export"),
    # one run, as orchestration; verify reruns one
    ("audit.run", "audit.verify"),
    # the command line
    ("audit.cli",),
)
LAYER = {module: i for i, layer in enumerate(LAYERS) for module in layer}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    """The audit modules ``path`` imports (anywhere in the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from audit.adapters import claims` imports the submodule audit.adapters.claims
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in GRAPH_MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


GRAPH_MODULES = {_module_name(p) for p in PACKAGE.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p, _module_name(p)) for p in PACKAGE.rglob("*.py")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle found by a depth-first walk (one per back edge)."""
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_every_module_has_a_layer():
    assert sorted(GRAPH_MODULES - set(LAYER)) == []


def test_no_import_circles():
    assert _cycles(import_graph()) == []


def test_no_upward_imports():
    upward = [
        f"{module} (layer {LAYER[module]}) imports {target} (layer {LAYER[target]})"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if LAYER[target] > LAYER[module]
    ]
    assert upward == []


def test_the_checker_finds_a_circle_and_an_upward_import():
    """The checks above can fail: a made-up graph with a circle and an upward edge."""
    graph = {"audit.run": {"audit.gate"}, "audit.gate": {"audit.run"}}
    assert _cycles(graph) == [["audit.gate", "audit.run", "audit.gate"]]
    assert LAYER["audit.run"] > LAYER["audit.gate"]


def test_only_the_engine_and_the_failures_know_duckdb():
    """DuckDB's API stays in audit.engine (and audit.failures, which tells its errors apart);
    the pack's CSV files are read with a local DuckDB by audit.pack and audit.valuesets, and a
    finished run's files by audit.export (they are local Parquet files whatever the engine)."""
    allowed = {"audit.engine", "audit.failures", "audit.pack", "audit.valuesets", "audit.export"}
    users = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "duckdb" or n.startswith("duckdb.") for n in names):
                users.add(_module_name(path))
    assert users <= allowed, sorted(users - allowed)
