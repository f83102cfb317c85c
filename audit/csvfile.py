"""The one CSV writer of the tool's row-level files, with spreadsheet formula escaping.

A text cell that a spreadsheet would run as a formula gets a leading ``'`` (privacy.md): the
files are opened in spreadsheets by analysts, and a cell starting with ``=`` could run. Cells
are written as DuckDB's COPY writes them: a missing value (NULL, NaN) as nothing, an empty text
as ``""``, a cell holding a comma, a quote or a line break in quotes (quotes doubled).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# CSV text cells starting with one of these are run as formulas by spreadsheets
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTES = (",", '"', "\n", "\r")


def csv_safe(text: str) -> str:
    """Prefix ``'`` to a string cell a spreadsheet would run as a formula."""
    return "'" + text if text[:1] in FORMULA_START else text


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def csv_cell(value: Any) -> str:
    """One cell: text formula-escaped and quoted where needed; a number as Python writes it."""
    if _missing(value):
        return ""
    if isinstance(value, str):
        text = csv_safe(value)
        if text == "" or any(c in text for c in _NEEDS_QUOTES):
            return '"' + text.replace('"', '""') + '"'
        return text
    return str(value)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write ``header`` and ``rows`` to ``path`` (UTF-8, ``\\n`` line ends); the rows written."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(csv_cell(h) for h in header) + "\n")
        for row in rows:
            fh.write(",".join(csv_cell(v) for v in row) + "\n")
            count += 1
    return count
