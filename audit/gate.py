"""The data-quality gate: checks run on the inputs, judged as the engine reads them (issue 4,
item 2); an error stops the run before anything is published.

Checks come in the three kinds of OHDSI's DataQualityDashboard (Kahn et al. 2016):
conformance (values have the form and relations the model demands), completeness (values are
present) and plausibility (values are believable). Each check is one SQL file in
``sql/checks/<name>.sql``: a single SELECT returning the OFFENDING rows as ``table_name,
row_number, column_name, value, detail``, under a header::

    -- check: <name>                    (the file's stem)
    -- kind: conformance|completeness|plausibility
    -- severity: error|warn
    -- threshold: <fraction>            (optional: error only above this share of a table's rows)
    -- tables: <input tables it judges> (the denominators of the threshold)
    -- description: <what it means and what to do; continued on "--   " lines>
    -- hint: <optional: the likely fix, added to the run's one-line error>

The checks read the relations of the engine's steps up to ``procedures_summary`` (``input_*``,
``*_checked``, ``*_kept``, ``value_set_codes``, ``near_miss_codes``, ``run_settings``), so they
judge values exactly as the engine normalised them. An ``error`` stops the run; a ``warn`` goes
to the report. Errors are meant to be rare and unmistakable (most of a table unreadable, claims
shared by patients).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from audit.adapters import load_adapter
from audit.config import Settings
from audit.csvfile import write_csv
from audit.engine import Engine
from audit.engines import EngineChoice, open_engine
from audit.errors import UserError
from audit.lookups import load_pack_tables, load_settings_tables
from audit.pack import resolve_pack
from audit.pipeline import STEPS, run_steps, step_parameters
from audit.progress import OnStep, StepDone
from audit.resources import sql_dir
from audit.steps import steps_needed, tables_read

KINDS: tuple[str, ...] = ("conformance", "completeness", "plausibility")
SEVERITIES: tuple[str, ...] = ("error", "warn")
# the tables a check may judge: the canonical input tables (audit.inputs.CANONICAL)
INPUT_TABLES: tuple[str, ...] = ("patients", "diagnoses", "procedures", "coverage", "sites")
RESULT_COLUMNS: tuple[str, ...] = ("table_name", "row_number", "column_name", "value", "detail")
# A check with at most this many findings runs once (they are held in a temporary table).
HELD_FINDINGS = 100_000
# printed values of these columns are reduced to their shape (digits -> 9, letters -> X): the
# console summary names no patient, claim or exact date (privacy.md, identifiers)
_IDENTIFYING = re.compile(r"^(patient_id|source_id|provider_id)$|(^|_)date$")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_HEADER = re.compile(r"^--\s*([a-z_]+):\s*(.*?)\s*$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*?)\s*$")


class DataQualityError(UserError):
    """The gate found an error-severity problem: the run stops and publishes nothing (exit 2)."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        names = ", ".join(c.name for c in result.errors)
        as_of = result.as_of_date.isoformat() if result.as_of_date else "today"
        hints = [c.check.hint.replace("{as_of_date}", as_of) for c in result.errors if c.check.hint]
        super().__init__(
            f"data-quality gate: {len(result.errors)} error(s) ({names}); "
            + "".join(f"{h}; " for h in hints[:1])
            + "run `spine-audit validate INPUT` for details"
        )


