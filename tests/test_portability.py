"""Every SQL step transpiles to Spark SQL with sqlglot, and avoids the DuckDB constructs that
fail on Spark or answer differently there (shared engineering notes), so the same sql/ can run
on Apache Spark for data beyond one machine."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from audit.pipeline import STEPS
from audit.resources import sql_dir
from audit.steps import core_steps, read_sql

# folders of sql/ that are not core steps: run by their own runners
OTHER_SQL = ("adapters", "checks", "export")  # export: tests/test_export.py
# constructs that failed on Spark, or ran and answered differently
FORBIDDEN = {
    "list_has_any": r"\blist_has_any\s*\(",
    "list_bool_or": r"\blist_bool_or\s*\(",
    "len(list)": r"\blen\s*\(",
    "regexp_full_match": r"\bregexp_full_match\s*\(",
    "SIMILAR TO": r"\bsimilar\s+to\b",
    "generate_series": r"\bgenerate_series\s*\(",
    "ASOF JOIN": r"\basof\s+join\b",
    "COLUMNS()": r"\bcolumns\s*\(",
    "date_diff in months or years": r"date_diff\s*\(\s*'(month|year|quarter)",
    "dayofweek / isodow": r"\b(dayofweek|isodow)\s*\(",
    "datesub": r"\bdatesub\s*\(",
    "list_contains": r"\blist_contains\s*\(",
    # (not a regular expression's code point, such as \x{feff})
    "string formatting placeholder": r"(?<!\\x)\{[a-z_]+\}",
}


def _code(step: str) -> str:
    return re.sub(r"--[^\n]*", "", read_sql(step))


def test_every_sql_file_is_a_step():
    """Every .sql file outside the adapters and the checks is a step the pipeline runs (a file
    outside a stage folder would be run by no one), so each one below is tested."""
    root = sql_dir()
    files = {p for p in root.rglob("*.sql") if p.relative_to(root).parts[0] not in OTHER_SQL}
    assert files == {step.path for step in core_steps().values()}
    assert set(core_steps()) == set(STEPS)


@pytest.mark.parametrize("step", STEPS)
def test_step_transpiles_to_spark(step):
    [spark] = sqlglot.transpile(
        _code(step), read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
    )
    assert spark.strip()


@pytest.mark.parametrize("step", STEPS)
def test_step_avoids_constructs_that_differ_on_spark(step):
    code = _code(step).lower()
    found = [name for name, pattern in FORBIDDEN.items() if re.search(pattern, code)]
    assert not found, f"{step}.sql uses {found}"


@pytest.mark.parametrize("step", STEPS)
def test_step_has_a_header_stating_grain_and_rule(step):
    header = read_sql(step).split("\n\n")[0]
    assert header.startswith(f"-- {step}\n")
    assert "-- Grain:" in header and "-- Implements:" in header


@pytest.mark.parametrize("step", STEPS)
def test_step_selects_no_star_across_a_contract(step):
    code = _code(step)
    # the final SELECT of a step is its contract: columns listed, never *
    final = code[code.rfind("\nSELECT") :] if "\nSELECT" in code else code
    assert not re.search(r"SELECT\s+(DISTINCT\s+)?\*", final, re.IGNORECASE), step


@pytest.mark.parametrize(
    "path",
    sorted(p for p in sql_dir().rglob("*.sql") if p.relative_to(sql_dir()).parts[0] in OTHER_SQL),
    ids=lambda p: str(p.relative_to(sql_dir())),
)
def test_adapter_check_and_export_sql_transpiles_to_spark(path):
    """The adapters, the gate's checks and the export run on the same engine as the steps (the
    Spark engine of issue 14 included), so each of their files must transpile too."""
    code = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
    [spark] = sqlglot.transpile(
        code, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
    )
    assert spark.strip()
