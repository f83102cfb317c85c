"""Shared machinery of the input adapters: find and stage source files, run an adapter's SQL
steps, and check that what they produce is exactly the canonical contract.

Reading is kept apart from mapping: each source file is staged as one table
``adapter_src_<key>`` holding ``src_row`` and our column names (all text), so the SQL steps in
``sql/adapters/<format>/`` never depend on the spelling of a particular extract. Table and column
names only ever come from the allow-lists below or from a file's own header; paths and values
reach DuckDB as bound parameters.
"""

from __future__ import annotations

import gzip
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from audit.errors import InputError
from audit.finder import TABLE_SUFFIXES
from audit.inputs import (
    CANONICAL,
    check_distinct_columns,
    csv_header,
    is_nested,
    nested_column_error,
    parquet_types,
    read_error,
    sha256,
)
from audit.resources import sql_dir

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class Source:
    """One kind of source file an adapter reads, and what its rows become."""

    key: str  # logical name used by the SQL steps: staged as adapter_src_<key>
    stems: tuple[str, ...]  # file names without suffix, matched case-insensitively
    columns: tuple[str, ...]  # our column names, in staging order (the allow-list)
    required: bool = False
    required_columns: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    feeds: tuple[str, ...] = ()  # canonical tables built from its rows
    reconciles_to: str | None = None  # the canonical table its units are reconciled against
    unit: str = "row"  # what one reconciled unit is: a row (line), or an EOB item
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ours -> header names


@dataclass
class Staged:
    """A source file as staged: what the manifest says about it."""

    source: Source
    path: Path | None
    fmt: str | None = None
    rows: int = 0
    sha256: str | None = None
    columns_used: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # our name -> their header name
    # the source_key of the file's rows in <fmt>_source_accounting: the source's key, or the
    # file name where one source comes in several files (FHIR: Patient.000.ndjson ...)
    account_key: str | None = None


@dataclass
class AdapterResult:
    """What an adapter read, and the source rows it consumed without a canonical row.

    ``files`` are manifest entries (one per source file); ``dispositions`` maps a source file
    name to {reason: rows}. For every file with ``reconciles_to``:
    units = canonical rows of that table made from the file + its dispositions.
    """

    files: list[dict[str, Any]]
    dispositions: dict[str, dict[str, int]]
    fmt: str = "canonical"
    table_rows: dict[str, int] = field(default_factory=dict)  # rows of each input_<table>
    seconds: float = 0.0
    # further manifest sections of the adapter (only when there is something to say)
    notes: dict[str, Any] = field(default_factory=dict)


