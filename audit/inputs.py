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
SUFFIXES = (".csv", ".csv.gz", ".parquet")


@dataclass
class InputFile:
    table: str
    path: Path | None
    fmt: str | None = None
    rows: int = 0
    sha256: str | None = None
    columns_used: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

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
    """Map each canonical table to its file; a missing required table is an InputError."""
    if not folder.is_dir():
        raise InputError(not_a_folder(folder))
    found: dict[str, InputFile] = {}
    for table, spec in CANONICAL.items():
        matches = [folder / f"{table}{s}" for s in SUFFIXES if (folder / f"{table}{s}").is_file()]
        if len(matches) > 1:
            names = " and ".join(m.name for m in matches)
            raise InputError(f"{folder}: both {names} present; keep one file per table")
        if not matches:
            if spec["required"]:
                expected = " or ".join(f"{table}{s}" for s in SUFFIXES)
                raise InputError(f"{folder}: required input file missing: {expected}")
            found[table] = InputFile(table=table, path=None)
            continue
        path = matches[0]
        fmt = "parquet" if path.suffix == ".parquet" else "csv"
        found[table] = InputFile(table=table, path=path, fmt=fmt)
    return found


def _reader(fmt: str) -> str:
    return (
        "read_csv($path, all_varchar = true, header = true, delim = ',', quote = '\"', "
        "escape = '\"', auto_detect = false, columns = $columns)"
    )


def _file_columns(con: duckdb.DuckDBPyConnection, f: InputFile) -> list[str]:
    assert f.path is not None
    try:
        if f.fmt == "parquet":
            desc = con.execute(
                "SELECT * FROM read_parquet($path) LIMIT 0", {"path": str(f.path)}
            ).description
        else:
            return _csv_header(f.path)
    except duckdb.Error as exc:
        raise InputError(read_error(f.path, exc)) from None
    return [d[0] for d in desc]


def _csv_header(path: Path) -> list[str]:
    """The header row, read by Python's csv module: no dialect sniffing, so a malformed data row
    is reported later with its line number instead of as a failed guess."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            first = fh.readline()
        header = next(csv.reader([first.decode("utf-8-sig")]), None)
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: row 1: the header is not UTF-8 text") from None
    except (OSError, EOFError, csv.Error) as exc:
        raise InputError(f"{path.name}: cannot read file: {exc}") from None
    if not header:
        raise InputError(f"{path.name}: the file is empty (a header row is required)")
    return [h.strip() for h in header]


def not_a_folder(folder: Path) -> str:
    """Why ``folder`` cannot be the input folder, in one line."""
    if folder.exists():
        return f"{folder}: is a file, not a folder (INPUT_DIR is the folder holding the extract)"
    return f"{folder}: input folder not found"


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
    assert f.path is not None
    for column in spec["required_columns"]:
        if column not in present:
            hint = get_close_matches(column, present, n=1)
            extra = f" (found {hint[0]!r}; column names are exact)" if hint else ""
            raise InputError(f"{f.path.name}: required column {column!r} missing{extra}")
    for group in spec["one_of"]:
        if not any(c in present for c in group):
            raise InputError(f"{f.path.name}: needs at least one of the columns {', '.join(group)}")


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
        select = ", ".join(
            f'"{c}"' if c in present else f'CAST(NULL AS VARCHAR) AS "{c}"' for c in columns
        )
        try:
            if f.fmt == "parquet":
                # read in place: a view over the file, never a copy (issue 5: bounded memory)
                relation = con.read_parquet(str(f.path), file_row_number=True).project(
                    f"file_row_number + 1 AS src_row, {select}"
                )
                relation.create_view(f"input_{table}", replace=True)
                f.rows = con.execute(f"SELECT COUNT(*) FROM input_{table}").fetchone()[0]
            else:
                # CSV has no row numbers of its own: a copy read in file order keeps them
                con.execute(
                    f"CREATE OR REPLACE TABLE raw_{table} AS SELECT {select} FROM {_reader(f.fmt)}",
                    {"path": str(f.path), "columns": {c: "VARCHAR" for c in present}},
                )
                # the header is row 1, so the first record is row 2
                con.execute(
                    f"CREATE OR REPLACE VIEW input_{table} AS SELECT rowid + 2 AS src_row, "
                    + ", ".join(f'"{c}"' for c in columns)
                    + f" FROM raw_{table}"
                )
                f.rows = con.execute(f"SELECT COUNT(*) FROM raw_{table}").fetchone()[0]
        except duckdb.Error as exc:
            raise InputError(read_error(f.path, exc)) from None
        f.sha256 = sha256(f.path)
    return files
