"""Test helpers: inline tables (as in OpenSAFELY's ehrQL spec tests) and an in-process audit.

An inline table is text with a header line and ``|`` between cells; blank cells are empty:

    patients = '''
        patient_id | birth_date
        P1         | 1970-05-01
    '''
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from audit.config import Settings, load_settings
from audit.resources import packs_dir
from audit.run import SESSION_COLUMNS, classify


def parse_table(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of an inline ``|`` table."""
    lines = [line.strip() for line in text.strip("\n").splitlines() if line.strip()]
    if not lines:
        return [], []
    header = [c.strip() for c in lines[0].split("|")]
    rows = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.split("|")]
        if len(cells) != len(header):
            raise ValueError(f"row has {len(cells)} cells, header has {len(header)}: {line!r}")
        rows.append(cells)
    return header, rows


def write_table(path: Path, text: str) -> None:
    header, rows = parse_table(text)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_extract(folder: Path, **tables: str | None) -> Path:
    """Write inline tables as canonical CSV files; an empty procedures/diagnoses table is made
    with its required header when not given."""
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {
        "patients": "patient_id | birth_date",
        "diagnoses": "patient_id | event_date | code | source_id | site_id",
        "procedures": "patient_id | event_date | code | site_id | source_id",
    }
    for name, text in {**defaults, **{k: v for k, v in tables.items() if v is not None}}.items():
        write_table(folder / f"{name}.csv", text)
    return folder


def test_pack(tmp: Path, extra_value_set_rows: Iterable[str] = ()) -> str:
    """A copy of the shipped pack with extra value-set rows (CSV lines of the value-set schema);
    used where the shipped pack has no code for a family (DRG_RF)."""
    target = tmp / "pack"
    if not target.exists():
        shutil.copytree(packs_dir() / "bmj2025_spine", target)
    rows = list(extra_value_set_rows)
    if rows:
        with (target / "valuesets" / "zz_test_rows.csv").open("w", encoding="utf-8") as fh:
            fh.write(
                "value_set,code_system,code,description,region,billable,valid_from,"
                "valid_to,source,confidence\n"
            )
            fh.write("\n".join(rows) + "\n")
    return str(target)


test_pack.__test__ = False  # a helper, not a test, wherever it is imported


def audit_sessions(folder: Path, settings: Settings | None = None, **run: Any) -> list[dict]:
    """Classify an extract in process; the sessions as dicts, in output order."""
    settings = settings or load_settings()
    settings = replace(settings, as_of_date=settings.as_of_date or _fixed_as_of())
    classified = classify(folder, settings, **run)
    try:
        rel = classified.con.execute(
            f"SELECT {', '.join(SESSION_COLUMNS)} FROM session_outcomes "
            "ORDER BY site_id, session_date, patient_id, family"
        )
        names = [d[0] for d in rel.description]
        return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
    finally:
        classified.con.close()


def audit_table(
    folder: Path, table: str, settings: Settings | None = None, **run: Any
) -> list[dict]:
    """Any step table of an in-process run, as dicts."""
    settings = settings or load_settings()
    settings = replace(settings, as_of_date=settings.as_of_date or _fixed_as_of())
    classified = classify(folder, settings, **run)
    try:
        rel = classified.con.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in rel.description]
        return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
    finally:
        classified.con.close()


def _fixed_as_of():
    from datetime import date

    return date(2026, 1, 1)


def outcome(session: dict) -> tuple[str, str | None, str | None]:
    """(outcome, reason, recommendation) of one session."""
    return session["outcome"], session["reason"], session["recommendation"]
