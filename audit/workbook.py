"""The workbooks: shareable/spine-audit.xlsx and internal/spine-audit-internal.xlsx.

Why XlsxWriter (pinned in constraints.txt) rather than openpyxl: the tool only writes
workbooks, never reads them; XlsxWriter is write-only, pure Python without dependencies, writes
every cell with an explicit type (``write_string`` never makes a formula, and the workbook is
opened with ``strings_to_formulas`` off besides), and packs the file with fixed zip dates, so
with the document's creation date fixed (:data:`CREATED`) the same sheets give the same bytes.

Formula safety (as audit/csvfile.py for CSV): every text cell is written with ``write_string``,
so a spreadsheet shows ``=1+1`` as text and never runs it; a text starting with one of
:data:`audit.csvfile.FORMULA_START` also gets Excel's quote prefix, so it stays text when a
reader edits the cell or saves the sheet as CSV. Nothing here reads a clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from audit.csvfile import FORMULA_START

# the document's creation and modification date: fixed, so reruns give identical bytes
CREATED = datetime(2000, 1, 1, tzinfo=UTC)
HIDDEN_TEXT = "*"
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_MAX_SHEET_NAME = 31


@dataclass(frozen=True)
class Sheet:
    """One sheet: a title line, a note line (what the sheet holds, how to read it), then a
    table of ``columns`` and ``rows``. Values: text, int, float, bool, date, None (blank) or
    anything whose ``str`` is ``*`` (a hidden count, written as the text ``*``)."""

    name: str
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    note: str = ""


def sheet_name(name: str) -> str:
    """A name Excel accepts: no ``[]:*?/\\``, at most 31 characters, not blank."""
    cleaned = _SHEET_NAME_BAD.sub("-", name).strip("'")[:_MAX_SHEET_NAME]
    return cleaned or "Sheet"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def write_workbook(path: Path, sheets: Sequence[Sheet], title: str) -> Path:
    """Write ``sheets`` into ``path`` (an .xlsx file); the same sheets give the same bytes."""
    book = xlsxwriter.Workbook(
        str(path),
        {
            "in_memory": True,  # fixed zip dates for every part (XlsxWriter's in-memory path)
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    book.set_properties(
        {"title": title, "author": "spine-audit", "created": CREATED, "comments": ""}
    )
    bold = book.add_format({"bold": True})
    heading = book.add_format({"bold": True, "font_size": 13})
    quoted = book.add_format({"quote_prefix": True})
    used: set[str] = set()
    for sheet in sheets:
        name = sheet_name(sheet.name)
        n = 2
        while name.lower() in used:  # Excel compares sheet names without case
            suffix = f" ({n})"
            name = sheet_name(sheet.name)[: _MAX_SHEET_NAME - len(suffix)] + suffix
            n += 1
        used.add(name.lower())
        ws = book.add_worksheet(name)
        ws.write_string(0, 0, sheet.title, heading)
        if sheet.note:
            _text(ws, 1, 0, sheet.note, quoted)
        top = 3
        widths = [min(max(len(str(c)), 8), 60) for c in sheet.columns]
        for j, column in enumerate(sheet.columns):
            ws.write_string(top, j, str(column), bold)
        for i, row in enumerate(sheet.rows, start=top + 1):
            for j, value in enumerate(row):
                shown = _cell(ws, i, j, value, quoted)
                if j < len(widths):
                    widths[j] = min(max(widths[j], len(shown)), 60)
        for j, width in enumerate(widths):
            ws.set_column(j, j, width + 2)
        if sheet.columns:
            ws.freeze_panes(top + 1, 0)
            ws.autofilter(top, 0, top + max(len(sheet.rows), 1), len(sheet.columns) - 1)
    book.close()
    return path


def _text(ws: Any, row: int, col: int, text: str, quoted: Any) -> str:
    if text[:1] in FORMULA_START:
        ws.write_string(row, col, text, quoted)
    else:
        ws.write_string(row, col, text)
    return text


def _cell(ws: Any, row: int, col: int, value: Any, quoted: Any) -> str:
    """Write one value with its own type; return its text (for the column width)."""
    kind = type(value)
    if kind is str:  # the common cases first: a workbook of 20M input rows has ~10^6 cells
        if value[:1] in FORMULA_START:
            ws.write_string(row, col, value, quoted)
        else:
            ws.write_string(row, col, value)
        return value
    if kind is int:
        ws.write_number(row, col, value)
        return str(value)
    if _missing(value):
        ws.write_blank(row, col, None)
        return ""
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
        return "FALSE"
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return _text(ws, row, col, str(value), quoted)
        ws.write_number(row, col, value)
        return f"{value:,}"
    if isinstance(value, datetime | date):
        return _text(ws, row, col, value.isoformat(), quoted)
    if isinstance(value, list | tuple):
        return _text(ws, row, col, "; ".join(str(v) for v in value), quoted)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _cell(ws, row, col, value.item(), quoted)
    return _text(ws, row, col, str(value), quoted)
