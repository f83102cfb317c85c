"""Spreadsheet formula injection (privacy.md): one rule for every CSV the tool writes."""

from __future__ import annotations

# CSV text cells starting with one of these are run as formulas by spreadsheets
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Prefix ``'`` to a string cell a spreadsheet would run as a formula."""
    return "'" + text if text[:1] in FORMULA_START else text
