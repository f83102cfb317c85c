"""Canonical adapter: files already in the canonical model (measure spec section 2).

The fourth adapter, on the same finder, column resolver and staging as claims, OMOP and FHIR.
Its files need no mapping, so it has no SQL steps: each file is staged directly as
``input_<table>``. Names are exact (``Patient_ID`` is not ``patient_id``: a near miss is named
in the error), values are read as stored (a Parquet date stays a date, read by the steps'
value patterns), a Parquet file is read in place, and a Parquet list of modifiers is read as
the comma-joined text a CSV cell would hold.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from audit.adapters._common import (
    AdapterResult,
    Source,
    check_contract,
    find_source_file,
    plan_file,
    stage_planned,
    table_rows,
    write_input_files,
)
from audit.engine import Engine
from audit.finder import list_folder
from audit.inputs import CANONICAL, LIST_COLUMNS

SOURCES: tuple[Source, ...] = tuple(
    Source(
        key=table,
        stems=(table,),
        columns=spec["columns"],
        required=spec["required"],
        required_columns=spec["required_columns"],
        one_of=spec["one_of"],
        feeds=(table,),
        exact_names=True,
        lists=LIST_COLUMNS.get(table, ()),
        relation=f"input_{table}",
    )
    for table, spec in CANONICAL.items()
)


def load(engine: Engine, folder: Path) -> AdapterResult:
    """Stage one file per canonical table as ``input_<table>``. Every file's columns are
    checked before any data is read (a bad run reads nothing); every canonical column exists
    in the result (null when the file lacks it), so the steps never depend on which optional
    columns an extract carries."""
    started = time.perf_counter()
    listing = list_folder(folder)
    planned = [plan_file(engine, s, find_source_file(listing, s)) for s in SOURCES]
    staged = [stage_planned(engine, p) for p in planned]
    check_contract(engine)
    write_input_files(engine, {s.source.key: [s.path.name] for s in staged if s.path})
    files: list[dict[str, Any]] = [
        {
            "table": s.source.key,
            "file": s.path.name if s.path else None,
            "format": s.fmt,
            "rows": s.rows,
            "sha256": s.sha256,
            "columns_used": s.columns_used,
            "extra_columns_ignored": s.extra_columns,
        }
        for s in staged
    ]
    return AdapterResult(
        files=files,
        dispositions={},
        fmt="canonical",
        table_rows=table_rows(engine),
        seconds=time.perf_counter() - started,
    )
