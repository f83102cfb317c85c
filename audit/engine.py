"""The engine: where the tables live and the SQL runs. One interface, one DuckDB implementation.

Everything the audit asks of a database goes through :class:`Engine`: staging the input files
as tables with row numbers, loading small tables (pack, settings), running a named SQL step
with bound parameters, reading small results back, writing a result to Parquet, and a second
handle for the data-quality gate's thread. The SQL files stay in DuckDB's dialect; an engine
runs them as it must (the Spark engine of issue 14 transpiles them with sqlglot). What an
engine must provide, and who calls each method, is written down in docs/development.md,
"Engine contract".

Only this module (and audit.failures, which tells DuckDB's failures apart) knows DuckDB:
connection settings, the compressed in-memory database, ``rowid`` numbering, ``read_csv``
strictness, profiling and checkpoints stay here.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb
import pandas as pd
import pyarrow as pa

from audit.config import Settings
from audit.errors import ConfigError, InputError

# table: materialised; view: computed where read (no parameters); temp: a scratch table of one
# handle (the gate's held findings), not seen by other handles
StepKind = Literal["table", "view", "temp"]
FILE_FORMATS: tuple[str, ...] = ("csv", "parquet")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# a DuckDB type written out (information_schema.columns.data_type) that holds more than one value
_NESTED_SQL_TYPE = re.compile(r"\[|^(STRUCT|MAP|UNION)\(")


@dataclass(frozen=True)
class FileColumn:
    """One column of an input file as stored: its name, the engine's name of its type (None
    for CSV text), and whether it holds more than one value (a list, struct, map or union)."""

    name: str
    type: str | None = None
    nested: bool = False
    list_of_text: bool = False  # a list of text or whole numbers (one code per element)


class Engine(Protocol):
    """What the audit needs of a database engine (docs/development.md, "Engine contract")."""

    name: str

    def close(self) -> None:
        """Free the engine (its tables and spill files)."""

    # inputs
    def describe_file(self, path: Path, fmt: str, delimiter: str = ",") -> list[FileColumn]:
        """The columns of a CSV (its header) or Parquet file (its schema); InputError naming
        the file when it cannot be read or two names differ only by letter case."""

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
        """Stage a CSV/Parquet file as relation ``name``: ``src_row`` (CSV header = row 1,
        Parquet first record = row 1), then one column per key of ``columns`` read from the
        file column it maps to (None: null text). ``as_text``: every value as text; else as
        stored. ``lists``: our columns holding a list of text, joined with ','. Returns the
        rows staged; InputError (file, row, what) on an unreadable file."""

    def stage_lines(self, name: str, path: Path, max_line_bytes: int) -> int:
        """Stage every line of a text file (NDJSON) as ``name(src_row, line)``, src_row the
        line number (blank lines keep the numbering); InputError on an unreadable file."""

    def describe_database(self, path: Path) -> dict[str, tuple[str, str, list[FileColumn]]]:
        """The tables of a database file (OMOP as a DuckDB file): lower-case table name ->
        (schema, table, columns), the ``main`` schema first; InputError when it cannot be
        opened. An engine that cannot read such files says so with an InputError."""

    def stage_database_tables(
        self, path: Path, tables: Mapping[str, tuple[str, str, Mapping[str, str | None]]]
    ) -> dict[str, int]:
        """Stage tables of a database file as text, like stage_file: relation name ->
        (schema, table, our column -> theirs); src_row = the row's position (1-based).
        Returns the rows staged per relation."""

    def load_table(self, name: str, data: pa.Table) -> None:
        """Create (or replace) table ``name`` holding ``data`` (small tables: pack, settings)."""

    # steps
    def run_step(
        self,
        name: str,
        sql: str,
        params: Mapping[str, Any] | None = None,
        kind: StepKind = "table",
    ) -> int | None:
        """Create (or replace) ``name`` as the result of one SELECT, binding the ``$names`` the
        SQL uses from ``params``. Returns the rows of a table, None for a view."""

    def housekeeping(self) -> float | None:
        """Between steps: what the engine does to keep a long run within its means (DuckDB:
        compress the tables once they fill half the memory limit). Seconds spent, or None."""

    def drop(self, name: str) -> None:
        name = _name(name)
        try:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
        except duckdb.CatalogException:  # a view of that name
            self.con.execute(f"DROP VIEW IF EXISTS {name}")

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """A small result as Python tuples (ints, strings, dates, Decimals)."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """A small result as an Arrow table."""

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """A small (report-sized) result as a pandas frame."""

    def batches(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """A result of any size, in order, as Arrow record batches (bounded memory)."""

    def row_count(self, name: str) -> int:
        """Rows of table or view ``name``."""

    def columns(self, name: str) -> list[str]:
        """Column names of table or view ``name``, in order."""

    def has_table(self, name: str) -> bool:
        """Whether a table or view ``name`` exists."""

    # outputs
    def write_parquet(self, sql: str, path: Path, order_by: Sequence[str]) -> int:
        """Write the result of ``sql``, ordered by ``order_by``, as ONE Parquet file (zstd)."""

    # concurrency: the gate's background runner
    def worker(self) -> Engine:
        """A second handle on the same tables, for a thread of its own."""

    def interrupt(self) -> None:
        """Stop the query running on this handle (from another thread)."""


def bound(sql: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters ``sql`` uses (``$name`` outside comments), taken from ``params``."""
    used = sorted(set(_PARAM.findall(_COMMENT.sub("", sql))))
    return {name: (params or {})[name] for name in used}


