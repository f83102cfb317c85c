"""DuckDB SQL (the dialect of ``sql/``) as Spark SQL: sqlglot's transpiler plus the rewrites
Spark needs, each a sqlglot transform on the parsed tree (never a second copy of a file).

``to_spark(sql)`` is the one entry point the Spark engine (audit.spark_engine) uses, for the
step files and for the small queries the tool writes inline. ``$name`` parameters become
Spark's named parameter markers (``:name``), bound by ``SparkSession.sql(..., args=...)``.

``differing_constructs(sql)`` finds the DuckDB constructs that transpile but answer
differently on Spark (or do not transpile at all); tests/test_portability.py refuses any step
that uses one, so the equivalence proven by tests/test_spark_equivalence.py holds for new
steps too. It reads the parsed tree, not the text, so a construct is found however written.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

# date parts whose DuckDB difference counts boundaries crossed, where Spark's counts whole
# units elapsed (date_diff('month', DATE '2024-01-31', DATE '2024-02-01') is 1 on DuckDB, 0 on
# Spark); day and week differences agree
_CALENDAR_UNITS = frozenset({"MONTH", "MONTHS", "QUARTER", "YEAR", "YEARS", "DECADE", "CENTURY"})
# functions that fail on Spark or answer differently there, by DuckDB name (lower case)
_FUNCTIONS: dict[str, str] = {
    "list_has_any": "list_has_any: no Spark equivalent",
    "list_bool_or": "list_bool_or: no Spark equivalent",
    "len": "len(list): no Spark equivalent",
    "regexp_full_match": "regexp_full_match: no Spark equivalent",
    "generate_series": "generate_series: no Spark equivalent",
    "datesub": "datesub: no Spark equivalent",
    "dayofweek": "dayofweek: Sunday is 0 on DuckDB, 1 on Spark",
    "isodow": "isodow: Spark's dayofweek counts from Sunday",
    "list_contains": "list_contains: a list holding NULL answers NULL on Spark, false on DuckDB",
    "array_contains": "list_contains: a list holding NULL answers NULL on Spark, false on DuckDB",
    "list_has": "list_contains: a list holding NULL answers NULL on Spark, false on DuckDB",
}


def _parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


def differing_constructs(sql: str) -> list[str]:
    """What in ``sql`` (DuckDB dialect) fails on Spark or answers differently there: one
    message per construct found, empty when the SQL is portable as far as is known."""
    found: set[str] = set()
    words = " ".join(sql.lower().split())
    if " similar to " in words:
        found.add("SIMILAR TO: no Spark equivalent")
    if " asof " in f" {words} ":
        found.add("ASOF JOIN: no Spark equivalent")
    for node in _parse(sql).walk():
        found.update(_differs(node))
    return sorted(found)


def _differs(node: exp.Expression) -> list[str]:
    if isinstance(node, exp.DateDiff | exp.DatetimeDiff | exp.TimestampDiff):
        unit = node.args.get("unit")
        name = (unit.name if unit is not None else "DAY").upper()
        if name in _CALENDAR_UNITS:
            return [
                f"date_diff in {name.lower()}: DuckDB counts boundaries crossed, Spark whole "
                "units elapsed"
            ]
    if isinstance(node, exp.DayOfWeek | exp.DayOfWeekIso):
        return ["dayofweek / isodow: the days are numbered differently on Spark"]
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        [index] = node.expressions
        if not isinstance(index, exp.Literal):
            return ["list index by an expression: sqlglot does not shift it to Spark's 0-based"]
    if isinstance(node, exp.ArrayOverlaps):
        return [_FUNCTIONS["list_has_any"]]
    if isinstance(node, exp.ArrayContains | exp.ArrayContainsAll):
        return [_FUNCTIONS["list_contains"]]
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return ["ordered list aggregation: Spark's collect_list keeps no order"]
    if isinstance(node, exp.Pivot) and node.args.get("this") is not None:
        # DuckDB's short form (PIVOT t ON ... USING ...); the standard t UNPIVOT (v FOR k IN
        # (...)) is Spark's too
        return ["PIVOT/UNPIVOT: DuckDB's short form has no Spark equivalent"]
    if isinstance(node, exp.GenerateSeries):
        return [_FUNCTIONS["generate_series"]]
    if type(node).__name__ == "Columns":
        return ["COLUMNS(): no Spark equivalent"]
    if isinstance(node, exp.Anonymous) and node.name.lower() in _FUNCTIONS:
        return [_FUNCTIONS[node.name.lower()]]
    if isinstance(node, exp.Func) and not isinstance(node, exp.Anonymous):
        name = type(node).__name__.lower()
        if name in ("length", "arraysize") and node.args.get("this") is not None:
            return []  # len(text) is fine; len(list) is found by the name below
        for alias in (node.sql_name().lower(), name):
            if alias in _FUNCTIONS:
                return [_FUNCTIONS[alias]]
    return []


@lru_cache(maxsize=2048)
def to_spark(sql: str) -> str:
    """One DuckDB statement as Spark SQL: sqlglot's transpilation, then Spark's rewrites.
    Raises sqlglot's UnsupportedError for a construct sqlglot cannot carry over."""
    tree = _parse(sql)
    for rewrite in REWRITES:
        # innermost first, so a rewritten node's own children are rewritten too
        for node in reversed(list(tree.walk(bfs=False))):
            new = rewrite(node)
            if new is not node:
                if node is tree:
                    tree = new
                else:
                    node.replace(new)
    return tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)