def sniff_delimiter(path: Path) -> str:
    """Comma, or tab when the header line holds more tabs than commas (OMOP vocabulary files
    from Athena are tab-separated)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            header = fh.readline(1 << 20)
    except OSError as exc:
        raise InputError(read_error(path, exc)) from None
    return "\t" if header.count(b"\t") > header.count(b",") else ","


def _csv_reader(delim: str) -> str:
    quote = "'\"'" if delim == "," else "''"
    return (
        f"read_csv($path, all_varchar = true, header = true, delim = $delim, quote = {quote}, "
        f"escape = {quote}, auto_detect = false, columns = $columns)"
    )


def file_columns(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, delim: str
) -> dict[str, Any]:
    """Column name -> type of a Parquet file, or the header of a CSV file (every column
    text: type None); two names that differ only by letter case are an InputError."""
    if fmt == "parquet":
        return parquet_types(con, path)
    quote = "'\"'" if delim == "," else "''"
    try:
        desc = con.execute(
            # S608: quote character is one of two literals, path bound
            "SELECT * FROM read_csv($path, all_varchar = true, header = true, "  # noqa: S608
            f"delim = $delim, quote = {quote}, escape = {quote}, sample_size = 1) LIMIT 0",
            {"path": str(path), "delim": delim},
        ).description
    except duckdb.Error as exc:
        raise InputError(read_error(path, exc)) from None
    check_distinct_columns(path, csv_header(path, delim))  # DuckDB renames a second 'x' 'x_1'
    return dict.fromkeys(d[0] for d in desc)


def resolve_columns(
    source: Source, path: Path, present: list[str], overrides: dict[str, str]
) -> dict[str, str]:
    """Our name -> their header name, from the column map first, then our name or an accepted
    alias (case-insensitive). Missing required columns and ambiguous headers are InputErrors."""
    by_lower: dict[str, str] = {}
    for name in present:
        by_lower.setdefault(name.strip().lower(), name)
    mapping: dict[str, str] = {}
    for ours in source.columns:
        if ours in overrides:
            theirs = overrides[ours]
            if theirs not in present and theirs.lower() not in by_lower:
                raise InputError(
                    f"{path.name}: column {theirs!r} named in the column map for {ours!r} "
                    "is not in the file"
                )
            mapping[ours] = theirs if theirs in present else by_lower[theirs.lower()]
            continue
        candidates = [ours, *source.aliases.get(ours, ())]
        found = []
        for c in candidates:
            header = by_lower.get(c.lower())
            if header is not None and header not in found:
                found.append(header)
        if len(found) > 1:
            raise InputError(
                f"{path.name}: columns {' and '.join(repr(f) for f in found)} could both be "
                f"{ours!r}; name one in a column map"
            )
        if found:
            mapping[ours] = found[0]
    used = set(mapping.values())
    duplicates = [c for c in used if list(mapping.values()).count(c) > 1]
    if duplicates:
        raise InputError(f"{path.name}: column {duplicates[0]!r} is mapped to two of our columns")
    for column in source.required_columns:
        if column not in mapping:
            raise InputError(f"{path.name}: required column {column!r} missing")
    for group in source.one_of:
        if not any(c in mapping for c in group):
            raise InputError(f"{path.name}: needs at least one of the columns {', '.join(group)}")
    return mapping


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def stage_table_file(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    path: Path | None,
    overrides: dict[str, str] | None = None,
) -> Staged:
    """Stage a CSV/Parquet source as ``adapter_src_<key>``: src_row (CSV header = row 1,
    Parquet first record = row 1) and every column of the allow-list as text (null when the
    file lacks it). An absent file stages an empty table, so the SQL steps always run."""
    staged = Staged(source=source, path=path)
    ours = source.columns
    if path is None:
        if source.required:
            expected = " or ".join(f"{source.stems[0]}{s}" for s in TABLE_SUFFIXES)
            raise InputError(f"required input file missing: {expected}")
        cols = ", ".join(f"{_quote(c)} VARCHAR" for c in ours)
        con.execute(f"CREATE OR REPLACE TABLE adapter_src_{source.key} (src_row BIGINT, {cols})")
        return staged
    fmt = "parquet" if path.name.lower().endswith(".parquet") else "csv"
    delim = sniff_delimiter(path) if fmt == "csv" else ","
    types = file_columns(con, path, fmt, delim)
    present = list(types)
    mapping = resolve_columns(source, path, present, overrides or {})
    for theirs in mapping.values():
        if types[theirs] is not None and is_nested(types[theirs]):
            raise nested_column_error(path, theirs, types[theirs])
    select = ", ".join(
        f"CAST({_quote(mapping[c])} AS VARCHAR) AS {_quote(c)}"
        if c in mapping
        else f"CAST(NULL AS VARCHAR) AS {_quote(c)}"
        for c in ours
    )
    params: dict[str, Any] = {"path": str(path)}
    reader = "read_parquet($path)"
    if fmt == "csv":
        reader = _csv_reader(delim)
        params["delim"] = delim
        params["columns"] = {c: "VARCHAR" for c in present}
    try:
        con.execute(
            # S608: key from the Source allow-list; columns quoted, from the file's own header
            f"CREATE OR REPLACE TABLE adapter_raw_{source.key} AS SELECT {select} FROM {reader}",  # noqa: S608
            params,
        )
    except duckdb.Error as exc:
        raise InputError(read_error(path, exc)) from None
    offset = 2 if fmt == "csv" else 1
    con.execute(
        # S608: key from the Source allow-list; offset an int
        f"CREATE OR REPLACE VIEW adapter_src_{source.key} AS "  # noqa: S608
        f"SELECT CAST(rowid + {offset} AS BIGINT) AS src_row, "
        + ", ".join(_quote(c) for c in ours)
        + f" FROM adapter_raw_{source.key}"
    )
    staged.fmt = fmt
    # S608: key from the Source allow-list
    staged.rows = con.execute(f"SELECT COUNT(*) FROM adapter_raw_{source.key}").fetchone()[0]  # noqa: S608
    staged.sha256 = sha256(path)
    staged.mapping = mapping
    staged.columns_used = [mapping[c] for c in ours if c in mapping]
    staged.extra_columns = [c for c in present if c not in set(mapping.values())]
    return staged


def read_adapter_sql(fmt: str, step: str) -> str:
    """The text of one adapter step, by the name of the table it produces."""
    return (sql_dir() / "adapters" / fmt / f"{step}.sql").read_text(encoding="utf-8")


def run_adapter_steps(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    steps: tuple[str, ...],
    params: dict[str, Any] | None = None,
) -> None:
    """Materialise each step of sql/adapters/<fmt>/ as the table it is named after, in order,
    binding exactly the parameters a step uses."""
    params = params or {}
    for step in steps:
        sql = read_adapter_sql(fmt, step)
        used = {n: params[n] for n in sorted(set(_PARAM.findall(_COMMENT.sub("", sql))))}
        con.execute(f"CREATE OR REPLACE TABLE {step} AS {sql}", used)


def check_contract(con: duckdb.DuckDBPyConnection) -> None:
    """Every input_<table> holds src_row and exactly the canonical columns, in order: an adapter
    that breaks this is a bug, never the user's input."""
    for table, spec in CANONICAL.items():
        # S608: table from CANONICAL (allow-list)
        desc = con.execute(f"SELECT * FROM input_{table} LIMIT 0").description  # noqa: S608
        names = [d[0] for d in desc]
        expected = ["src_row", *spec["columns"]]
        if names != expected:
            raise RuntimeError(f"adapter built input_{table} with columns {names}, not {expected}")