def _name(name: str) -> str:
    """A relation name (engine-made, from allow-lists): refused unless a plain identifier."""
    if not _NAME.match(name):
        raise ValueError(f"not a relation name: {name!r}")
    return name


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_error(path: Path, exc: BaseException) -> str:
    """One line naming the file, the row and what is wrong with it, from DuckDB's reader error."""
    text = str(exc)
    line = re.search(r"Line: (\d+)", text)
    where = f"row {line.group(1)}: " if line else ""
    columns = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if columns:
        what = f"expected {columns.group(1)} cells, found {columns.group(2)}"
    elif "unicode" in text.lower() or "utf" in text.lower():
        what = "not UTF-8 text"
    elif "quote" in text.lower():
        what = "an unterminated or misplaced quote"
    else:
        what = first_line(exc).removeprefix("Invalid Input Error: ")
    return f"{path.name}: {where}cannot read the file: {what}"


def check_distinct_columns(path: Path, names: Sequence[str]) -> None:
    """Two column names that are the same without regard to letter case (`PATIENT_ID` next to
    `patient_id`) stop the run naming both: SQL cannot tell them apart, and picking one would
    be a guess."""
    seen: dict[str, str] = {}
    for name in names:
        key = name.lower()
        if key in seen:
            if seen[key] == name:
                raise InputError(f"{path.name}: column {name!r} appears twice; keep one")
            raise InputError(
                f"{path.name}: columns {seen[key]!r} and {name!r} differ only by letter case; "
                "keep one (column names cannot be told apart by case)"
            )
        seen[key] = name


def csv_header(path: Path, delim: str = ",") -> list[str]:
    """The header row, read by Python's csv module: no dialect sniffing, so a malformed data row
    is reported later with its line number instead of as a failed guess (a tab-separated file
    has no quoting, as DuckDB reads it)."""
    import csv
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            first = fh.readline()
        text = first.decode("utf-8-sig")
        quoting = csv.QUOTE_MINIMAL if delim == "," else csv.QUOTE_NONE
        rows = csv.reader([text], delimiter=delim, quoting=quoting)
        header = next(rows, None)
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: row 1: the header is not UTF-8 text") from None
    except (OSError, EOFError, csv.Error) as exc:
        raise InputError(f"{path.name}: cannot read file: {exc}") from None
    if not header:
        raise InputError(f"{path.name}: the file is empty (a header row is required)")
    return [h.strip() for h in header]


