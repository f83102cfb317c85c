"""The Spark-only rewrites of audit.spark_sql, each a sqlglot transform: what each turns a
DuckDB construct into, and that every SQL file of the tool goes through them (no pyspark
needed; tests/test_spark_equivalence.py runs them)."""

from __future__ import annotations

import json
import re

import pytest
import sqlglot

from audit.resources import sql_dir
from audit.spark_sql import (
    SCHEMA_SUFFIX,
    date_parts_as_bigint,
    from_json_schema_parameter,
    json_valid,
    list_index_tolerant,
    spark_schema,
    to_spark,
)


def _rewrite(sql: str, rewrite) -> str:
    return sqlglot.parse_one(sql, read="duckdb").transform(rewrite).sql(dialect="spark")


def test_date_parts_keep_duckdbs_bigint_type():
    assert _rewrite("SELECT YEAR(d) - YEAR(b) AS age FROM t", date_parts_as_bigint) == (
        "SELECT CAST(YEAR(d) AS BIGINT) - CAST(YEAR(b) AS BIGINT) AS age FROM t"
    )
    # already BIGINT: left alone (no cast of a cast)
    assert _rewrite("SELECT CAST(MONTH(d) AS BIGINT) FROM t", date_parts_as_bigint) == (
        "SELECT CAST(MONTH(d) AS BIGINT) FROM t"
    )


def test_json_valid_becomes_try_parse_json():
    assert _rewrite("SELECT json_valid(line) AS v FROM t", json_valid) == (
        "SELECT CASE WHEN line IS NULL THEN NULL ELSE NOT TRY_PARSE_JSON(line) IS NULL END "
        "AS v FROM t"
    )


def test_from_json_reads_its_structure_as_a_spark_schema():
    spark = _rewrite("SELECT from_json(line, $structure) AS r FROM t", from_json_schema_parameter)
    assert f":structure{SCHEMA_SUFFIX}" in spark
    # a parameter elsewhere is untouched
    assert _rewrite("SELECT a FROM t WHERE k = $key", from_json_schema_parameter).endswith(
        "k = :key"
    )


def test_a_duckdb_json_structure_as_a_spark_schema():
    structure = {
        "id": "VARCHAR",
        "code": {"coding": [{"system": "VARCHAR", "code": "VARCHAR"}]},
        "amount": "DOUBLE",
        "n": "BIGINT",
    }
    assert spark_schema(json.dumps(structure)) == (
        "STRUCT<`id`: STRING, `code`: STRUCT<`coding`: ARRAY<STRUCT<`system`: STRING, "
        "`code`: STRING>>>, `amount`: DOUBLE, `n`: BIGINT>"
    )


def test_a_list_index_past_the_end_is_null_as_on_duckdb():
    """DuckDB's 1-based l[2] is NULL past the end; Spark's l[1] fails under ANSI: GET(l, 1)."""
    assert _rewrite("SELECT l[2] AS x, s['key'] AS y FROM t", list_index_tolerant) == (
        "SELECT GET(l, 1) AS x, s['key'] AS y FROM t"
    )
    # nested: every index is rewritten, innermost first
    assert to_spark("SELECT it.modifier[1].coding[1].code FROM t") == (
        "SELECT GET(GET(it.modifier, 0).coding, 0).code FROM t"
    )


def test_parameters_become_spark_named_markers():
    assert to_spark("SELECT a FROM t WHERE d <= $as_of_date") == (
        "SELECT a FROM t WHERE d <= :as_of_date"
    )


def test_duckdbs_null_order_is_kept():
    """DuckDB sorts NULL last ascending, Spark first: the transpiled order says NULLS LAST."""
    assert to_spark("SELECT a FROM t ORDER BY a") == "SELECT a FROM t ORDER BY a NULLS LAST"


@pytest.mark.parametrize(
    "path", sorted(sql_dir().rglob("*.sql")), ids=lambda p: str(p.relative_to(sql_dir()))
)
def test_every_sql_file_goes_through_the_rewrites(path):
    spark = to_spark(re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8")))
    # no DuckDB $parameter is left (Spark's are :name); '$.key' JSON paths are text
    tokens = sqlglot.tokenize(spark, read="spark")
    assert [t.text for t in tokens if t.token_type.name in ("PARAMETER", "DOLLAR")] == []
    assert sqlglot.parse_one(spark, read="spark") is not None
