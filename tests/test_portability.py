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


# --- constructs that answer differently on Spark, found in the parsed SQL (issue 14) --------
# audit.spark_sql.differing_constructs reads sqlglot's tree, so a construct is found however it
# is written (spacing, case, an alias of the function); the Spark engine's equivalence with
# DuckDB (tests/test_spark_equivalence.py) holds only for SQL it passes.


def _all_sql() -> list:
    return sorted(sql_dir().rglob("*.sql"))


@pytest.mark.parametrize("path", _all_sql(), ids=lambda p: str(p.relative_to(sql_dir())))
def test_sql_uses_no_construct_that_answers_differently_on_spark(path):
    from audit.spark_sql import differing_constructs

    code = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
    assert differing_constructs(code) == [], path.name


@pytest.mark.parametrize(
    ("sql", "found"),
    [
        # run on both engines and answer differently
        ("SELECT DATE_DIFF('month', a, b) AS m FROM t", "date_diff in month"),
        ("SELECT date_diff( 'YEAR' , a, b) AS y FROM t", "date_diff in year"),
        ("SELECT datediff('quarter', a, b) AS q FROM t", "date_diff in quarter"),
        ("SELECT dayofweek(d) AS w FROM t", "dayofweek / isodow"),
        ("SELECT ISODOW(d) AS w FROM t", "dayofweek / isodow"),
        ("SELECT list_contains(codes, 'x') AS c FROM t", "list_contains"),
        ("SELECT array_contains(codes, 'x') AS c FROM t", "list_contains"),
        ("SELECT list(code ORDER BY d) AS l FROM t GROUP BY p", "ordered list aggregation"),
        ("SELECT array_agg(code ORDER BY d) AS l FROM t GROUP BY p", "ordered list aggregation"),
        # fail on Spark
        ("SELECT list_has_any(a, b) AS x FROM t", "list_has_any"),
        ("SELECT list_bool_or(a) AS x FROM t", "list_bool_or"),
        ("SELECT regexp_full_match(a, 'x') AS x FROM t", "regexp_full_match"),
        ("SELECT * FROM generate_series(1, 3)", "generate_series"),
        ("SELECT a FROM t WHERE a SIMILAR TO 'x'", "SIMILAR TO"),
        ("SELECT COLUMNS('a.*') FROM t", "COLUMNS()"),
        ("SELECT t.a FROM t ASOF JOIN u USING (a)", "ASOF JOIN"),
        ("PIVOT t ON a USING SUM(b)", "PIVOT/UNPIVOT"),
        # sqlglot shifts a literal index to Spark's 0-based, not an expression
        ("SELECT l[i + 1] AS x FROM t", "list index by an expression"),
    ],
)
def test_the_check_finds_a_construct_that_differs_on_spark(sql, found):
    """The check fires: each known trap, written as a step might write it, is reported."""
    from audit.spark_sql import differing_constructs

    messages = differing_constructs(sql)
    assert any(m.startswith(found) for m in messages), messages


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT date_diff('day', a, b) AS d FROM t",
        "SELECT string_agg(code, ',' ORDER BY d) AS s FROM t GROUP BY p",
        "SELECT k, v FROM t UNPIVOT (v FOR k IN (a, b))",
        "SELECT length(code) AS n FROM t",
    ],
)
def test_the_check_passes_what_answers_the_same(sql):
    """...and stays quiet on the forms that agree (checked by the equivalence tests)."""
    from audit.spark_sql import differing_constructs

    assert differing_constructs(sql) == []


def test_a_step_with_a_differing_construct_is_refused(tmp_path, monkeypatch):
    """End to end: a new step file using date_diff in months is caught by the same test that
    reads every file of sql/ (test_sql_uses_no_construct_that_answers_differently_on_spark)."""
    stage = tmp_path / "sql" / "5_summaries"
    stage.mkdir(parents=True)
    step = stage / "months_between_sessions.sql"
    step.write_text(
        "-- months_between_sessions\n-- Grain: one row per patient\n-- Implements: a test\n\n"
        "SELECT patient_id, DATE_DIFF('month', MIN(session_date), MAX(session_date)) AS months\n"
        "FROM session_outcomes GROUP BY patient_id\n",
        encoding="utf-8",
    )
    monkeypatch.setattr("tests.test_portability.sql_dir", lambda: tmp_path / "sql")
    [path] = _all_sql()
    with pytest.raises(AssertionError, match="months_between_sessions"):
        test_sql_uses_no_construct_that_answers_differently_on_spark(path)