@dataclass(frozen=True)
class Check:
    """One check as declared by its SQL file's header."""

    name: str
    kind: str
    severity: str
    threshold: float | None
    tables: tuple[str, ...]
    description: str
    path: Path
    # what the user most likely has to change, when one cause is typical ({as_of_date} is filled)
    hint: str | None = None

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def parse_header(text: str, path: Path) -> Check:
    """The declared fields of a check; a ValueError names the file for a malformed header."""
    fields: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _HEADER.match(line)
        if match and (last != "description" or not _CONTINUATION.match(line)):
            last = match.group(1)
            if last in fields:
                raise ValueError(f"{path.name}: header field {last!r} given twice")
            fields[last] = match.group(2)
            continue
        cont = _CONTINUATION.match(line)
        if cont and last == "description":
            fields["description"] += " " + cont.group(1)
        else:
            last = None  # free comment after the header fields
    missing = [k for k in ("check", "kind", "severity", "tables", "description") if k not in fields]
    if missing:
        raise ValueError(f"{path.name}: header lacks {', '.join(missing)}")
    if fields["check"] != path.stem:
        raise ValueError(f"{path.name}: header names check {fields['check']!r}")
    if fields["kind"] not in KINDS:
        raise ValueError(f"{path.name}: kind {fields['kind']!r} is not one of {KINDS}")
    if fields["severity"] not in SEVERITIES:
        raise ValueError(f"{path.name}: severity {fields['severity']!r} is not one of {SEVERITIES}")
    threshold: float | None = None
    if fields.get("threshold"):
        try:
            threshold = float(fields["threshold"])
        except ValueError:
            raise ValueError(
                f"{path.name}: threshold {fields['threshold']!r} is no number"
            ) from None
        if not 0 <= threshold < 1:
            raise ValueError(f"{path.name}: threshold must be a fraction in [0, 1)")
    tables = tuple(t.strip() for t in fields["tables"].split(",") if t.strip())
    unknown = [t for t in tables if t not in INPUT_TABLES]
    if not tables or unknown:
        raise ValueError(f"{path.name}: tables must name input tables {INPUT_TABLES}")
    return Check(
        name=fields["check"],
        kind=fields["kind"],
        severity=fields["severity"],
        threshold=threshold,
        tables=tables,
        description=fields["description"],
        path=path,
        hint=fields.get("hint") or None,
    )


def checks_dir() -> Path:
    """Folder holding the check SQL files (``sql/checks``; ``audit/_sql/checks`` in a wheel)."""
    return sql_dir() / "checks"


def discover_checks(folder: Path | None = None) -> tuple[Check, ...]:
    """Every check in the folder, by kind (conformance, completeness, plausibility), then name."""
    folder = folder or checks_dir()
    checks = [parse_header(p.read_text(encoding="utf-8"), p) for p in folder.glob("*.sql")]
    return tuple(sorted(checks, key=lambda c: (KINDS.index(c.kind), c.name)))


CHECKS: tuple[Check, ...] = discover_checks()


@dataclass
class CheckResult:
    """What one check found. ``severity`` is the decided one: the declared severity, lowered to
    ``warn`` when a threshold is not passed; None when nothing offends."""

    check: Check
    severity: str | None
    findings: int  # result rows (one per offending cell: a row may offend twice)
    offending_rows: int  # distinct offending input rows, over the check's tables
    table_rows: int  # rows of the check's tables
    by_table: dict[str, tuple[int, int]]  # table -> (offending rows, rows)
    sample: pd.DataFrame  # up to limit_rows findings, ordered by table and row
    seconds: float = 0.0
    # the file of each sample row where its table's rows come from several (input_row_sources)
    sample_files: list[str | None] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.check.name

    @property
    def kind(self) -> str:
        return self.check.kind

    @property
    def status(self) -> str:
        return self.severity or "pass"

    @property
    def share(self) -> float | None:
        """Offending rows over the rows of the check's tables (None when they have no rows)."""
        return self.offending_rows / self.table_rows if self.table_rows else None

    def worst_table(self) -> tuple[str, float] | None:
        """The table with the largest share of offending rows (what the threshold is held to)."""
        shares = [(t, o / n) for t, (o, n) in self.by_table.items() if n and o]
        return max(shares, key=lambda s: (s[1], s[0])) if shares else None

    def record(self) -> dict[str, Any]:
        """The one serialisation of a check's result: counts and declarations, no values and no
        identifiers. checks.csv, the manifest and the report each take their keys from it."""
        worst = self.worst_table()
        return {
            "check": self.name,
            "kind": self.kind,
            "declared_severity": self.check.severity,
            "threshold": self.check.threshold,
            "status": self.status,
            "offending_rows": self.offending_rows,
            "findings": self.findings,
            "table_rows": self.table_rows,
            "share": None if self.share is None else round(self.share, 6),
            "worst_table": worst[0] if worst else None,
            "worst_share": round(worst[1], 6) if worst else None,
            "tables": list(self.check.tables),
            "description": self.check.description,
            "by_table": {
                t: {"offending_rows": o, "rows": n} for t, (o, n) in self.by_table.items()
            },
        }


