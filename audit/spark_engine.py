"""The Spark engine: the same ``sql/`` steps, transpiled by sqlglot (audit.spark_sql), run on a
SparkSession (local by default, a cluster by ``--spark-master`` or ``spark-submit``, or a
session the caller already has when used as a library).

What lives where (docs/spark.md):

* inputs are read by Spark (CSV with an explicit all-text schema, Parquet, NDJSON lines); the
  row number ``src_row`` is computed on the executors (partition offsets, never a Python map);
* every step is a DataFrame cut from its lineage (``localCheckpoint``, or Parquet files under
  ``work_dir`` when given: what a cluster should use) and registered as a temporary view of
  the step's name, so later steps read it by name as on DuckDB;
* row-level outputs are written by Spark as Parquet (``write_parquet``: ordered part files,
  then joined into the one file the output folder holds, streamed batch by batch);
* the driver collects only small results: the pack and settings tables it sends, the
  aggregates the reports are made from, the gate's counts and first findings, and the
  quarantine rows streamed to CSV (``batches``).

pyspark is an optional dependency (``pip install 'spine-audit[spark]'``; Java 17+).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import uuid
import warnings
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audit.engine import (
    FILE_FORMATS,
    DuckDBEngine,
    FileColumn,
    StepKind,
    _name,
    bound,
    check_distinct_columns,
    csv_header,
    first_line,
)
from audit.errors import ConfigError, InputError
from audit.spark_sql import SCHEMA_SUFFIX, spark_schema, to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Settings of the local session the engine starts (a cluster's own session keeps its own):
# few shuffle partitions (the fixtures are small; Spark's 200 would be 200 tiny tasks per
# shuffle), no UI, and the session time zone fixed so dates never shift.
LOCAL_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.adaptive.enabled": "true",
}
# Settings every session the engine runs on needs, a cluster's included: the SQL's meaning.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    # DuckDB's CAST of a bad value fails, as Spark's ANSI mode does; x / 0 is handled in SQL
    "spark.sql.ansi.enabled": "true",
    # a view replaced by a step is read by the steps after it under its new definition
    "spark.sql.legacy.storeAnalyzedPlanForView": "false",
}
_NEEDS = "--engine spark needs pyspark and Java 17+: pip install 'spine-audit[spark]'"
_LOW_33 = (1 << 33) - 1  # monotonically_increasing_id: partition << 33 | row in partition


# pyspark 4.3 warns on pandas 3 at every Arrow conversion; the engine converts to pandas itself
# (frame(): through DuckDB), so the warning says nothing about this tool's results
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)


def _spark_types() -> Any:
    from pyspark.sql import types

    return types


def local_session(master: str | None = None, app_name: str = "spine-audit") -> SparkSession:
    """A SparkSession for this run: ``master`` (``local[2]`` when None) with LOCAL_CONF. With a
    master of a cluster (``spark://…``, ``yarn``, ``k8s://…``) the session runs there; under
    ``spark-submit`` (a session already active) that session is returned as it is."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(_NEEDS) from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    if master is None and os.environ.get("PYSPARK_GATEWAY_PORT"):
        # under spark-submit: its master, executors and settings, not this tool's local ones
        return SparkSession.builder.appName(app_name).getOrCreate()
    builder = SparkSession.builder.appName(app_name).master(master or "local[2]")
    for key, value in LOCAL_CONF.items():
        builder = builder.config(key, value)
    if master is None or master.startswith("local"):
        # Python workers (an empty table's rows) run this interpreter, not the PATH's python3
        builder = builder.config("spark.pyspark.python", sys.executable)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # Spark's warnings are not the user's to act on
    return spark


class SparkEngine:
    """The engine interface (audit.engine.Engine) on a SparkSession."""

    name = "spark"

    def __init__(
        self,
        spark: SparkSession,
        work_dir: Path | str | None = None,
        *,
        stop_session: bool = False,
        _shared: dict[str, Any] | None = None,
    ) -> None:
        self.spark = spark
        for key, value in SESSION_CONF.items():
            spark.conf.set(key, value)
        self._stop_session = stop_session
        # what the engine and its workers share: the session's temporary views it made (one
        # engine at a time per session: the views have the steps' own names)
        self._shared = (
            _shared
            if _shared is not None
            else {
                "views": set(),
                "work_dir": Path(work_dir) if work_dir is not None else None,
                "scratch": None,
                "written": [],  # the step tables written under work_dir (removed at close)
                "lock": threading.Lock(),
            }
        )
        self._group = f"spine-audit-{uuid.uuid4().hex[:12]}"
        self._owner = _shared is None

    @classmethod
    def connect(cls, master: str | None = None, work_dir: Path | str | None = None) -> SparkEngine:
        """An engine on a session of its own (local[2] unless ``master`` names a cluster);
        closing the engine stops that session unless it was one spark-submit started."""
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError(_NEEDS) from None
        active = SparkSession.getActiveSession()
        try:
            spark = local_session(master)
        except Exception as exc:  # pyspark's own error when Java is missing or too old
            if _is_spark_error(exc) or "JAVA" in str(exc).upper():
                raise ConfigError(f"{_NEEDS}: {first_line(exc)}") from None
            raise
        return cls(spark, work_dir, stop_session=active is None)

    def close(self) -> None:
        if not self._owner:
            return
        for view in sorted(self._shared["views"]):
            self.spark.catalog.dropTempView(view)
        self._shared["views"].clear()
        for folder in self._shared["written"]:
            shutil.rmtree(folder, ignore_errors=True)
        self._shared["written"].clear()
        scratch = self._shared.get("scratch")
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
            self._shared["scratch"] = None
        if self._stop_session:
            self.spark.stop()

    # --- SQL -----------------------------------------------------------------------------
    def _df(self, sql: str, params: Mapping[str, Any] | None = None) -> DataFrame:
        """The DataFrame of one DuckDB statement, with the ``$names`` it uses bound."""
        used = bound(sql, params)
        text = to_spark(sql)
        for name in list(used):  # from_json's structure, bound as Spark's schema
            if f":{name}{SCHEMA_SUFFIX}" in text:
                used[f"{name}{SCHEMA_SUFFIX}"] = spark_schema(used.pop(name))
        self.spark.sparkContext.setJobGroup(self._group, "spine-audit", interruptOnCancel=True)
        return self.spark.sql(text, args=used or None)

    def _materialise(self, name: str, df: DataFrame) -> DataFrame:
        """Cut the lineage: Parquet under work_dir when given, else a local checkpoint."""
        work_dir = self._shared["work_dir"]
        if work_dir is not None:
            # a folder per materialisation: a step may replace the table it reads (FHIR's
            # input_<table>), and Spark cannot overwrite a path it is reading
            target = Path(work_dir) / f"{name}-{uuid.uuid4().hex[:8]}"
            df.write.parquet(str(target))
            self._shared["written"].append(target)
            df = self.spark.read.parquet(str(target))
        else:
            df = df.localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._shared["views"].add(name)
        return df

    # --- inputs --------------------------------------------------------------------------
    def describe_file(self, path: Path, fmt: str, delimiter: str = ",") -> list[FileColumn]:
        if fmt == "parquet":
            try:
                schema = self.spark.read.parquet(str(path)).schema
                names = pq.read_schema(path).names  # before Spark's case handling
            except Exception as exc:  # Spark's and Arrow's readers raise their own kinds
                raise InputError(f"{path.name}: cannot read the file: {first_line(exc)}") from None
            check_distinct_columns(path, names)
            return [_file_column(f.name, f.dataType) for f in schema.fields]
        names = csv_header(path, delimiter)
        check_distinct_columns(path, names)
        return [FileColumn(name=n) for n in names]

    def _numbered(self, df: DataFrame, first: int) -> DataFrame:
        """``df`` (a file read in order) with ``src_row`` = its position + ``first``, computed
        from each partition's offset (one small count per partition collected to the driver)."""
        from pyspark.sql import functions as F

        df = df.withColumn("_sa_id", F.monotonically_increasing_id())
        df = df.localCheckpoint(eager=True)  # read once: the ids and the counts agree
        counts = sorted(
            (int(r[0]), int(r[1])) for r in df.groupBy(F.shiftright("_sa_id", 33)).count().collect()
        )
        offsets, total = {}, 0
        for part, n in counts:
            offsets[part] = total
            total += n
        if offsets:
            offset = F.create_map(*[x for p, o in offsets.items() for x in (F.lit(p), F.lit(o))])[
                F.shiftright("_sa_id", 33)
            ]
        else:
            offset = F.lit(0)
        src_row = (offset + F.col("_sa_id").bitwiseAND(F.lit(_LOW_33)) + first).cast("bigint")
        return df.select(src_row.alias("src_row"), *[c for c in df.columns if c != "_sa_id"])

    def stage_file(
        self,
        name: str,
        path: Path,
        fmt: str,
        columns: Mapping[str, str | None],
        *,
        delimiter: str = ",",
        as_text: bool = True,
        lists: Collection[str] = (),
    ) -> int:
        from pyspark.sql import functions as F

        name = _name(name)
        if fmt not in FILE_FORMATS:
            raise ValueError(f"not a table file format: {fmt!r}")
        types = _spark_types()
        try:
            if fmt == "parquet":
                raw = self.spark.read.parquet(str(path))
                first = 1
            else:
                header = csv_header(path, delimiter)
                check_distinct_columns(path, header)
                schema = types.StructType(
                    [types.StructField(h, types.StringType()) for h in header]
                )
                quote = '"' if delimiter == "," else "\u0000"
                raw = self.spark.read.csv(
                    str(path),
                    schema=schema,
                    header=True,
                    sep=delimiter,
                    quote=quote,
                    escape=quote,
                    mode="FAILFAST",
                    multiLine=True,
                    encoding="UTF-8",
                    enforceSchema=False,
                )
                first = 2  # a CSV's header is row 1

            def read(ours: str, theirs: str | None) -> Any:
                if theirs is None:
                    return F.lit(None).cast("string").alias(ours)
                column = F.col(f"`{theirs}`")
                if ours in lists:
                    return F.array_join(column.cast("array<string>"), ",").alias(ours)
                if as_text:
                    return _as_text(column, raw.schema[theirs].dataType).alias(ours)
                return column.alias(ours)

            df = self._numbered(raw.select(*[read(o, t) for o, t in columns.items()]), first)
            df = self._materialise(name, df)
            return df.count()
        except InputError:
            raise
        except Exception as exc:  # the reader's failure, as a one-line input error
            if _is_spark_error(exc):
                raise InputError(f"{path.name}: cannot read the file: {first_line(exc)}") from None
            raise

    def stage_lines(self, name: str, path: Path, max_line_bytes: int) -> int:
        name = _name(name)
        try:
            raw = self.spark.read.text(str(path), wholetext=False)
            df = self._numbered(raw.withColumnRenamed("value", "line"), 1)
            df = self._materialise(name, df)
            return df.count()
        except Exception as exc:
            if _is_spark_error(exc):
                raise InputError(f"{path.name}: cannot read file: {first_line(exc)}") from None
            raise

    def describe_database(self, path: Path) -> dict[str, tuple[str, str, list[FileColumn]]]:
        raise InputError(
            f"{path.name}: a DuckDB database file cannot be read by --engine spark; export its "
            "OMOP tables as CSV or Parquet files (or run with --engine duckdb)"
        )

    def stage_database_tables(
        self, path: Path, tables: Mapping[str, tuple[str, str, Mapping[str, str | None]]]
    ) -> dict[str, int]:
        self.describe_database(path)
        return {}

    def load_table(self, name: str, data: pa.Table) -> None:
        name = _name(name)
        # a small table sent from the driver: a local relation, no job to run (no checkpoint)
        df = self.spark.createDataFrame(data) if data.num_rows else self._empty(data.schema)
        df.createOrReplaceTempView(name)
        self._shared["views"].add(name)

    def _empty(self, schema: pa.Schema) -> DataFrame:
        from pyspark.sql.pandas.types import from_arrow_schema

        return self.spark.createDataFrame([], from_arrow_schema(schema))

    # --- steps ---------------------------------------------------------------------------
    def run_step(
        self,
        name: str,
        sql: str,
        params: Mapping[str, Any] | None = None,
        kind: StepKind = "table",
    ) -> int | None:
        name = _name(name)
        if kind == "view":
            if bound(sql, params):
                raise ValueError(f"view step {name} cannot bind parameters")
            self._df(sql).createOrReplaceTempView(name)
            self._shared["views"].add(name)
            return None
        df = self._materialise(name, self._df(sql, params))
        return None if kind == "temp" else df.count()

    def housekeeping(self) -> float | None:
        return None  # each table step already cut its lineage (_materialise)

    def drop(self, name: str) -> None:
        name = _name(name)
        self.spark.catalog.dropTempView(name)
        self._shared["views"].discard(name)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._df(sql, params).collect()]

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self._df(sql, params).toArrow()

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """As DuckDB's frame: the Arrow result converted by a scratch DuckDB, so the dtypes are
        those of the reference engine (the reports and the gate read them)."""
        local = DuckDBEngine.scratch()
        try:
            local.load_table("result", self.query(sql, params))
            return local.frame("SELECT * FROM result")
        finally:
            local.close()

    def batches(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """In order, a partition at a time (Spark's toLocalIterator), as 100k-row batches."""
        df = self._df(sql, params)
        schema = _arrow_schema(df)
        chunk: list[tuple[Any, ...]] = []
        for row in df.toLocalIterator(prefetchPartitions=False):
            chunk.append(tuple(row))
            if len(chunk) == 100_000:
                yield _batch(chunk, schema)
                chunk = []
        if chunk:
            yield _batch(chunk, schema)

    def row_count(self, name: str) -> int:
        return self.spark.table(_name(name)).count()

    def columns(self, name: str) -> list[str]:
        return list(self.spark.table(_name(name)).columns)

    def has_table(self, name: str) -> bool:
        return bool(self.spark.catalog.tableExists(_name(name)))

    # --- outputs -------------------------------------------------------------------------
    def write_parquet(self, sql: str, path: Path, order_by: Sequence[str]) -> int:
        """Spark writes the result as ordered Parquet part files (range-partitioned by the
        order, so part i precedes part i+1); the driver then joins them, in order, into the
        ONE file the output folder holds, a row group at a time (bounded memory)."""
        order = ", ".join(order_by)
        # S608: the caller's SQL ships with the tool; the order from its constants
        df = self._df(f"SELECT * FROM ({sql}) AS result ORDER BY {order}")  # noqa: S608
        parts = self._scratch() / f"{path.stem}-{uuid.uuid4().hex[:8]}"
        df.write.option("compression", "zstd").parquet(str(parts))
        files = sorted(parts.glob("part-*.parquet"))
        schema = _duckdb_nullability(_arrow_schema(df))
        rows = 0
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for file in files:
                reader = pq.ParquetFile(file)
                for group in range(reader.num_row_groups):
                    table = reader.read_row_group(group).cast(schema)
                    writer.write_table(table)
                    rows += table.num_rows
        shutil.rmtree(parts, ignore_errors=True)
        return rows

    def _scratch(self) -> Path:
        with self._shared["lock"]:
            if self._shared["work_dir"] is not None:
                return Path(self._shared["work_dir"])
            if self._shared["scratch"] is None:
                self._shared["scratch"] = Path(tempfile.mkdtemp(prefix="spine-audit-spark-"))
            return self._shared["scratch"]

    # --- concurrency ---------------------------------------------------------------------
    def worker(self) -> SparkEngine:
        """The same session (its views are shared) with a job group of its own, so
        ``interrupt`` cancels only this handle's jobs."""
        return SparkEngine(self.spark, _shared=self._shared)

    def interrupt(self) -> None:
        self.spark.sparkContext.cancelJobGroup(self._group)


def _as_text(column: Any, data_type: Any) -> Any:
    """A stored value as text, as DuckDB's CAST(x AS VARCHAR) writes it."""
    types = _spark_types()
    from pyspark.sql import functions as F

    if isinstance(data_type, types.BooleanType):
        return F.when(column, F.lit("true")).when(~column, F.lit("false"))
    if isinstance(data_type, types.DateType):
        return F.date_format(column, "yyyy-MM-dd")
    return column.cast("string")


def _file_column(name: str, data_type: Any) -> FileColumn:
    types = _spark_types()
    nested = isinstance(data_type, types.ArrayType | types.StructType | types.MapType)
    list_of_text = isinstance(data_type, types.ArrayType) and isinstance(
        data_type.elementType,
        types.StringType | types.ByteType | types.ShortType | types.IntegerType | types.LongType,
    )
    return FileColumn(
        name=name, type=data_type.simpleString(), nested=nested, list_of_text=list_of_text
    )


def _arrow_schema(df: DataFrame) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(df.schema)


def _duckdb_nullability(schema: pa.Schema) -> pa.Schema:
    """List elements marked nullable, as DuckDB writes them (Spark marks the elements of a
    collect_list not null): the same values, one schema whichever engine wrote the file."""

    def relax(data_type: pa.DataType) -> pa.DataType:
        if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
            value = data_type.value_field
            return pa.list_(pa.field(value.name, relax(value.type), nullable=True))
        return data_type

    return pa.schema(
        [pa.field(f.name, relax(f.type), f.nullable, f.metadata) for f in schema],
        metadata=schema.metadata,
    )


def _batch(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True))
    return pa.RecordBatch.from_arrays(
        [pa.array(list(c), type=f.type) for c, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _is_spark_error(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("pyspark", "py4j"))