NESTED_TYPE_IDS = ("list", "array", "struct", "map", "union")
# list elements with one unambiguous text form (a modifier 50 stored as a number is "50")
TEXT_ELEMENT_TYPE_IDS = (
    "varchar",
    *("tinyint", "smallint", "integer", "bigint", "hugeint"),
    *("utinyint", "usmallint", "uinteger", "ubigint", "uhugeint"),
)


def _file_column(name: str, column_type: duckdb.typing.DuckDBPyType) -> FileColumn:
    nested = column_type.id in NESTED_TYPE_IDS
    list_of_text = column_type.id in ("list", "array") and (
        dict(column_type.children)["child"].id in TEXT_ELEMENT_TYPE_IDS
    )
    return FileColumn(name=name, type=str(column_type), nested=nested, list_of_text=list_of_text)


def _top_level_names(schema: list[tuple[str, int | None]]) -> list[str]:
    """The top-level column names of a Parquet schema as parquet_schema() lists it: the root,
    then each column followed by its nested children (depth first)."""

    def skip(i: int) -> int:
        children = schema[i][1] or 0
        i += 1
        for _ in range(children):
            i = skip(i)
        return i

    names, i = [], 1
    for _ in range(schema[0][1] or 0):
        names.append(schema[i][0])
        i = skip(i)
    return names


# Checkpoint (compress) the step tables once they hold this share of the memory limit; look
# at their size only after this many new rows (small runs never ask).
COMPRESS_AT = 0.5
CHECK_MEMORY_ROWS = 1_000_000


