"""Locate the files that ship with the tool: SQL steps, report templates and guideline packs.

In a built wheel, ``sql/`` and ``reports/`` are packaged as ``audit/_sql`` and
``audit/_reports``; in a source checkout (editable install) they sit next to ``audit/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"none of {', '.join(str(c) for c in candidates)} exists")


def sql_dir() -> Path:
    """Folder holding the SQL steps."""
    return _first_existing(_PACKAGE_DIR / "_sql", _PACKAGE_DIR.parent / "sql")


def reports_dir() -> Path:
    """Folder holding the Jinja2 report templates."""
    return _first_existing(_PACKAGE_DIR / "_reports", _PACKAGE_DIR.parent / "reports")


def packs_dir() -> Path:
    """Folder holding the guideline packs shipped with the tool."""
    return _PACKAGE_DIR / "packs"


def data_dir() -> Path:
    """Folder holding the tool's own reference tables (code systems)."""
    return _PACKAGE_DIR / "data"


def sample_data_dir() -> Path:
    """The committed synthetic sample (a source checkout), or the copy shipped in the wheel."""
    return _first_existing(_PACKAGE_DIR / "_sample_data", _PACKAGE_DIR.parent / "sample_data")
