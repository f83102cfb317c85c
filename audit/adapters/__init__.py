"""Input adapters: claims, OMOP CDM and FHIR bulk extracts mapped onto the canonical model.

Analysts rarely hold extracts in the canonical shape (measure spec section 2). An adapter reads
its format's files into DuckDB and builds, with SQL only, the relations the audit engine reads:
``input_<table>`` (``src_row`` = row or line number in the source file, then exactly the
canonical columns) for patients, diagnoses, procedures, sites and coverage, and
``input_files(table_name, file_name)``. Source rows an adapter consumes without producing a
canonical row (superseded claim versions, voids, reversals ...) are returned by reason so the
manifest can reconcile every source row. See docs/inputs-formats.md.
"""

from __future__ import annotations

from pathlib import Path

from audit.adapters._common import AdapterResult
from audit.engine import Engine
from audit.errors import InputError
from audit.finder import DB_SUFFIXES, NDJSON_SUFFIXES, list_folder
from audit.inputs import ROW_SOURCES_SCHEMA

FORMATS: tuple[str, ...] = ("canonical", "claims", "omop", "fhir")

__all__ = ["FORMATS", "AdapterResult", "detect_format", "load_adapter"]


def _signals(path: Path) -> list[str]:
    """Every format whose defining files are in the folder."""
    if path.is_file() and path.name.lower().endswith(DB_SUFFIXES):
        return ["omop"]
    listing = list_folder(path)
    found = []
    # any canonical table is a signal, so a folder missing one of them is reported as such
    if any(listing.has(t) for t in ("patients", "diagnoses", "procedures")):
        found.append("canonical")
    if listing.has("claims"):
        found.append("claims")
    omop_tables = listing.has("person") and (
        listing.has("condition_occurrence") or listing.has("procedure_occurrence")
    )
    omop_database = not found and bool(listing.ending(DB_SUFFIXES))
    if omop_tables or omop_database:
        found.append("omop")
    if listing.ending(NDJSON_SUFFIXES):
        found.append("fhir")
    return found


def detect_format(folder: Path) -> str:
    """The input format of a folder when exactly one format's files are present; otherwise an
    InputError telling the user to pass --format."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(f"{folder}: input folder not found")
    found = _signals(folder)
    if len(found) == 1:
        return found[0]
    choices = "|".join(FORMATS)
    if not found:
        raise InputError(
            f"{folder}: no recognised input files (patients.csv, claims.csv, person.csv, "
            f"*.ndjson ...); pass --format {choices}"
        )
    raise InputError(f"{folder}: input could be {' or '.join(found)}; pass --format {choices}")


def load_adapter(
    engine: Engine,
    folder: Path,
    fmt: str | None = None,
    omop_site_fallback: str | None = None,
) -> AdapterResult:
    """Build input_<table> and input_files in ``engine`` from ``folder`` in format ``fmt``
    (None or "auto": detect): canonical, claims, omop or fhir, each an adapter.
    ``omop_site_fallback`` places OMOP records without a care site (audit.adapters.omop)."""
    folder = Path(folder)
    if fmt in (None, "auto"):
        fmt = detect_format(folder)
    if fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r}; choose one of {', '.join(FORMATS)}")
    result = _load(engine, folder, fmt, omop_site_fallback)
    if not engine.has_table("input_row_sources"):  # empty unless the adapter needed it (FHIR)
        engine.load_table("input_row_sources", ROW_SOURCES_SCHEMA.empty_table())
    return result


def _load(engine: Engine, folder: Path, fmt: str, omop_site_fallback: str | None) -> AdapterResult:
    if fmt == "canonical":
        from audit.adapters import canonical

        return canonical.load(engine, folder)
    if fmt == "claims":
        from audit.adapters import claims

        return claims.load(engine, folder)
    if fmt == "omop":
        from audit.adapters import omop

        return omop.load(engine, folder, omop_site_fallback)
    from audit.adapters import fhir

    return fhir.load(engine, folder)