def compress_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Compress the in-memory tables once they hold half of the memory limit.

    Tables are written uncompressed; a CHECKPOINT of the compressed in-memory database
    (DuckDBEngine.connect) shrinks them several-fold, so a 100M-row run keeps its tables in
    memory instead of spilling them. Small runs never pay for it.
    """
    used, limit = con.execute(
        "SELECT (SELECT SUM(memory_usage_bytes) FROM duckdb_memory() "
        "WHERE tag = 'IN_MEMORY_TABLE'), "
        "(SELECT CAST(value AS VARCHAR) FROM duckdb_settings() WHERE name = 'memory_limit')"
    ).fetchall()[0]
    if not used or used < COMPRESS_AT * _bytes(limit):
        return False
    con.execute("CHECKPOINT")
    return True


def _bytes(text: str) -> float:
    """DuckDB's memory_limit setting ("1.1 GiB", "1280.0 MiB", "976.5 KiB") in bytes; infinity
    when it cannot be read (then nothing is compressed: results never depend on it)."""
    number, _, unit = text.strip().partition(" ")
    scale = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}
    try:
        return float(number) * scale[unit]
    except (KeyError, ValueError):
        return float("inf")


class DuckDBEngine:
    """The engine on an in-process DuckDB database (the default, and today the only one)."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, profile_dir: Path | None = None) -> None:
        self.con = con  # DuckDB's own handle: for DuckDB-only callers (the pack's CSV reader)
        self.profile_dir = profile_dir  # EXPLAIN ANALYZE of each table step, as JSON
        self._new_rows = 0  # rows written since the tables were last compressed

    @classmethod
    def connect(cls, settings: Settings, profile_dir: Path | None = None) -> DuckDBEngine:
        """An in-memory DuckDB with the run's resource settings.

        Memory is bounded by default (Settings.memory_limit): past it DuckDB spills to a folder
        that it creates on demand and removes when the connection closes, by default a fresh
        name in the system temporary folder, so nothing is left in the working folder.
        """
        config: dict[str, Any] = {
            "preserve_insertion_order": True,
            "temp_directory": settings.temp_dir
            or os.path.join(tempfile.gettempdir(), f"spine-audit-spill-{uuid.uuid4().hex}"),
        }
        if settings.memory_limit:
            config["memory_limit"] = settings.memory_limit
        if settings.threads:
            config["threads"] = settings.threads
        try:
            con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:  # a memory limit too small to start (audit.failures says so)
            raise ConfigError(f"invalid resource setting: {first_line(exc)}") from None
        con.execute("SET enable_progress_bar = false")  # our own progress display is on stderr
        # Tables live in an in-memory database that compresses them when checkpointed
        # (housekeeping): at 100M input rows the intermediate tables would otherwise outgrow
        # the memory limit and spill to disk.
        try:
            con.execute("ATTACH ':memory:' AS audit_db (COMPRESS)")
            con.execute("USE audit_db")
        except duckdb.Error:  # a DuckDB without the option: the same results, more spilling
            pass
        return cls(con, profile_dir)

    @classmethod
    def scratch(cls) -> DuckDBEngine:
        """A plain in-memory DuckDB with default settings, for small local work (reading the
        pack's CSV files, whatever the run's engine)."""
        return cls(duckdb.connect(":memory:"))

    def close(self) -> None:
        self.con.close()

    # inputs
    def describe_file(self, path: Path, fmt: str, delimiter: str = ",") -> list[FileColumn]:
        if fmt == "parquet":
            try:
                relation = self.con.read_parquet(str(path))
                schema = self.con.execute(
                    "SELECT name, num_children FROM parquet_schema($path)", {"path": str(path)}
                ).fetchall()
            except duckdb.Error as exc:
                raise InputError(read_error(path, exc)) from None
            # DuckDB renames the second of two names that differ only by case: refused instead
            check_distinct_columns(path, _top_level_names(schema))
            return [
                _file_column(n, t) for n, t in zip(relation.columns, relation.types, strict=True)
            ]
        names = csv_header(path, delimiter)
        check_distinct_columns(path, names)
        return [FileColumn(name=n) for n in names]

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
        name = _name(name)
        if fmt not in FILE_FORMATS:
            raise ValueError(f"not a table file format: {fmt!r}")

        def read(ours: str, theirs: str | None) -> str:
            if theirs is None:
                return f"CAST(NULL AS VARCHAR) AS {quote(ours)}"
            if ours in lists:
                return f"ARRAY_TO_STRING({quote(theirs)}, ',') AS {quote(ours)}"
            if as_text:
                return f"CAST({quote(theirs)} AS VARCHAR) AS {quote(ours)}"
            return quote(theirs) if theirs == ours else f"{quote(theirs)} AS {quote(ours)}"

        select = ", ".join(read(ours, theirs) for ours, theirs in columns.items())
        ours_list = ", ".join(quote(c) for c in columns)
        try:
            if fmt == "parquet" and not as_text:
                # read in place: a view over the file, never a copy (issue 5: bounded memory)
                relation = self.con.read_parquet(str(path), file_row_number=True).project(
                    f"CAST(file_row_number + 1 AS BIGINT) AS src_row, {select}"
                )
                relation.create_view(name, replace=True)
                return self.row_count(name)
            params: dict[str, Any] = {"path": str(path)}
            if fmt == "parquet":
                reader = "read_parquet($path)"
            else:
                quote_char = "'\"'" if delimiter == "," else "''"
                reader = (
                    "read_csv($path, all_varchar = true, header = true, delim = $delim, "
                    f"quote = {quote_char}, escape = {quote_char}, auto_detect = false, "
                    "columns = $columns)"
                )
                params["delim"] = delimiter
                described = self.describe_file(path, fmt, delimiter)
                params["columns"] = {c.name: "VARCHAR" for c in described}
            # a copy read in file order: its rowid is the row number
            self.con.execute(
                # S608: name checked by _name; columns quoted; path and options bound
                f"CREATE OR REPLACE TABLE {name}_raw AS SELECT {select} FROM {reader}",  # noqa: S608
                params,
            )
        except duckdb.Error as exc:
            raise InputError(read_error(path, exc)) from None
        offset = 2 if fmt == "csv" else 1  # a CSV's header is row 1
        self.con.execute(
            # S608: name checked by _name; offset an int; columns quoted
            f"CREATE OR REPLACE VIEW {name} AS SELECT CAST(rowid + {offset} AS BIGINT) "  # noqa: S608
            f"AS src_row, {ours_list} FROM {name}_raw"
        )
        return self.row_count(f"{name}_raw")

    def stage_lines(self, name: str, path: Path, max_line_bytes: int) -> int:
        name = _name(name)
        try:  # a table read in file order: its rowid is the line number
            self.con.execute(
                # S608: name checked by _name; path and options bound
                f"CREATE OR REPLACE TABLE {name}_raw AS SELECT line "  # noqa: S608
                "FROM read_csv($path, columns = {'line': 'VARCHAR'}, header = false, "
                "delim = $delim, quote = '', escape = '', auto_detect = false, "
                "max_line_size = $max_line)",
                {"path": str(path), "delim": "\x01", "max_line": max_line_bytes},
            )
        except duckdb.Error as exc:
            raise InputError(f"{path.name}: cannot read file: {first_line(exc)}") from None
        self.con.execute(
            # S608: name checked by _name
            f"CREATE OR REPLACE VIEW {name} AS "  # noqa: S608
            f"SELECT CAST(rowid + 1 AS BIGINT) AS src_row, line FROM {name}_raw"
        )
        return self.row_count(f"{name}_raw")

    def describe_database(self, path: Path) -> dict[str, tuple[str, str, list[FileColumn]]]:
        with self._attached(path):
            listed = self.con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_catalog = 'omop_db' ORDER BY table_schema = 'main' DESC, table_schema"
            ).fetchall()
            found: dict[str, tuple[str, str, list[FileColumn]]] = {}
            for schema, table in listed:
                if table.lower() in found:
                    continue
                described = self.con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE "
                    "table_catalog = 'omop_db' AND table_schema = $s AND table_name = $t "
                    "ORDER BY ordinal_position",
                    {"s": schema, "t": table},
                ).fetchall()
                columns = [
                    FileColumn(name=n, type=t, nested=bool(_NESTED_SQL_TYPE.search(t)))
                    for n, t in described
                ]
                found[table.lower()] = (schema, table, columns)
        return found

    def stage_database_tables(
        self, path: Path, tables: Mapping[str, tuple[str, str, Mapping[str, str | None]]]
    ) -> dict[str, int]:
        rows: dict[str, int] = {}
        with self._attached(path):
            for name, (schema, table, columns) in tables.items():
                name = _name(name)
                select = ", ".join(
                    f"CAST({quote(theirs)} AS VARCHAR) AS {quote(ours)}"
                    if theirs is not None
                    else f"CAST(NULL AS VARCHAR) AS {quote(ours)}"
                    for ours, theirs in columns.items()
                )
                self.con.execute(
                    # S608: name checked; schema and table quoted, from the catalogue
                    f"CREATE OR REPLACE TABLE {name}_raw AS "  # noqa: S608
                    f"SELECT {select} FROM omop_db.{quote(schema)}.{quote(table)}"
                )
                self.con.execute(
                    # S608: name checked by _name; columns quoted
                    f"CREATE OR REPLACE VIEW {name} AS SELECT "  # noqa: S608
                    "CAST(rowid + 1 AS BIGINT) AS src_row, "
                    + ", ".join(quote(c) for c in columns)
                    + f" FROM {name}_raw"
                )
                rows[name] = self.row_count(f"{name}_raw")
        return rows

    @contextmanager
    def _attached(self, path: Path) -> Iterator[None]:
        try:
            self.con.execute("ATTACH $path AS omop_db (READ_ONLY)", {"path": str(path)})
        except duckdb.Error as exc:
            raise InputError(
                f"{path.name}: cannot open DuckDB database: {first_line(exc)}"
            ) from None
        try:
            yield
        finally:
            self.con.execute("DETACH omop_db")

    def load_table(self, name: str, data: pa.Table) -> None:
        name = _name(name)
        self.con.register("_spine_audit_load", data)
        try:
            # S608: name checked by _name
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _spine_audit_load")  # noqa: S608
        finally:
            self.con.unregister("_spine_audit_load")

    # steps
    def run_step(
        self,
        name: str,
        sql: str,
        params: Mapping[str, Any] | None = None,
        kind: StepKind = "table",
    ) -> int | None:
        name = _name(name)
        used = bound(sql, params)
        if kind == "view":
            if used:
                raise ValueError(f"view step {name} cannot bind parameters: {sorted(used)}")
            self.con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
            return None
        if kind == "temp":
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", used)
            return None
        if self.profile_dir is not None:
            self.con.execute("SET enable_profiling = 'json'")
            self.con.execute(
                "SET profiling_output = $p", {"p": str(self.profile_dir / f"{name}.json")}
            )
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}", used)
        if self.profile_dir is not None:
            self.con.execute("PRAGMA disable_profiling")
        rows = self.row_count(name)
        self._new_rows += rows
        return rows

    def housekeeping(self) -> float | None:
        import time

        if self._new_rows < CHECK_MEMORY_ROWS:
            return None
        started = time.perf_counter()
        if not compress_tables(self.con):
            return None
        self._new_rows = 0
        return time.perf_counter() - started

    def drop(self, name: str) -> None:
        name = _name(name)
        kind = self.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = $n "
            "AND table_catalog = current_database() UNION ALL SELECT 'LOCAL TEMPORARY' "
            "FROM duckdb_tables() WHERE temporary AND table_name = $n",
            {"n": name},
        ).fetchall()
        what = "VIEW" if kind and kind[0][0] == "VIEW" else "TABLE"
        self.con.execute(f"DROP {what} IF EXISTS {name}")

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, dict(params) if params else None).fetchall()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self.con.sql(sql, params=dict(params) if params else None).to_arrow_table()

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, dict(params) if params else None).df()

    def batches(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[pa.RecordBatch]:
        relation = self.con.sql(sql, params=dict(params) if params else None)
        yield from relation.to_arrow_reader(100_000)

    def row_count(self, name: str) -> int:
        # S608: name checked by _name
        return self.con.execute(f"SELECT COUNT(*) FROM {_name(name)}").fetchall()[0][0]  # noqa: S608

    def columns(self, name: str) -> list[str]:
        # S608: name checked by _name
        desc = self.con.execute(f"SELECT * FROM {_name(name)} LIMIT 0").description  # noqa: S608
        return [d[0] for d in desc]

    def has_table(self, name: str) -> bool:
        try:
            self.columns(name)
        except duckdb.CatalogException:
            return False
        return True

    # outputs
    def write_parquet(self, sql: str, path: Path, order_by: Sequence[str]) -> int:
        order = ", ".join(order_by)
        result = self.con.execute(
            # S608: the caller's SQL ships with the tool; order from its constants; path bound
            f"COPY ({sql} ORDER BY {order}) TO $p (FORMAT parquet, COMPRESSION zstd)",  # noqa: S608
            {"p": str(path)},
        ).fetchall()
        return int(result[0][0]) if result else 0

    # concurrency
    def worker(self) -> DuckDBEngine:
        """A cursor on the same database (pointed at the catalog the steps wrote: a cursor
        starts in the default one)."""
        database = self.con.execute("SELECT current_database()").fetchall()[0][0]
        cursor = self.con.cursor()
        cursor.execute("SET enable_progress_bar = false")
        cursor.execute(f'USE "{database}"')  # an identifier, from DuckDB itself: not a value
        return DuckDBEngine(cursor)

    def interrupt(self) -> None:
        self.con.interrupt()
