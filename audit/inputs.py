"""Read the canonical input model (measure spec section 2) from a folder into DuckDB.

Every file is read as text (CSV) or as stored (Parquet) with its row number kept, so that any
row the SQL cannot use can be named by file, row and column. Table and column names come from
the allow-list below; paths reach DuckDB as bound parameters.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

import duckdb

from audit.errors import InputError
from audit.finder import TABLE_SUFFIXES, list_folder

# table -> (required, columns, required columns, groups of which at least one must be present)
CANONICAL: dict[str, dict] = {
    "patients": {
        "required": True,
        "columns": ("patient_id", "birth_date", "birth_year", "sex"),
        "required_columns": ("patient_id",),
        "one_of": (("birth_date", "birth_year"),),
    },
    "diagnoses": {
        "required": True,
        "columns": ("patient_id", "event_date", "code", "code_system", "source_id", "site_id"),
        "required_columns": ("patient_id", "event_date", "code"),
        "one_of": (),
    },
    "procedures": {
        "required": True,
        "columns": (
            "patient_id",
            "event_date",
            "code",
            "code_system",
            "site_id",
            "source_id",
            "line_number",
            "modifiers",
            "units",
            "allowed_amount",
            "status",
            "provider_id",
        ),
        "required_columns": ("patient_id", "event_date", "code", "site_id"),
        "one_of": (),
    },
    "sites": {
        "required": False,
        "columns": ("site_id", "site_name", "site_group"),
        "required_columns": ("site_id",),
        "one_of": (),
    },
    "coverage": {
        "required": False,
        "columns": ("patient_id", "start_date", "end_date"),
        "required_columns": ("patient_id", "start_date", "end_date"),
        "one_of": (),
    },
}
# Where an input row came from, when src_row alone cannot say (FHIR: a table is read from
# several files, and an EOB's items share its line): src_row is then a key unique in its table,
# and this table gives the file and line the quarantine and the gate report. Empty for files
# whose src_row is the row number itself.
ROW_SOURCES_COLUMNS = "(table_name VARCHAR, src_row BIGINT, file_name VARCHAR, line_number BIGINT)"

# columns whose value is a list by meaning: a Parquet list of text is read as that list
# (comma-joined, the form of a CSV cell), never as the text of the list
LIST_COLUMNS: dict[str, tuple[str, ...]] = {"procedures": ("modifiers",)}


@dataclass
class InputFile:
    table: str
    path: Path | None
    fmt: str | None = None
    rows: int = 0
    sha256: str | None = None
    columns_used: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    nested: dict[str, object] = field(default_factory=dict)  # Parquet columns of nested type

    def manifest(self) -> dict:
        return {
            "table": self.table,
            "file": self.path.name if self.path else None,
            "format": self.fmt,
            "rows": self.rows,
            "sha256": self.sha256,
            "columns_used": self.columns_used,
            "extra_columns_ignored": self.extra_columns,
        }


def sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks (inputs can be many GB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_input_files(folder: Path) -> dict[str, InputFile]:
    """Map each canonical table to its file (names matched without regard to case); a missing
    required table, two files for one table or a name that is not a usable file is an
    InputError."""
    listing = list_folder(folder)
    found: dict[str, InputFile] = {}
    for table, spec in CANONICAL.items():
        path = listing.find((table,))
        if path is None:
            if spec["required"]:
                expected = " or ".join(f"{table}{s}" for s in TABLE_SUFFIXES)
                raise InputError(f"{folder}: required input file missing: {expected}")
            found[table] = InputFile(table=table, path=None)
            continue
        fmt = "parquet" if path.name.lower().endswith(".parquet") else "csv"
        found[table] = InputFile(table=table, path=path, fmt=fmt)
    return found


def _reader(fmt: str) -> str:
    return (
        "read_csv($path, all_varchar = true, header = true, delim = ',', quote = '\"', "
        "escape = '\"', auto_detect = false, columns = $columns)"
    )


def _file_columns(con: duckdb.DuckDBPyConnection, f: InputFile) -> list[str]:
    """The file's column names (CSV header, Parquet schema); two names that differ only by
    letter case are an InputError. Sets ``f.nested`` to the Parquet columns of nested type."""
    if f.path is None:
        raise ValueError(f"{f.table}: no file to read columns from")
    if f.fmt == "parquet":
        types = parquet_types(con, f.path)
        f.nested = {c: t for c, t in types.items() if is_nested(t)}
        return list(types)
    present = csv_header(f.path)
    check_distinct_columns(f.path, present)
    return present


NESTED_TYPE_IDS = ("list", "array", "struct", "map", "union")
# list elements with one unambiguous text form (a modifier 50 stored as a number is "50")
TEXT_ELEMENT_TYPE_IDS = (
    "varchar",
    *("tinyint", "smallint", "integer", "bigint", "hugeint"),
    *("utinyint", "usmallint", "uinteger", "ubigint", "uhugeint"),
)


def is_nested(column_type: duckdb.typing.DuckDBPyType) -> bool:
    """A list, array, struct, map or union type: not a value that has one text form."""
    return column_type.id in NESTED_TYPE_IDS


def is_list_of_text(column_type: duckdb.typing.DuckDBPyType) -> bool:
    """A list or array of text or whole numbers: each element is one code (a modifier)."""
    if column_type.id not in ("list", "array"):
        return False
    child = dict(column_type.children)["child"]
    return child.id in TEXT_ELEMENT_TYPE_IDS


def nested_column_error(path: Path, column: str, column_type: object) -> InputError:
    """One line naming the file, the column and its type: a nested value is never cast to its
    text form (a list of modifiers would become the one 'modifier' `[Q1]`)."""
    return InputError(
        f"{path.name}: column {column!r} has the nested type {column_type} (a list, struct, map "
        "or union); the audit reads it only as text (write it as a text column)"
    )


def parquet_types(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, object]:
    """Column name -> DuckDB type of a Parquet file, by the names the file itself stores
    (DuckDB renames the second of two names that differ only by case: refused here instead)."""
    try:
        relation = con.read_parquet(str(path))
        schema = con.execute(
            "SELECT name, num_children FROM parquet_schema($path)", {"path": str(path)}
        ).fetchall()
    except duckdb.Error as exc:
        raise InputError(read_error(path, exc)) from None
    check_distinct_columns(path, _top_level_names(schema))
    return dict(zip(relation.columns, relation.types, strict=True))


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


def check_distinct_columns(path: Path, names: list[str]) -> None:
    """Two column names that are the same without regard to letter case (`PATIENT_ID` next to
    `patient_id`) stop the run naming both: SQL, and so DuckDB, cannot tell them apart, and
    picking one would be a guess."""
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


def check_columns(table: str, f: InputFile, present: list[str]) -> None:
    spec = CANONICAL[table]
    if f.path is None:
        raise ValueError(f"{table}: no file to check columns of")
    for column in spec["required_columns"]:
        if column not in present:
            hint = get_close_matches(column, present, n=1)
            extra = f" (found {hint[0]!r}; column names are exact)" if hint else ""
            raise InputError(f"{f.path.name}: required column {column!r} missing{extra}")
    for group in spec["one_of"]:
        if not any(c in present for c in group):
            raise InputError(f"{f.path.name}: needs at least one of the columns {', '.join(group)}")
    for column in spec["columns"]:
        if column in f.nested and not (
            column in LIST_COLUMNS.get(table, ()) and is_list_of_text(f.nested[column])
        ):
            raise nested_column_error(f.path, column, f.nested[column])


def _select_column(f: InputFile, column: str, present: list[str]) -> str:
    """How one canonical column is read: as stored, as null when the file lacks it, and a
    Parquet list of modifiers as the comma-joined text a CSV cell would hold."""
    if column not in present:
        return f'CAST(NULL AS VARCHAR) AS "{column}"'
    if column in f.nested:  # a list of text (check_columns refused every other nested type)
        return f'ARRAY_TO_STRING("{column}", \',\') AS "{column}"'
    return f'"{column}"'


def load_inputs(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, InputFile]:
    """Create one DuckDB table ``input_<table>`` per canonical table, with ``src_row``.

    Every canonical column exists in the result (null when the file lacks it), so the SQL steps
    never depend on which optional columns an extract happens to carry.
    """
    files = find_input_files(folder)
    # check every file's columns before reading any data: a bad run writes nothing
    present_by_table: dict[str, list[str]] = {}
    for table, f in files.items():
        if f.path is not None:
            present = _file_columns(con, f)
            check_columns(table, f, present)
            present_by_table[table] = present
    con.execute("CREATE OR REPLACE TABLE input_files (table_name VARCHAR, file_name VARCHAR)")
    for table, f in files.items():
        spec = CANONICAL[table]
        columns = spec["columns"]
        present = present_by_table.get(table, [])
        f.columns_used = [c for c in columns if c in present]
        f.extra_columns = [c for c in present if c not in columns]
        con.execute(
            "INSERT INTO input_files VALUES ($t, $f)",
            {"t": table, "f": f.path.name if f.path else f"{table} (absent)"},
        )
        if f.path is None:
            cols = ", ".join(f'"{c}" VARCHAR' for c in columns)
            con.execute(f"CREATE OR REPLACE TABLE input_{table} (src_row BIGINT, {cols})")
            continue
        select = ", ".join(_select_column(f, c, present) for c in columns)
        try:
            if f.fmt == "parquet":
                # read in place: a view over the file, never a copy (issue 5: bounded memory)
                relation = con.read_parquet(str(f.path), file_row_number=True).project(
                    f"file_row_number + 1 AS src_row, {select}"
                )
                relation.create_view(f"input_{table}", replace=True)
                # S608: table from CANONICAL (allow-list)
                f.rows = con.execute(f"SELECT COUNT(*) FROM input_{table}").fetchone()[0]  # noqa: S608
            else:
                # CSV has no row numbers of its own: a copy read in file order keeps them
                con.execute(
                    # S608: table from CANONICAL; columns from its allow-list; path bound
                    f"CREATE OR REPLACE TABLE raw_{table} AS SELECT {select} FROM {_reader(f.fmt)}",  # noqa: S608
                    {"path": str(f.path), "columns": {c: "VARCHAR" for c in present}},
                )
                # the header is row 1, so the first record is row 2
                con.execute(
                    # S608: table and columns from CANONICAL (allow-list)
                    f"CREATE OR REPLACE VIEW input_{table} AS SELECT rowid + 2 AS src_row, "  # noqa: S608
                    + ", ".join(f'"{c}"' for c in columns)
                    + f" FROM raw_{table}"
                )
                # S608: table from CANONICAL (allow-list)
                f.rows = con.execute(f"SELECT COUNT(*) FROM raw_{table}").fetchone()[0]  # noqa: S608
        except duckdb.Error as exc:
            raise InputError(read_error(f.path, exc)) from None
        f.sha256 = sha256(f.path)
    return files
