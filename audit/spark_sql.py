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
    found: list[str] = []
    text = sql.lower()
    if " similar to " in " ".join(text.split()):
        found.append("SIMILAR TO: no Spark equivalent")
    if "asof" in text.split():
        found.append("ASOF JOIN: no Spark equivalent")
    tree = _parse(sql)
    for node in tree.walk():
        if isinstance(node, exp.Anonymous | exp.Func):
            name = (
                node.name.lower()
                if isinstance(node, exp.Anonymous)
                else (node.sql_name() or "").lower()
            )
            if isinstance(node, exp.Columns if hasattr(exp, "Columns") else ()):
                found.append("COLUMNS(): no Spark equivalent")
            if isinstance(node, exp.DateDiff | exp.DatetimeDiff | exp.TimestampDiff):
                unit = (node.unit.name if node.unit is not None else "DAY").upper()
                if unit in _CALENDAR_UNITS:
                    found.append(
                        f"date_diff in {unit.lower()}: DuckDB counts boundaries crossed, "
                        "Spark whole units elapsed"
                    )
            elif isinstance(node, exp.DayOfWeek | exp.DayOfWeekIso):
                found.append("dayofweek / isodow: the days are numbered differently on Spark")
            elif isinstance(node, exp.ArrayContains | exp.ArrayContainsAll):
                found.append(_FUNCTIONS["list_contains"])
            elif isinstance(node, exp.ArrayAgg | exp.GroupConcat) and node.find(exp.Order):
                found.append(
                    "ordered list aggregation: Spark's collect_list keeps no order "
                    "(use string_agg(x, sep ORDER BY y), rewritten to LISTAGG ... WITHIN GROUP)"
                ) if isinstance(node, exp.ArrayAgg) else None
            elif name in _FUNCTIONS:
                found.append(_FUNCTIONS[name])
        elif isinstance(node, exp.Pivot | exp.Unpivot if hasattr(exp, "Unpivot") else exp.Pivot):
            found.append("PIVOT/UNPIVOT: DuckDB's short form has no Spark equivalent")
    return sorted(set(found))


@lru_cache(maxsize=2048)
def to_spark(sql: str) -> str:
    """One DuckDB statement as Spark SQL: sqlglot's transpilation, then Spark's rewrites.
    Raises sqlglot's UnsupportedError for a construct sqlglot cannot carry over."""
    tree = _parse(sql)
    for rewrite in REWRITES:
        tree = tree.transform(rewrite)
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


REWRITES: tuple[Callable[[exp.Expression], exp.Expression], ...] = (date_parts_as_bigint,)