# date parts are BIGINT on DuckDB and INT on Spark: a step's column (an age in years) keeps
# DuckDB's type, so sessions.parquet has one schema whichever engine wrote it
_DATE_PARTS = (
    exp.Year,
    exp.Month,
    exp.Day,
    exp.Quarter,
    exp.Week,
    exp.DayOfMonth,
    exp.DayOfYear,
    exp.Extract,
)


def date_parts_as_bigint(node: exp.Expression) -> exp.Expression:
    """YEAR(d), MONTH(d), EXTRACT(...) ... as BIGINT, DuckDB's type for a date part."""
    if isinstance(node, _DATE_PARTS) and not (
        isinstance(node.parent, exp.Cast) and node.parent.to.this == exp.DataType.Type.BIGINT
    ):
        return exp.cast(node.copy(), exp.DataType.build("BIGINT"))
    return node


def json_valid(node: exp.Expression) -> exp.Expression:
    """json_valid(x) (DuckDB) as ``CASE WHEN x IS NULL THEN NULL ELSE try_parse_json(x) IS
    NOT NULL END``: Spark has no json_valid; try_parse_json is NULL for text that is not JSON."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "json_valid":
        [arg] = node.expressions
        parsed = exp.Anonymous(this="TRY_PARSE_JSON", expressions=[arg.copy()])
        return exp.Case(
            ifs=[exp.If(this=exp.Is(this=arg.copy(), expression=exp.Null()), true=exp.Null())],
            default=exp.Not(this=exp.Is(this=parsed, expression=exp.Null())),
        )
    return node


# from_json(x, $structure): the bound structure (DuckDB's JSON form) is sent as Spark's schema
SCHEMA_SUFFIX = "__spark_schema"


def from_json_schema_parameter(node: exp.Expression) -> exp.Expression:
    """from_json(x, $structure) reads ``$structure`` as a Spark schema (the parameter
    ``structure__spark_schema``, which the engine binds to spark_schema(structure))."""
    if isinstance(node, exp.Placeholder) and isinstance(
        node.parent, exp.JSONExtract | exp.Anonymous | exp.ParseJSON | exp.Func
    ):
        parent = node.parent
        name = parent.name.lower() if isinstance(parent, exp.Anonymous) else parent.sql_name()
        if name.lower() in ("from_json", "jsontostructs", "json_to_structs"):
            return exp.Placeholder(this=f"{node.name}{SCHEMA_SUFFIX}")
    return node


def spark_schema(structure: str) -> str:
    """A DuckDB JSON structure (``{"id": "VARCHAR", "code": {"coding": [{...}]}}``) as a
    Spark DDL type (``STRUCT<id: STRING, code: STRUCT<coding: ARRAY<STRUCT<...>>>>``)."""
    import json

    def ddl(value: object) -> str:
        if isinstance(value, dict):
            fields = ", ".join(f"`{k}`: {ddl(v)}" for k, v in value.items())
            return f"STRUCT<{fields}>"
        if isinstance(value, list):
            [element] = value
            return f"ARRAY<{ddl(element)}>"
        return exp.DataType.build(str(value), dialect="duckdb").sql(dialect="spark")

    return ddl(json.loads(structure))


def list_index_tolerant(node: exp.Expression) -> exp.Expression:
    """l[i] on a list is NULL past its end on DuckDB; on Spark (ANSI) it fails. GET(l, i) is
    Spark's NULL-tolerant index (sqlglot's tree already holds the 0-based index). A text key
    (a struct's field, a map's key) is left as it is."""
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        [index] = node.expressions
        if isinstance(index, exp.Literal) and not index.is_string:
            return exp.Anonymous(this="GET", expressions=[node.this.copy(), index.copy()])
    return node


REWRITES: tuple[Callable[[exp.Expression], exp.Expression], ...] = (
    date_parts_as_bigint,
    json_valid,
    from_json_schema_parameter,
    list_index_tolerant,
)
