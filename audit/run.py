"""One audit run: inputs and pack in, sessions, quarantine, manifest and reports out.

Outputs are written to a temporary folder beside the output folder and moved into place at the
end, so a failed run never leaves a half-written report that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from audit import __version__
from audit.adapters import AdapterResult, load_adapter
from audit.config import Settings
from audit.errors import ConfigError, PackError
from audit.gate import (
    CHECKS,
    Check,
    GateResult,
    gate_html_context,
    run_gate,
    write_gate_outputs,
)
from audit.inputs import first_line
from audit.pack import Finding, Pack, definition_check, load_pack, resolve_pack
from audit.pipeline import (
    STEPS,
    PipelineResult,
    load_settings_tables,
    run_steps,
    step_parameters,
)
from audit.publish import INTERNAL, SHAREABLE, OutputFolder
from audit.safe import FORMULA_START

# sessions.parquet, in this column order (measure spec 5: the first twelve are the contract)
SESSION_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "site_id",
    "session_date",
    "family",
    "region",
    "pain_types",
    "outcome",
    "reason",
    "recommendation",
    "codes",
    "allowed_amount",
    "age",
    "rule",
    "line_count",
    "merged_families",
    "indication_codes",
    "has_trial_modifier",
    "has_trial_diagnosis",
    "exclusion_code",
    "exclusion_date",
    "chronic_evidence_code",
    "chronic_evidence_date",
    "history_start",
)
SESSION_ORDER = "site_id, session_date, patient_id, family"
QUARANTINE_COLUMNS = ("table_name", "file_name", "row_number", "column_name", "reason", "value")
MANIFEST_NAME = "manifest.json"  # internal/ (full) and shareable/ (public)
# rows of one line (the items of a FHIR claim) are ordered by what they say
QUARANTINE_ORDER = "table_name, row_number, file_name, column_name, reason, value"


@dataclass
class RunResult:
    out_dir: Path
    sessions: int
    outcomes: dict[str, int]
    quarantined: int
    findings: list[Finding]  # the pack's definition check, then run warnings (the CLI prints them)
    pipeline: PipelineResult
    manifest: dict[str, Any] = field(default_factory=dict)


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the run's resource settings.

    Memory is bounded by default (Settings.memory_limit): past it DuckDB spills to a folder that
    it creates on demand and removes when the connection closes — by default a fresh name in the
    system temporary folder, so nothing is left in the working folder.
    """
    config: dict[str, Any] = {
        "preserve_insertion_order": True,
        "temp_directory": settings.temp_dir
        or os.path.join(tempfile.gettempdir(), f"spine-audit-spill-{uuid.uuid4().hex}"),
    }
    if settings.memory_limit:
        config["memory_limit"] = settings.memory_limit
    if settings.threads:
        config["threads"] = settings.threads
    try:
        con = duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:  # a memory limit too small to start (audit.failures says so)
        raise ConfigError(f"invalid resource setting: {first_line(exc)}") from None
    con.execute("SET enable_progress_bar = false")  # our own progress display is on stderr
    # Tables live in an in-memory database that compresses them when checkpointed (run_steps
    # checkpoints once they grow large): at 100M input rows the intermediate tables would
    # otherwise outgrow the memory limit and spill to disk.
    try:
        con.execute("ATTACH ':memory:' AS audit_db (COMPRESS)")
        con.execute("USE audit_db")
    except duckdb.Error:  # a DuckDB without the option: the same results, more spilling
        pass
    return con


def _csv_safe_sql(column: str) -> str:
    starts = ", ".join(
        f"'{c}'" if c not in ("\t", "\r") else f"CHR({ord(c)})" for c in FORMULA_START
    )
    return (
        f"CASE WHEN LEFT(CAST({column} AS VARCHAR), 1) IN ({starts}) "
        f"THEN '''' || CAST({column} AS VARCHAR) ELSE CAST({column} AS VARCHAR) END AS {column}"
    )


def _write_csv(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    text_columns: tuple[str, ...],
    path: Path,
    order: str,
) -> None:
    select = ", ".join(_csv_safe_sql(c) if c in text_columns else c for c in columns)
    con.execute(
        # S608: table, columns and order are module constants
        f"COPY (SELECT {select} FROM {table} ORDER BY {order}) TO $p (FORMAT csv, HEADER true)",  # noqa: S608
        {"p": str(path)},
    )