@dataclass
class GateResult:
    """Every check's result, in CHECKS order."""

    checks: list[CheckResult]
    as_of_date: date | None = None
    file_names: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[CheckResult]:
        return [c for c in self.checks if c.severity == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.severity == "warn"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def __getitem__(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def raise_for_errors(self) -> None:
        """Raise DataQualityError when any check decided ``error``."""
        if self.errors:
            raise DataQualityError(self)

    def summary_lines(self) -> list[str]:
        """A readable summary for the console: one line per check that found something, errors
        first, with one example; identifiers and exact dates appear only as their shape."""
        passed = len(self.checks) - len(self.errors) - len(self.warnings)
        head = (
            f"data-quality gate: {len(self.checks)} checks, {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s), {passed} passed"
        )
        if self.as_of_date:
            head += f" (as-of date {self.as_of_date.isoformat()})"
        lines = [head]
        for result in self.errors + self.warnings:
            lines.append(self._line(result))
        return lines

    def _line(self, r: CheckResult) -> str:
        label = "ERROR" if r.severity == "error" else "warn "
        parts = []
        for table, (offending, rows) in r.by_table.items():
            if offending:
                parts.append(f"{table} {offending:,} of {rows:,} rows ({_pct(offending / rows)})")
        text = f"{label} {r.name} ({r.kind}): " + "; ".join(parts)
        if r.check.threshold is not None and r.check.severity == "error":
            verb = "above" if r.severity == "error" else "within"
            text += f" - {verb} the error threshold {_pct(r.check.threshold)}"
        if len(r.sample):
            first = r.sample.iloc[0]
            where = self._file_of(r, 0)
            text += f"; e.g. {where} row {int(first['row_number'])}"
            if _present(first["column_name"]):
                text += f", {first['column_name']}"
                if _present(first["value"]):
                    text += f" {_shown(str(first['column_name']), str(first['value']))!r}"
            if _present(first["detail"]):
                detail = str(first["detail"])
                if _IDENTIFYING.search(str(first["column_name"])):
                    detail = _ISO_DATE.sub("9999-99-99", detail)  # e.g. the patient's birth
                text += f": {detail}"
        return text

    def digest(self) -> str:
        """An id for this result (what a validation's output folder is named by): a digest of
        its per-check counts, so the same extract gives the same id."""
        text = json.dumps(self.manifest(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def _file_of(self, result: CheckResult, index: int) -> str:
        """The file sample row ``index`` came from: its own (input_row_sources), else its
        table's."""
        if index < len(result.sample_files) and result.sample_files[index]:
            return str(result.sample_files[index])
        table = str(result.sample.iloc[index]["table_name"])
        return self.file_names.get(table, table)

    def to_frame(self) -> pd.DataFrame:
        """One row per check (data_quality/checks.csv)."""
        rows = [
            {**r, "tables": ",".join(r["tables"])} for r in map(CheckResult.record, self.checks)
        ]
        return pd.DataFrame(rows, columns=_CHECK_COLUMNS)

    def offending_frame(self) -> pd.DataFrame:
        """The samples of every check (data_quality/offending_rows.csv)."""
        frames = []
        for r in self.checks:
            if len(r.sample):
                frame = r.sample.copy()
                frame.insert(0, "check", r.name)
                frame.insert(1, "severity", r.status)
                files = [self._file_of(r, i) for i in range(len(frame))]
                frame.insert(3, "file_name", files)
                frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=_OFFENDING_COLUMNS)
        return pd.concat(frames, ignore_index=True)[list(_OFFENDING_COLUMNS)]

    def manifest(self) -> list[dict[str, Any]]:
        """The per-check list for manifest.json (counts only: no values, no identifiers)."""
        return [{k: r[k] for k in _MANIFEST_KEYS} for r in map(CheckResult.record, self.checks)]


_MANIFEST_KEYS = (
    "check",
    "kind",
    "declared_severity",
    "threshold",
    "status",
    "offending_rows",
    "findings",
    "by_table",
)
_CHECK_COLUMNS = (
    "check",
    "kind",
    "declared_severity",
    "threshold",
    "status",
    "offending_rows",
    "findings",
    "table_rows",
    "share",
    "worst_table",
    "worst_share",
    "tables",
    "description",
)
_OFFENDING_COLUMNS = (
    "check",
    "severity",
    "table_name",
    "file_name",
    "row_number",
    "column_name",
    "value",
    "detail",
)


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%" if share >= 0.001 or share == 0 else "<0.1%"


def _present(value: Any) -> bool:
    return not pd.isna(value) and str(value) != ""


def _shown(column: str, value: str) -> str:
    """A value fit for the console: identifiers and dates reduced to their shape, in any
    script: every digit becomes 9 and every letter (with its combining marks) X, so a
    Cyrillic, CJK or Arabic-Indic identifier is masked like an ASCII one."""
    if _IDENTIFYING.search(column):
        return "".join(_shape(ch) for ch in value)
    return value


def _shape(ch: str) -> str:
    category = unicodedata.category(ch)
    if category[0] == "N":  # digits of any script, full-width ones, numerals, fractions
        return "9"
    if category[0] in ("L", "M"):  # letters of any script and the marks that join them
        return "X"
    return ch


def _table_rows(engine: Engine, tables: Iterable[str]) -> dict[str, int]:
    rows = {}
    for table in tables:
        if table not in INPUT_TABLES:  # names from the allow-list only (kept under python -O)
            raise ValueError(f"not an input table: {table!r}")
        rows[table] = engine.row_count(f"input_{table}")
    return rows


def _file_names(engine: Engine) -> dict[str, str]:
    if not engine.has_table("input_files"):
        return {}
    return dict(engine.rows("SELECT table_name, file_name FROM input_files"))


# A threshold is a share of a table's rows: below this many rows a share says little (one bad
# coverage row of two is 50%), and a small extract with planted faults must still be audited.
MIN_ROWS_FOR_ERROR = 100


def _decide(check: Check, by_table: dict[str, tuple[int, int]]) -> str | None:
    if not any(o for o, _ in by_table.values()):
        return None
    if check.severity == "warn" or check.threshold is None:
        return check.severity
    over = any(n >= MIN_ROWS_FOR_ERROR and o / n > check.threshold for o, n in by_table.values())
    return "error" if over else "warn"


def run_check(
    engine: Engine, check: Check, table_rows: dict[str, int], limit_rows: int
) -> CheckResult:
    """Run one check: counts per table in one pass, then (only when something offends) the first
    ``limit_rows`` findings by table and row. An SQL failure is a bug: raised, naming the check."""
    sql = check.sql
    columns = ", ".join(RESULT_COLUMNS)
    started = time.perf_counter()
    try:
        # One run of the check when its findings are few: held in a temporary table, counted and
        # listed from there. With more than HELD_FINDINGS the table stops filling and the check
        # runs again for the counts and the first findings (memory stays bounded).
        engine.run_step(
            "gate_findings",
            # S608: the check's SQL ships with the tool; columns from RESULT_COLUMNS; cap bound
            f"SELECT {columns} FROM (\n{sql}\n) AS offending LIMIT $cap",  # noqa: S608
            {"cap": HELD_FINDINGS + 1},
            kind="temp",
        )
        held = engine.row_count("gate_findings")
        source = "gate_findings" if held <= HELD_FINDINGS else f"(\n{sql}\n)"
        counts = engine.rows(
            # S608: source is one of two fixed names (the held findings or the check's own SQL)
            "SELECT table_name, COUNT(*), COUNT(DISTINCT row_number) "  # noqa: S608
            f"FROM {source} AS offending GROUP BY table_name"
        )
        findings = sum(n for _, n, _ in counts)
        if findings and limit_rows > 0:
            # a row's file and line where its row_number is a key (input_row_sources: FHIR)
            sample = engine.frame(
                # S608: source is one of two fixed names; values bound
                "SELECT o.table_name, COALESCE(s.line_number, o.row_number) AS row_number, "  # noqa: S608
                "o.column_name, o.value, o.detail, s.file_name AS source_file "
                f"FROM {source} AS o LEFT JOIN input_row_sources AS s "
                "ON s.table_name = o.table_name AND s.src_row = o.row_number "
                "ORDER BY o.table_name, o.row_number, o.column_name, o.value, o.detail LIMIT $n",
                {"n": limit_rows},
            )
        else:
            sample = pd.DataFrame(columns=[*RESULT_COLUMNS, "source_file"])
        sample_files = [None if pd.isna(f) else str(f) for f in sample.pop("source_file")]
    except Exception as exc:  # the engine's error, with the check named (the cause chained)
        raise RuntimeError(f"data-quality check {check.name} failed: {exc}") from exc
    finally:
        engine.drop("gate_findings")
    strays = sorted({str(t) for t, _, _ in counts} - set(check.tables))
    if strays:
        raise RuntimeError(f"check {check.name} reports tables {strays} not in its header")
    offending = {str(t): int(o) for t, _, o in counts}
    by_table = {t: (offending.get(t, 0), table_rows[t]) for t in check.tables}
    return CheckResult(
        check=check,
        severity=_decide(check, by_table),
        findings=int(findings),
        offending_rows=sum(o for o, _ in by_table.values()),
        table_rows=sum(n for _, n in by_table.values()),
        by_table=by_table,
        sample=sample,
        seconds=time.perf_counter() - started,
        sample_files=sample_files,
    )


def run_gate(
    engine: Engine,
    limit_rows: int = 1000,
    checks: Sequence[Check] = CHECKS,
    on_check: Callable[[int, int, str, float], None] | None = None,
) -> GateResult:
    """Run every check on an engine where the steps the checks need (gate_steps) have run
    (classify() or validate()); write nothing, raise nothing for what the data holds.
    ``on_check(number, total, name, seconds)`` after each check (number 1-based)."""
    rows = _table_rows(engine, INPUT_TABLES)
    as_of = engine.rows("SELECT MAX(as_of_date) FROM run_settings")[0][0]
    results = []
    for number, check in enumerate(checks, start=1):
        result = run_check(engine, check, rows, limit_rows)
        results.append(result)
        if on_check is not None:
            on_check(number, len(checks), check.name, result.seconds)
    return GateResult(checks=results, as_of_date=as_of, file_names=_file_names(engine))


class GateStopped(Exception):
    """Raised in the gate's thread, between two checks, once the run no longer wants it."""


class BackgroundGate:
    """The data-quality gate, started on a thread of its own with its own engine handle
    (Engine.worker), so it overlaps with the writing of the outputs."""

    def __init__(
        self,
        engine: Engine,
        on_step: OnStep | None = None,
        checks: Sequence[Check] = CHECKS,
    ) -> None:
        self._on_step = on_step
        self._stop = threading.Event()
        self._seconds = 0.0
        self._reported = False
        self._engine = engine.worker()
        try:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spine-audit-gate")
            self._future = self._pool.submit(self._run, checks)
        except BaseException:
            self._engine.close()
            raise

    def _run(self, checks: Sequence[Check]) -> GateResult:
        started = time.perf_counter()

        def stop_between_checks(*_: Any) -> None:
            if self._stop.is_set():
                raise GateStopped

        try:
            return run_gate(self._engine, checks=checks, on_check=stop_between_checks)
        finally:
            self._seconds = time.perf_counter() - started

    def result(self) -> GateResult:
        """Wait for the gate; raise DataQualityError (exit 2) when an error-level check fails."""
        result = self._future.result()
        if self._on_step is not None and not self._reported:
            self._reported = True
            self._on_step(
                StepDone(f"gate ({len(result.checks)} checks)", self._seconds, len(STEPS))
            )
        result.raise_for_errors()
        return result

    def close(self) -> None:
        """Stop a gate still running (the run failed or was interrupted) and free its handle.

        DuckDB drops an interrupt that arrives between two queries, so the gate also stops at
        the next check, and the interrupt is repeated until the thread has ended."""
        self._stop.set()
        while not self._future.done():
            self._engine.interrupt()
            wait([self._future], timeout=0.05)
        self._pool.shutdown(wait=True)
        self._engine.close()


def gate_steps(checks: tuple[Check, ...] = CHECKS) -> tuple[str, ...]:
    """The engine's steps the checks need: those producing a table a check reads and the steps
    those read, in run order (derived from the SQL, audit/steps.py; nothing kept by hand)."""
    reads: set[str] = set()
    for check in checks:
        reads |= tables_read(check.path.read_text(encoding="utf-8"))
    return steps_needed(reads)


def validate(
    input_dir: Path,
    settings: Settings,
    limit_rows: int = 1000,
    fmt: str | None = None,
    engine: EngineChoice = "duckdb",
    spark_master: str | None = None,
) -> GateResult:
    """``spine-audit validate INPUT``: load pack and inputs (``fmt``: canonical, claims, omop,
    fhir; None detects, as ``run --format``), run the engine's steps the checks need and then
    the gate; classify nothing, write nothing."""
    pack = resolve_pack(settings.pack)
    engine = open_engine(engine, settings, spark_master=spark_master)
    try:
        load_pack_tables(engine, pack)
        load_settings_tables(engine, settings)
        load_adapter(engine, Path(input_dir), fmt, settings.omop_site_fallback)
        run_steps(engine, step_parameters(settings, pack, None, None), steps=gate_steps())
        return run_gate(engine, limit_rows)
    finally:
        engine.close()


def write_gate_outputs(out_dir: Path, result: GateResult) -> list[Path]:
    """Write ``data_quality/checks.csv`` (one row per check; counts only) and
    ``data_quality/offending_rows.csv`` (the samples: holds identifiers, like quarantine.csv).
    Returns the paths written."""
    folder = Path(out_dir) / "data_quality"
    folder.mkdir(parents=True, exist_ok=True)
    checks_path = folder / "checks.csv"
    rows_path = folder / "offending_rows.csv"
    for frame, path in ((result.to_frame(), checks_path), (result.offending_frame(), rows_path)):
        if "row_number" in frame:
            frame["row_number"] = frame["row_number"].astype("Int64")
        write_csv(path, list(frame.columns), frame.itertuples(index=False, name=None))
    return [checks_path, rows_path]


def gate_html_context(result: GateResult) -> list[dict[str, Any]]:
    """One dict per check for the report's data-quality section, from CheckResult.record.
    Counts are raw: the report passes them through the disclosure profile
    (audit.report._quality_views) and derives any share from the published count. No values,
    no row numbers. The keys check/code/rows/note are those the existing data-quality table
    reads, so the list can extend the context's data_quality rows as is."""
    return [
        {
            "check": r["check"],
            "code": "",
            "rows": r["offending_rows"],
            "note": f"{r['kind']}; {r['status']}",
            "kind": r["kind"],
            "severity": r["status"],
            "declared_severity": r["declared_severity"],
            "threshold": r["threshold"],
            "table_rows": r["table_rows"],
            "tables": r["tables"],
            "description": r["description"],
        }
        for r in map(CheckResult.record, result.checks)
    ]
