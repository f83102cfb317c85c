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
import time
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import pyarrow as pa

from audit.engine import Engine, FileColumn, read_error
from audit.errors import InputError
from audit.finder import TABLE_SUFFIXES, Listing
from audit.inputs import CANONICAL, nested_column_error, sha256
from audit.pipeline import run_steps
from audit.resources import sql_dir


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
    # canonical files: header names are exact (no letter-case folding, no aliases), values are
    # read as stored (a Parquet date stays a date), columns in ``lists`` may hold a list of text
    # (joined with ','), and a file is comma-separated (no tab sniffing)
    exact_names: bool = False
    lists: tuple[str, ...] = ()
    relation: str | None = None  # staged as this relation (default adapter_src_<key>)

    @property
    def staged_as(self) -> str:
        return self.relation or f"adapter_src_{self.key}"


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


def resolve_columns(
    source: Source, path: Path, present: list[str], overrides: dict[str, str] | None = None
) -> dict[str, str]:
    """Our name -> their header name: the one column resolver of every format. From the column
    map first, then our name or an accepted alias, without regard to letter case (exact names
    for canonical files). Missing required columns and ambiguous headers are InputErrors."""
    overrides = overrides or {}
    by_lower: dict[str, str] = {}
    for name in present:
        by_lower.setdefault(name if source.exact_names else name.strip().lower(), name)
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
        if source.exact_names:
            if ours in present:
                mapping[ours] = ours
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
            hint = get_close_matches(column, present, n=1) if source.exact_names else []
            extra = f" (found {hint[0]!r}; column names are exact)" if hint else ""
            raise InputError(f"{path.name}: required column {column!r} missing{extra}")
    for group in source.one_of:
        if not any(c in mapping for c in group):
            raise InputError(f"{path.name}: needs at least one of the columns {', '.join(group)}")
    return mapping


def find_source_file(listing: Listing, source: Source) -> Path | None:
    """The source's file in the folder; None when it is absent and optional."""
    path = listing.find(source.stems)
    if path is None and source.required:
        expected = " or ".join(f"{source.stems[0]}{s}" for s in TABLE_SUFFIXES)
        raise InputError(f"{listing.folder}: required input file missing: {expected}")
    return path


def empty_relation(engine: Engine, name: str, columns: tuple[str, ...]) -> None:
    """``name(src_row, <columns> as text)`` without rows: an absent file, so the steps run."""
    schema = pa.schema([("src_row", pa.int64()), *((c, pa.string()) for c in columns)])
    engine.load_table(name, schema.empty_table())


@dataclass
class Planned:
    """A file whose columns are resolved and checked, ready to stage."""

    staged: Staged
    delimiter: str = ","
    lists: tuple[str, ...] = ()


def plan_file(
    engine: Engine, source: Source, path: Path | None, overrides: dict[str, str] | None = None
) -> Planned:
    """Read a source file's columns, resolve ours onto theirs and refuse nested values (a list
    of text only where ``source.lists`` allows it); read no data yet."""
    staged = Staged(source=source, path=path)
    if path is None:
        return Planned(staged)
    fmt = "parquet" if path.name.lower().endswith(".parquet") else "csv"
    delim = sniff_delimiter(path) if fmt == "csv" and not source.exact_names else ","
    described: dict[str, FileColumn] = {c.name: c for c in engine.describe_file(path, fmt, delim)}
    present = list(described)
    mapping = resolve_columns(source, path, present, overrides)
    lists = []
    for ours, theirs in mapping.items():
        column = described[theirs]
        if column.nested:
            if not (ours in source.lists and column.list_of_text):
                raise nested_column_error(path, theirs, column.type)
            lists.append(ours)
    staged.fmt = fmt
    staged.mapping = mapping
    staged.columns_used = [mapping[c] for c in source.columns if c in mapping]
    staged.extra_columns = [c for c in present if c not in set(mapping.values())]
    return Planned(staged, delim, tuple(lists))


def stage_planned(engine: Engine, planned: Planned) -> Staged:
    """Stage a planned file as ``source.staged_as``: src_row (CSV header = row 1, Parquet first
    record = row 1) and every column of the allow-list (null when the file lacks it). An absent
    file stages an empty relation, so the SQL steps always run."""
    staged = planned.staged
    source = staged.source
    if staged.path is None:
        empty_relation(engine, source.staged_as, source.columns)
        return staged
    columns = {c: staged.mapping.get(c) for c in source.columns}
    staged.rows = engine.stage_file(
        source.staged_as,
        staged.path,
        staged.fmt or "csv",
        columns,
        delimiter=planned.delimiter,
        as_text=not source.exact_names,
        lists=planned.lists,
    )
    staged.sha256 = sha256(staged.path)
    return staged


def stage_table_file(
    engine: Engine, source: Source, path: Path | None, overrides: dict[str, str] | None = None
) -> Staged:
    """Plan and stage one CSV/Parquet source file (see plan_file and stage_planned)."""
    return stage_planned(engine, plan_file(engine, source, path, overrides))


def read_adapter_sql(fmt: str, step: str) -> str:
    """The text of one adapter step, by the name of the table it produces."""
    return (sql_dir() / "adapters" / fmt / f"{step}.sql").read_text(encoding="utf-8")


def run_adapter_steps(
    engine: Engine, fmt: str, steps: tuple[str, ...], params: dict[str, Any] | None = None
) -> None:
    """Materialise each step of sql/adapters/<fmt>/ as the table it is named after, in order,
    with the one step runner (pipeline.run_steps)."""
    run_steps(engine, params or {}, steps=steps, read=lambda step: read_adapter_sql(fmt, step))


def check_contract(engine: Engine) -> None:
    """Every input_<table> holds src_row and exactly the canonical columns, in order: an adapter
    that breaks this is a bug, never the user's input."""
    for table, spec in CANONICAL.items():
        names = engine.columns(f"input_{table}")
        expected = ["src_row", *spec["columns"]]
        if names != expected:
            raise RuntimeError(f"adapter built input_{table} with columns {names}, not {expected}")


def write_input_files(engine: Engine, names: dict[str, list[str]]) -> None:
    """input_files: one row per canonical table naming its source file(s), '+' joined. The one
    writer of this table, for every format."""
    files = [names.get(table) or [] for table in CANONICAL]
    engine.load_table(
        "input_files",
        pa.table(
            {
                "table_name": pa.array(list(CANONICAL), pa.string()),
                "file_name": pa.array(
                    [
                        "+".join(f) if f else f"{t} (absent)"
                        for t, f in zip(CANONICAL, files, strict=True)
                    ],
                    pa.string(),
                ),
            }
        ),
    )


def account(
    engine: Engine,
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
    rows = engine.rows(
        # S608: fmt from FORMATS (allow-list)
        f"SELECT source_key, outcome, detail, unit_count FROM {fmt}_source_accounting"  # noqa: S608
    )
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
    check_contract(engine)
    write_input_files(engine, table_files)
    return AdapterResult(
        files=files,
        dispositions=dispositions,
        fmt=fmt,
        table_rows=table_rows(engine),
        seconds=time.perf_counter() - started,
    )


def table_rows(engine: Engine) -> dict[str, int]:
    """Rows of each input_<table>: what the audit's own reconciliation starts from."""
    return {t: engine.row_count(f"input_{t}") for t in CANONICAL}
