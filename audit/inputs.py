"""The canonical input model (measure spec section 2): its tables and columns (the
allow-list every adapter builds), and what every format's reading shares.

The canonical files themselves are read by the fourth adapter, audit.adapters.canonical; the
engine (audit.engine) stages every file with its row number kept, so that any row the SQL
cannot use can be named by file, row and column.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa

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
            "billing_provider_id",
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
ROW_SOURCES_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("src_row", pa.int64()),
        ("file_name", pa.string()),
        ("line_number", pa.int64()),
    ]
)

# columns whose value is a list by meaning: a Parquet list of text is read as that list
# (comma-joined, the form of a CSV cell), never as the text of the list
LIST_COLUMNS: dict[str, tuple[str, ...]] = {"procedures": ("modifiers",)}


def sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks (inputs can be many GB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def nested_column_error(path: Path, column: str, column_type: object) -> InputError:
    """One line naming the file, the column and its type: a nested value is never cast to its
    text form (a list of modifiers would become the one 'modifier' `[Q1]`)."""
    return InputError(
        f"{path.name}: column {column!r} has the nested type {column_type} (a list, struct, map "
        "or union); the audit reads it only as text (write it as a text column)"
    )