def _reconciliation(con: duckdb.DuckDBPyConnection, table_rows: dict[str, int]) -> dict[str, Any]:
    """Per canonical table: rows read = counted + not counting by status + quarantined."""
    rows = con.execute(
        "SELECT table_name, disposition, detail, row_count FROM input_reconciliation"
    ).fetchall()
    out: dict[str, Any] = {}
    for table, n_rows in table_rows.items():
        entry: dict[str, Any] = {
            "input_rows": n_rows,
            "counted": {},
            "not_counting_status": {},
            "quarantined": {},
        }
        for t, disposition, detail, n in rows:
            if t == table:
                entry[disposition][detail if detail is not None else "(blank)"] = n
        total = sum(
            sum(entry[k].values()) for k in ("counted", "not_counting_status", "quarantined")
        )
        entry["accounted_rows"] = total
        entry["balanced"] = total == n_rows
        out[table] = entry
    return out


# An extract with more than this share of its diagnoses in code systems without verified value
# sets is warned about: the pack cannot see most of its spine-pain visits and indications.
CODING_WARNING_SHARE = 0.5


def _diagnosis_coding(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """How much of the extract's diagnoses the pack's value sets can see, per code system
    (diagnosis_coding), and a warning when most diagnoses are in a code system whose value sets
    are missing, provisional or partial: the in-population count is then undercounted."""
    rows = con.execute(
        "SELECT code_system, diagnoses, matched_diagnoses, value_sets, value_sets_with_codes, "
        "value_sets_defined FROM diagnosis_coding"
    ).fetchall()
    systems = [
        {
            "code_system": system,
            "diagnoses": int(n),
            "matched_diagnoses": int(matched),
            "matched_share": round(matched / n, 4) if n else None,
            "value_sets": status,
            "value_sets_with_codes": int(with_codes),
            "value_sets_defined": int(defined),
        }
        for system, n, matched, status, with_codes, defined in rows
    ]
    total = sum(s["diagnoses"] for s in systems)
    weak = [s for s in systems if s["value_sets"] != "verified"]
    share = round(sum(s["diagnoses"] for s in weak) / total, 4) if total else None
    warning = None
    if share is not None and share > CODING_WARNING_SHARE:
        named = "; ".join(
            f"{s['code_system']}: {_share_text(s['diagnoses'] / total)} of diagnoses, "
            f"{_share_text(s['matched_share'] or 0)} of them matched, "
            + (
                "no value sets in the pack"
                if s["value_sets"] == "none"
                else f"{s['value_sets_with_codes']} of {s['value_sets_defined']} value sets, "
                "provisional"
            )
            for s in weak
        )
        warning = (
            f"{_share_text(share)} of the diagnoses are in code systems without verified value "
            f"sets ({named}). Spine-pain visits, indications and exclusions coded there are "
            "missed, so the in-population count is undercounted."
        )
    return {
        "code_systems": systems,
        "share_without_verified_value_sets": share,
        "undercount_warning": warning,
    }


def _share_text(share: float) -> str:
    return f"{share * 100:.0f}%" if share >= 0.01 or share == 0 else "<1%"


def _frames(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return {
        "site_period_counts": con.execute("SELECT * FROM site_period_counts").df(),
        "site_outcome_counts": con.execute("SELECT * FROM site_outcome_counts").df(),
        "site_attrition": con.execute("SELECT * FROM site_attrition ORDER BY site_id, step").df(),
        "recommendations": con.execute(
            "SELECT r.recommendation_id, r.pain_type, r.family, r.summary, "
            "d.label AS family_label FROM pack_recommendations AS r "
            "LEFT JOIN pack_value_set_definitions AS d ON d.value_set = r.family "
            "ORDER BY r.recommendation_id, r.family"
        ).df(),
    }


@dataclass
class Classified:
    """A DuckDB connection holding every step's table, with what went into it."""

    con: duckdb.DuckDBPyConnection
    pack: Pack
    adapted: AdapterResult
    findings: list[Finding]
    pipeline: PipelineResult


def check_period(settings: Settings, period_from: date | None, period_to: date | None) -> None:
    """An audit period that can hold no session is a mistake in the options, not an audit."""
    if period_from and period_to and period_from > period_to:
        raise ConfigError(f"--from {period_from} is after --to {period_to}")
    as_of = settings.resolved_as_of()
    if period_from and period_from > as_of:
        raise ConfigError(
            f"--from {period_from} is after the as-of date {as_of} (--as-of; dates after it are "
            "impossible): the audit period would hold no session"
        )


def classify(
    input_dir: Path,
    settings: Settings,
    period_from: date | None = None,
    period_to: date | None = None,
    on_step: Callable[[int, int, str, float], None] | None = None,
    fmt: str | None = None,
    profile_dir: Path | None = None,
) -> Classified:
    """Load the pack and the inputs (canonical, or through an adapter: claims, omop, fhir;
    None detects) and run every SQL step; write nothing (but DuckDB's profile of each step into
    ``profile_dir`` when given: benchmarks/profile_steps.py)."""
    check_period(settings, period_from, period_to)
    pack: Pack = resolve_pack(settings.pack)
    con = connect(settings)
    try:
        load_pack(con, pack)
        findings = definition_check(con)
        errors = [f for f in findings if f.level == "error"]
        if errors:
            raise PackError(
                f"pack {pack.name}: {errors[0].message}"
                + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
            )
        load_settings_tables(con, settings)
        adapted = load_adapter(con, Path(input_dir), fmt, settings.omop_site_fallback)
        params = step_parameters(settings, pack, period_from, period_to)
        pipeline = run_steps(con, params, on_step=on_step, profile_dir=profile_dir)
    except BaseException:
        con.close()
        raise
    return Classified(con=con, pack=pack, adapted=adapted, findings=findings, pipeline=pipeline)


def worker_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second handle on the same database, for a thread of its own: the same tables (the
    cursor starts in the default catalog, so it is pointed at the one the steps wrote)."""
    database = con.execute("SELECT current_database()").fetchone()[0]
    cursor = con.cursor()
    cursor.execute("SET enable_progress_bar = false")
    cursor.execute(f'USE "{database}"')  # an identifier, from DuckDB itself: not a value
    return cursor


class BackgroundGate:
    """The data-quality gate, started on a thread of its own with its own cursor."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        on_step: Callable[[int, int, str, float], None] | None = None,
        checks: Sequence[Check] = CHECKS,
    ) -> None:
        self._on_step = on_step
        self._stop = threading.Event()
        self._seconds = 0.0
        self._reported = False
        self._con = worker_cursor(con)
        try:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spine-audit-gate")
            self._future = self._pool.submit(self._run, checks)
        except BaseException:
            self._con.close()
            raise

    def _run(self, checks: Sequence[Check]) -> GateResult:
        started = time.perf_counter()

        def stop_between_checks(*_: Any) -> None:
            if self._stop.is_set():
                raise GateStopped

        try:
            return run_gate(self._con, checks=checks, on_check=stop_between_checks)
        finally:
            self._seconds = time.perf_counter() - started

    def result(self) -> GateResult:
        """Wait for the gate; raise DataQualityError (exit 2) when an error-level check fails."""
        result = self._future.result()
        if self._on_step is not None and not self._reported:
            self._reported = True  # index 0: a stage outside the numbered steps
            self._on_step(0, len(STEPS), f"gate ({len(result.checks)} checks)", self._seconds)
        result.raise_for_errors()
        return result

    def close(self) -> None:
        """Stop a gate still running (the run failed or was interrupted) and free its cursor.

        DuckDB drops an interrupt that arrives between two queries, so the gate also stops at
        the next check, and the interrupt is repeated until the thread has ended."""
        self._stop.set()
        while not self._future.done():
            self._con.interrupt()
            wait([self._future], timeout=0.05)
        self._pool.shutdown(wait=True)
        self._con.close()


class GateStopped(Exception):
    """Raised in the gate's thread, between two checks, once the run no longer wants it."""


def run_audit(
    input_dir: Path,
    out_dir: Path,
    settings: Settings,
    period_from: date | None = None,
    period_to: date | None = None,
    on_step: Callable[[int, int, str, float], None] | None = None,
    fmt: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> RunResult:
    """Run the whole audit; raise a UserError for anything the user can fix.

    ``--out`` is checked before any work (audit.publish): a folder that is the input, holds
    it, lies inside it or holds files spine-audit did not write is refused. The outputs are
    written into a temporary folder beside it and moved into place at the end.

    The data-quality gate (DuckDB work) runs on a thread of its own while this thread writes
    the outputs (mostly Python: disclosure control and the HTML pages), so the two overlap
    instead of queueing. Only the index page, the gate's files and the manifest wait for the
    gate; when it fails (an error-level check), the half-written folder is removed and
    nothing is published, as if the gate had run first.
    """
    check_period(settings, period_from, period_to)  # before any work, as --out
    with OutputFolder(Path(out_dir), inputs=(Path(input_dir),), warn=warn) as folder:
        classified = classify(input_dir, settings, period_from, period_to, on_step, fmt)
        gate: BackgroundGate | None = None
        try:
            gate = BackgroundGate(classified.con, on_step)
            started = time.perf_counter()
            result = _write_outputs(
                classified.con,
                folder,
                classified.adapted,
                settings,
                classified.pack,
                classified.findings,
                classified.pipeline,
                period_from,
                period_to,
                gate.result,
            )
            result.out_dir = folder.publish(result.manifest["run_id"])
            if on_step is not None:
                on_step(0, len(STEPS), "outputs and reports", time.perf_counter() - started)
            return result
        finally:
            if gate is not None:
                gate.close()
            classified.con.close()


def run_id(manifest: dict[str, Any]) -> str:
    """A run's identity: a digest of what decides its outputs (tool and pack versions, settings,
    period, input format, and every input file's name and SHA-256). The same inputs and
    settings give the same id, so reruns stay byte-identical; any change gives another."""
    decisive = {
        k: manifest[k] for k in ("tool", "measure", "pack", "settings", "period", "input_format")
    }
    decisive["inputs"] = [(f.get("file"), f.get("sha256")) for f in manifest["inputs"]]
    text = json.dumps(decisive, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _write_outputs(
    con: duckdb.DuckDBPyConnection,
    folder: OutputFolder,
    adapted: AdapterResult,
    settings: Settings,
    pack: Pack,
    findings: list[Finding],
    pipeline: PipelineResult,
    period_from: date | None,
    period_to: date | None,
    gate: Callable[[], GateResult],
) -> RunResult:
    """Write every output into the temporary ``folder``: the reports into ``shareable/``, the
    row-level files and the full manifest into ``internal/``, the landing page on top. ``gate``
    waits for the data-quality gate and is called only once everything that does not need it
    is written."""
    internal = folder.internal
    con.execute(
        # S608: columns and order are module constants; path bound
        f"COPY (SELECT {', '.join(SESSION_COLUMNS)} FROM session_outcomes "  # noqa: S608
        f"ORDER BY {SESSION_ORDER}) TO $p (FORMAT parquet, COMPRESSION zstd)",
        {"p": str(internal / "sessions.parquet")},
    )
    (internal / "quarantine").mkdir()
    text = ("table_name", "file_name", "column_name", "reason", "value")
    _write_csv(
        con,
        "quarantine",
        QUARANTINE_COLUMNS,
        text,
        internal / "quarantine" / "quarantine.csv",
        QUARANTINE_ORDER,
    )
    _write_csv(
        con,
        "value_issues",
        QUARANTINE_COLUMNS,
        text,
        internal / "quarantine" / "value_issues.csv",
        QUARANTINE_ORDER,
    )

    reconciliation = _reconciliation(con, adapted.table_rows)
    unbalanced = [t for t, r in reconciliation.items() if not r["balanced"]]
    if unbalanced:  # a bug, never the user's input: fail loudly rather than publish
        raise RuntimeError(f"reconciliation does not balance for {', '.join(unbalanced)}")
    outcomes = dict(
        con.execute(
            "SELECT outcome, COUNT(*) FROM session_outcomes GROUP BY outcome ORDER BY outcome"
        ).fetchall()
    )
    reasons = dict(
        con.execute(
            "SELECT COALESCE(reason, recommendation, outcome), COUNT(*) FROM session_outcomes "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
    )
    data_quality = [
        {"check": c, "domain": d, "code": code, "rows": n}
        for c, d, code, n in con.execute(
            "SELECT check_name, domain, code, row_count FROM data_quality"
        ).fetchall()
    ]
    coding = _diagnosis_coding(con)
    start, end = con.execute("SELECT period_start, period_end FROM audit_period").fetchone()
    quarantined = con.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
    value_issues = con.execute("SELECT COUNT(*) FROM value_issues").fetchone()[0]
    sessions = con.execute("SELECT COUNT(*) FROM session_outcomes").fetchone()[0]
    diagnoses_with_site = con.execute(
        "SELECT COUNT(*) FROM value_set_diagnoses WHERE role = 'pain_type' AND site_id IS NOT NULL"
    ).fetchone()[0]

    context: dict[str, Any] = {
        "tool_version": __version__,
        "pack": pack.manifest(),
        "guideline": pack.guideline(),
        "settings": settings.to_manifest(),
        "period_from": period_from.isoformat() if period_from else None,
        "period_to": period_to.isoformat() if period_to else None,
        "period_start": start.isoformat() if start else None,
        "period_end": end.isoformat() if end else None,
        "diagnoses_have_site_ids": diagnoses_with_site > 0,
        "data_quality": data_quality,
        "reconciliation": reconciliation,
        "generated_from": [e["file"] for e in adapted.files if e.get("file")],
        "site_sources": adapted.notes.get("site_sources"),
        "input_format": adapted.fmt,
        "input_file_formats": sorted({str(e["format"]) for e in adapted.files if e.get("format")}),
        "coding_warning": coding["undercount_warning"],
    }
    from audit.report import write_aggregate_outputs  # imported late: heavier dependencies

    write_aggregate_outputs(
        folder.shareable, _frames(con), context, late_checks=lambda: gate_html_context(gate())
    )
    gate_result = gate()
    write_gate_outputs(internal, gate_result)
    manifest = {
        "tool": {"name": "spine-audit", "version": __version__},
        "measure": pack.measure_spec,
        "pack": pack.manifest(),
        "settings": settings.to_manifest(),
        "period": {
            "from": context["period_from"],
            "to": context["period_to"],
            "first_day": context["period_start"],
            "last_day": context["period_end"],
        },
        "input_format": adapted.fmt,
        "inputs": adapted.files,
        "adapter_dispositions": adapted.dispositions,
        **adapted.notes,  # site_sources (OMOP), ndjson_files_not_read (FHIR): when there are
        "reconciliation": reconciliation,
        "quarantined_rows": quarantined,
        "value_issues": value_issues,
        "definition_check": [f.as_dict() for f in findings],
        "data_quality": data_quality,
        "data_quality_gate": gate_result.manifest(),
        "diagnosis_coding": coding,
        "results": {
            "sessions": sessions,
            "sessions_by_outcome": outcomes,
            "sessions_by_reason_or_recommendation": reasons,
            "diagnoses_have_site_ids": context["diagnoses_have_site_ids"],
        },
    }
    rid = run_id(manifest)
    manifest = {"tool": manifest.pop("tool"), "run_id": rid, **manifest}
    write_landing_page(folder.tmp, folder.files(), manifest["run_id"], settings.suppression)
    manifest["outputs"] = [*folder.files(), f"{INTERNAL}/{MANIFEST_NAME}"]
    (internal / MANIFEST_NAME).write_text(
        json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )
    warnings = [Finding("warning", "diagnosis_coding", coding["undercount_warning"])]
    return RunResult(
        out_dir=folder.tmp,
        sessions=sessions,
        outcomes=outcomes,
        quarantined=quarantined,
        findings=findings + (warnings if coding["undercount_warning"] else []),
        pipeline=pipeline,
        manifest=manifest,
    )


def write_landing_page(root: Path, files: list[str], run: str, suppression: str) -> Path:
    """``index.html`` on top of the output folder: what each sub-folder holds and which one may
    be shared. It names files and folders only, and links to the shareable reports alone."""
    from audit.report import environment

    def entries(sub: str) -> list[str]:
        names = {
            f.split("/")[1] + ("/" if f.count("/") > 1 else "")
            for f in files
            if f.startswith(f"{sub}/")
        }
        return sorted(names)

    html = (
        environment()
        .get_template("landing.html.j2")
        .render(
            tool_version=__version__,
            run_id=run,
            suppression=f"profile {suppression}",
            shareable=entries(SHAREABLE),
            internal=sorted({*entries(INTERNAL), MANIFEST_NAME}),
        )
    )
    path = root / "index.html"
    path.write_text(html, encoding="utf-8", newline="")
    return path