def write_input_files(con: duckdb.DuckDBPyConnection, names: dict[str, list[str]]) -> None:
    """input_files: one row per canonical table naming its source file(s), '+' joined."""
    con.execute("CREATE OR REPLACE TABLE input_files (table_name VARCHAR, file_name VARCHAR)")
    for table in CANONICAL:
        files = names.get(table) or []
        con.execute(
            "INSERT INTO input_files VALUES ($t, $f)",
            {"t": table, "f": "+".join(files) if files else f"{table} (absent)"},
        )


def account(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    staged: list[Staged],
    started: float,
    feeds_of_other_types: dict[str, tuple[str, ...]] | None = None,
) -> AdapterResult:
    """Read the adapter's <fmt>_source_accounting step, check that every reconciled source
    balances, write input_files and return the manifest entries and dispositions.

    Outcomes: ``units`` (summed; a source without them has one unit per row), ``canonical``
    (rows of a canonical table made from the source), ``disposition`` (units consumed by
    reason) and ``other_type`` (FHIR: lines of another resource type in the file, read as
    that type; ``feeds_of_other_types`` names the canonical tables each type feeds)."""
    rows = con.execute(
        # S608: fmt from FORMATS (allow-list)
        f"SELECT source_key, outcome, detail, unit_count FROM {fmt}_source_accounting"  # noqa: S608
    ).fetchall()
    files: list[dict[str, Any]] = []
    dispositions: dict[str, dict[str, int]] = {}
    table_files: dict[str, list[str]] = {}
    for s in staged:
        if s.path is None:
            continue
        key = s.account_key or s.source.key
        mine = [r for r in rows if r[0] == key]
        canonical = {d: int(n) for _, o, d, n in mine if o == "canonical"}
        disposed = {d: int(n) for _, o, d, n in mine if o == "disposition" and n}
        other = {d: int(n) for _, o, d, n in mine if o == "other_type" and n}
        units = sum(int(n) for _, o, _d, n in mine if o == "units")
        if not any(o == "units" for _, o, _d, _n in mine):
            units = s.rows
        feeds = list(s.source.feeds)
        for resource_type in other:
            more = (feeds_of_other_types or {}).get(resource_type, ())
            feeds += [t for t in more if t not in feeds]
        for table in feeds:
            table_files.setdefault(table, []).append(s.path.name)
        entry: dict[str, Any] = {
            "table": "+".join(s.source.feeds) if s.source.feeds else "(lookup)",
            "file": s.path.name,
            "format": s.fmt,
            "rows": s.rows,
            "sha256": s.sha256,
            "columns_used": s.columns_used,
            "extra_columns_ignored": s.extra_columns,
            "source": s.source.key,
            "canonical_rows": canonical,
        }
        renamed = {k: v for k, v in s.mapping.items() if k != v}
        if renamed:
            entry["column_map"] = renamed
        if other:
            entry["lines_of_other_resource_types"] = other
        if s.source.reconciles_to:
            made = canonical.get(s.source.reconciles_to, 0)
            balanced = units == made + sum(other.values()) + sum(disposed.values())
            entry["reconciliation"] = {
                "unit": s.source.unit,
                "units": units,
                "to": s.source.reconciles_to,
                "canonical_rows": made,
                "adapter_dispositions": disposed,
                "balanced": balanced,
            }
            if other:
                entry["reconciliation"]["read_as_other_resource_types"] = sum(other.values())
            if not balanced:  # a bug in the adapter: fail loudly rather than lose rows
                raise RuntimeError(
                    f"{s.path.name}: {units} {s.source.unit}s but {made} canonical rows, "
                    f"{sum(other.values())} of other types and "
                    f"{sum(disposed.values())} dispositions"
                )
        if disposed:
            dispositions[s.path.name] = disposed
        files.append(entry)
    check_contract(con)
    write_input_files(con, table_files)
    return AdapterResult(
        files=files,
        dispositions=dispositions,
        fmt=fmt,
        table_rows=table_rows(con),
        seconds=time.perf_counter() - started,
    )


def table_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of each input_<table>: what the audit's own reconciliation starts from."""
    # S608: table from CANONICAL (allow-list)
    return {t: con.execute(f"SELECT COUNT(*) FROM input_{t}").fetchone()[0] for t in CANONICAL}  # noqa: S608
