"""``spine-audit export``: a pseudonymised, partitioned research export of a finished run.

Why a module of its own: researchers want the classified sessions as Parquet they can join and
share under a data-use agreement, without the run's raw patient ids. The export reads a run's
``internal/`` outputs and writes (docs/export.md):

* ``sessions/`` and ``patients/``: Parquet, Hive-partitioned by year and month of the exported
  session date; patient ids replaced by HMAC-SHA256 pseudonyms under a secret key of at least
  256 bits given from outside (a file or an environment variable), never written anywhere;
* ``cohort.parquet``/``.csv`` and ``cohort_definition.csv``: an OMOP CDM cohort table of the
  in-population and discordant cohorts, with ``cohort_subjects.parquet`` mapping its subject ids
  to the pseudonyms;
* ``README.md``, ``schema.json``: the data dictionary; ``manifest.json``: the key id, the date
  mode, the source run and every file's SHA-256.

Every column written is on the allow-list ``audit/data/export_schema.json``: a column of the
run's sessions that is not on it, or a step that produces one, fails the export (exit 2).

DuckDB has no HMAC, so pseudonyms are computed in Python once per *distinct* patient id (far
fewer than rows), streamed from DuckDB as Arrow batches, and joined back in DuckDB; all row work
(dates, ages, aggregation, partitioned writing) stays in the SQL of ``sql/export/``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from audit import __version__
from audit.errors import UserError
from audit.publish import DONE, INTERNAL, OutputFolder, read_marker
from audit.resources import data_dir, sql_dir

DATE_MODES = ("month", "shift", "exact")
COHORT_ID_MODES = ("pseudonym", "source")
MIN_KEY_BITS = 256
TOP_AGE = 90  # ages of 90 and over are written as 90 (privacy.md: "90+")
SHIFT_DAYS = 180  # --dates shift moves a patient's dates by 1..180 days, earlier or later
EXPORT_FORMAT = 1
KEY_FILE_MAX_BYTES = 4096
SCHEMA_FILE = "export_schema.json"
COHORTS_FILE = "export_cohorts.csv"
PATIENT_BATCH = 100_000

# Domain-separation labels: one key gives unrelated values for each purpose, and a patient id
# can never make its pseudonym equal the key id.
_PSEUDONYM_LABEL = b"spine-audit/patient-pseudonym/v1\x00"
_SHIFT_LABEL = b"spine-audit/date-shift/v1\x00"
_KEY_ID_LABEL = b"spine-audit/key-id/v1"

_HEX = re.compile(r"[0-9A-Fa-f]+")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")

SESSIONS_FILE = f"{INTERNAL}/sessions.parquet"
MANIFEST_FILE = f"{INTERNAL}/manifest.json"


class ExportError(UserError):
    """The export cannot be made: no or a weak key, a run folder that is not one, a column off
    the allow-list. Exit 2, one line, never the key."""


# --- the key -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportKey:
    """The secret key. Its bytes are never printed (repr hides them) nor written."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) * 8 < MIN_KEY_BITS:
            raise ExportError(
                f"the export key has {len(self.secret) * 8} bits; at least {MIN_KEY_BITS} are "
                "needed (64 hex digits; see docs/export.md)"
            )
        if len(set(self.secret)) == 1:
            raise ExportError("the export key is one byte repeated; use a random key")

    @property
    def key_id(self) -> str:
        """A public name of the key: HMAC-SHA256 of a fixed label under it, first 16 hex digits.
        Equal key ids mean the same key (pseudonyms link); it reveals nothing of the key."""
        return hmac.new(self.secret, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def pseudonym(self, patient_id: str) -> str:
        """HMAC-SHA256 of the patient id under the key, as 64 hex digits."""
        message = _PSEUDONYM_LABEL + patient_id.encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def shift_days(self, patient_id: str) -> int:
        """The patient's date shift for --dates shift: -SHIFT_DAYS..-1 or 1..SHIFT_DAYS days,
        from HMAC-SHA256 under the key (the same in every export with the key; never 0)."""
        digest = hmac.new(self.secret, _SHIFT_LABEL + patient_id.encode("utf-8"), hashlib.sha256)
        n = int.from_bytes(digest.digest()[:8], "big") % (2 * SHIFT_DAYS)
        return n - SHIFT_DAYS if n < SHIFT_DAYS else n - SHIFT_DAYS + 1


def _parse_key(text: bytes, where: str) -> ExportKey:
    """The key from its hex text; the message names ``where`` and never the content."""
    try:
        stripped = text.decode("ascii").strip()
    except UnicodeDecodeError:
        stripped = ""
    if not stripped or not _HEX.fullmatch(stripped) or len(stripped) % 2:
        raise ExportError(
            f"{where}: not a key written as hex digits (make one with: "
            "python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return ExportKey(bytes.fromhex(stripped))


def load_key(
    key_file: Path | None, key_env: str | None, warn: Callable[[str], None] | None = None
) -> ExportKey:
    """The export key from a file or an environment variable; refused when absent or short.

    There is no fallback: a plain hash of a patient id can be reversed by hashing every
    possible id (privacy.md, "Identifiers").
    """
    if key_file is not None and key_env is not None:
        raise ExportError("give the key once: --key-file or --key-env, not both")
    if key_env is not None:
        value = os.environ.get(key_env)
        if not value:
            raise ExportError(f"environment variable {key_env} is not set or is empty")
        return _parse_key(value.encode("utf-8", "replace"), f"environment variable {key_env}")
    if key_file is not None:
        return _read_key_file(key_file, warn)
    raise ExportError(
        "export needs a secret key of at least 256 bits: --key-file FILE or --key-env VAR "
        "(no key, no export: a plain hash of patient ids can be reversed)"
    )


def _read_key_file(key_file: Path, warn: Callable[[str], None] | None) -> ExportKey:
    try:
        info = key_file.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ExportError(f"{key_file}: the key file is not a regular file")
        if info.st_size > KEY_FILE_MAX_BYTES:
            raise ExportError(f"{key_file}: too large for a key file (at most 4 KB)")
        text = key_file.read_bytes()
    except OSError as exc:
        raise ExportError(f"{key_file}: cannot read the key file ({exc.strerror or exc})") from None
    key = _parse_key(text, f"key file {key_file}")
    if warn is not None and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        warn(
            f"warning: key file {key_file} can be read by other users; "
            f"restrict it: chmod 600 {key_file}"
        )
    return key


# --- the allow-list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    """One table of the allow-list: its columns (name -> type) in order, and their metadata."""

    name: str
    files: str
    grain: str
    sorted_by: tuple[str, ...]
    columns: tuple[dict[str, str], ...]
    # columns of the run withheld by design (identifiers): read, never written, each with why
    withheld: tuple[dict[str, str], ...] = ()

    @property
    def types(self) -> dict[str, str]:
        return {c["name"]: c["type"] for c in self.columns}

    @property
    def sources(self) -> set[str]:
        return {c["source"] for c in self.columns if c.get("source")}

    @property
    def withheld_sources(self) -> set[str]:
        return {c["source"] for c in self.withheld}


def load_schema(path: Path | None = None) -> dict[str, TableSpec]:
    """The allow-list (audit/data/export_schema.json), table name -> spec."""
    raw = json.loads((path or data_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    tables: dict[str, TableSpec] = {}
    for t in raw["tables"]:
        for c in t["columns"]:
            if not _NAME.fullmatch(c["name"]):
                raise ValueError(f"export schema: bad column name {c['name']!r}")
        tables[t["name"]] = TableSpec(
            t["name"],
            t["files"],
            t["grain"],
            tuple(t["sorted_by"]),
            tuple(t["columns"]),
            tuple(t.get("withheld", ())),
        )
    return tables


def check_columns(table: str, columns: list[tuple[str, str]], spec: TableSpec) -> None:
    """Fail unless every column is on the allow-list of ``table`` with its listed type."""
    allowed = spec.types
    for name, typ in columns:
        if name not in allowed:
            raise ExportError(
                f"export of {table}: column {name!r} is not on the export allow-list "
                f"(audit/data/{SCHEMA_FILE}); nothing was written"
            )
        if allowed[name] != typ:
            raise ExportError(
                f"export of {table}: column {name!r} is {typ}, the allow-list says "
                f"{allowed[name]}; nothing was written"
            )


# --- the run folder ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRun:
    """A finished run's folder, checked: its marker, its sessions and its manifest."""

    folder: Path
    run_id: str
    manifest: dict[str, Any]

    @property
    def sessions(self) -> Path:
        return self.folder / SESSIONS_FILE

    @property
    def input_format(self) -> str:
        return str(self.manifest.get("input_format", ""))


def open_run(run_dir: Path) -> SourceRun:
    """The run folder, or an ExportError: it must hold a complete spine-audit marker that
    lists internal/sessions.parquet and internal/manifest.json at their present sizes."""
    folder = Path(os.path.abspath(run_dir.expanduser()))
    if not folder.is_dir():
        raise ExportError(f"{folder}: not a folder")
    marker = read_marker(folder)
    if marker is None or marker.get("state") != DONE:
        raise ExportError(
            f"{folder}: not a spine-audit output folder (no valid .spine-audit-output.json); "
            "give the --out folder of a finished run"
        )
    files = marker["files"]
    for rel in (SESSIONS_FILE, MANIFEST_FILE):
        path = folder / rel
        if rel not in files:
            raise ExportError(f"{folder}: the run wrote no {rel} (an older layout?); rerun it")
        if path.is_symlink() or not path.is_file() or path.stat().st_size != files[rel]:
            raise ExportError(f"{path}: changed or missing since the run wrote it; rerun it")
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ExportError(f"{folder / MANIFEST_FILE}: cannot be read ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("run_id") != marker["run_id"]:
        raise ExportError(f"{folder / MANIFEST_FILE}: not the manifest of this run; rerun it")
    return SourceRun(folder, marker["run_id"], manifest)


# --- the export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    export_id: str
    key_id: str
    rows: dict[str, int]
    cohorts: list[dict[str, Any]]


def _read_sql(step: str) -> str:
    return (sql_dir() / "export" / f"{step}.sql").read_text(encoding="utf-8")


def _params(sql: str, values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in sorted(set(_PARAM.findall(sql)))}


def _describe(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {relation}").fetchall()]


def load_cohorts() -> list[dict[str, str]]:
    """The cohort definitions (audit/data/export_cohorts.csv), in id order."""
    with (data_dir() / COHORTS_FILE).open(newline="", encoding="utf-8") as fh:
        return sorted(csv.DictReader(fh), key=lambda r: int(r["cohort_definition_id"]))


def _patient_keys(con: duckdb.DuckDBPyConnection, key: ExportKey) -> pa.Table:
    """Pseudonym and date shift of every distinct patient id, streamed in Arrow batches."""
    reader = con.sql("SELECT DISTINCT patient_id FROM run_sessions ORDER BY patient_id")
    reader = reader.to_arrow_reader(PATIENT_BATCH)
    batches = []
    schema = pa.schema(
        [
            ("patient_id", pa.string()),
            ("patient_pseudonym", pa.string()),
            ("shift_days", pa.int32()),
        ]
    )
    for batch in reader:
        ids = batch.column(0).to_pylist()
        if any(i is None for i in ids):
            raise ExportError("the run's sessions hold a session without a patient_id; rerun it")
        batches.append(
            pa.record_batch(
                [
                    pa.array(ids, pa.string()),
                    pa.array([key.pseudonym(i) for i in ids], pa.string()),
                    pa.array([key.shift_days(i) for i in ids], pa.int32()),
                ],
                schema=schema,
            )
        )
    return pa.Table.from_batches(batches, schema=schema)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_run(
    run_dir: Path,
    out_dir: Path,
    key: ExportKey,
    dates: str = "month",
    cohort_ids: str = "pseudonym",
    warn: Callable[[str], None] | None = None,
    schema: dict[str, TableSpec] | None = None,
) -> ExportResult:
    """Write the export of the run in ``run_dir`` into ``out_dir`` (see the module docstring)."""
    if dates not in DATE_MODES:
        raise ExportError(f"--dates must be one of {', '.join(DATE_MODES)}")
    if cohort_ids not in COHORT_ID_MODES:
        raise ExportError(f"--cohort-ids must be one of {', '.join(COHORT_ID_MODES)}")
    run = open_run(run_dir)
    if cohort_ids == "source":
        if run.input_format != "omop":
            raise ExportError(
                f"--cohort-ids source needs a run of OMOP input (this run read "
                f"{run.input_format or 'an unknown format'}); the default uses pseudonyms"
            )
        if dates != "exact":
            raise ExportError(
                "--cohort-ids source writes person_ids for loading back into the CDM, where "
                "dates must be exact: add --dates exact"
            )
    tables = schema or load_schema()
    cohorts = load_cohorts()
    export_id = hashlib.sha256(
        json.dumps([__version__, EXPORT_FORMAT, run.run_id, key.key_id, dates, cohort_ids]).encode()
    ).hexdigest()[:16]

    with OutputFolder(out_dir, inputs=(run.folder,), warn=warn) as folder:
        con = duckdb.connect(config={"threads": 1, "preserve_insertion_order": True})
        try:
            rows, cohort_counts = _write(
                con, run, key, folder.tmp, tables, cohorts, dates, cohort_ids
            )
        finally:
            con.close()
        written = folder.files()
        _check_written(folder.tmp, written, tables)
        manifest = _manifest(
            run, key, dates, cohort_ids, export_id, rows, cohort_counts, folder.tmp, written
        )
        (folder.tmp / "schema.json").write_text(_json_schema(tables), encoding="utf-8")
        (folder.tmp / "README.md").write_text(_readme(tables, cohorts, manifest), encoding="utf-8")
        (folder.tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        published = folder.publish(export_id)
    return ExportResult(published, export_id, key.key_id, rows, cohort_counts)


def _write(
    con: duckdb.DuckDBPyConnection,
    run: SourceRun,
    key: ExportKey,
    target: Path,
    tables: dict[str, TableSpec],
    cohorts: list[dict[str, str]],
    dates: str,
    cohort_ids: str,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    con.read_parquet(str(run.sessions)).create_view("run_sessions")
    # the allow-list at the door: every column of the run's sessions must be a listed source,
    # or one the list withholds by design (read here, never written)
    sources = tables["sessions"].sources
    for name, _ in _describe(con, "run_sessions"):
        if name not in sources and name not in tables["sessions"].withheld_sources:
            raise ExportError(
                f"{run.sessions}: column {name!r} is not on the export allow-list "
                f"(audit/data/{SCHEMA_FILE}); nothing was written"
            )
    missing = sorted(sources - {n for n, _ in _describe(con, "run_sessions")})
    if missing:
        raise ExportError(f"{run.sessions}: lacks column {missing[0]!r}; rerun the audit")
    _reconcile(con, run)

    keys = _patient_keys(con, key)
    con.register("patient_keys_arrow", keys)
    con.execute("CREATE TABLE patient_keys AS SELECT * FROM patient_keys_arrow")
    con.unregister("patient_keys_arrow")
    del keys
    con.execute("CREATE TABLE cohort_outcomes (cohort_definition_id INTEGER, outcome VARCHAR)")
    for c in cohorts:
        for outcome in c["session_outcomes"].split(";"):
            con.execute(
                "INSERT INTO cohort_outcomes VALUES ($i, $o)",
                {"i": int(c["cohort_definition_id"]), "o": outcome},
            )
    if cohort_ids == "source":
        bad = con.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT patient_id FROM run_sessions) "
            "WHERE TRY_CAST(patient_id AS BIGINT) IS NULL "
            "OR CAST(TRY_CAST(patient_id AS BIGINT) AS VARCHAR) <> patient_id"
        ).fetchone()[0]
        if bad:
            raise ExportError(
                f"--cohort-ids source: {bad} patient ids of the run are not whole numbers as "
                "written (a person_id); use the default --cohort-ids pseudonym"
            )

    values = {"date_mode": dates, "top_age": TOP_AGE, "cohort_ids": cohort_ids}
    rows: dict[str, int] = {}
    for step in ("export_sessions", "export_patients", "export_cohort_subjects", "export_cohort"):
        sql = _read_sql(step)
        con.execute(f"CREATE TABLE {step} AS {sql}", _params(sql, values))
        table = step.removeprefix("export_")
        check_columns(table, _describe(con, step), tables[table])
        count = f"SELECT COUNT(*) FROM {step}"  # noqa: S608 - step: a name of our own list
        rows[table] = con.execute(count).fetchone()[0]
    dup = con.execute(
        "SELECT COUNT(*) - COUNT(DISTINCT (cohort_definition_id, subject_id)) FROM export_cohort"
    ).fetchone()[0]
    if dup:  # two source ids cannot collide (checked above); numbers 1..n cannot either
        raise ExportError("two patients of a cohort got the same subject_id; nothing was written")

    for table in ("sessions", "patients"):
        con.execute(
            f"COPY export_{table} TO $p "
            "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month), "
            "FILENAME_PATTERN 'part-{i}')",
            {"p": str(target / table)},
        )
    copies = [("export_cohort", "cohort.parquet"), ("export_cohort", "cohort.csv")]
    if cohort_ids == "pseudonym":
        copies.append(("export_cohort_subjects", "cohort_subjects.parquet"))
    else:
        rows.pop("cohort_subjects")
    for step, name in copies:
        options = "FORMAT csv, HEADER true" if name.endswith(".csv") else "FORMAT parquet"
        con.execute(f"COPY {step} TO $p ({options})", {"p": str(target / name)})
    _write_definitions(target / "cohort_definition.csv", cohorts, tables["cohort_definition"])
    rows["cohort_definition"] = len(cohorts)

    counts = {
        cid: (subjects, sessions)
        for cid, subjects, sessions in con.execute(
            "SELECT o.cohort_definition_id, COUNT(DISTINCT s.patient_id), COUNT(*) "
            "FROM run_sessions AS s INNER JOIN cohort_outcomes AS o ON o.outcome = s.outcome "
            "GROUP BY o.cohort_definition_id"
        ).fetchall()
    }
    cohort_counts = []
    for c in cohorts:
        cid = int(c["cohort_definition_id"])
        subjects, sessions = counts.get(cid, (0, 0))
        cohort_counts.append(
            {
                "cohort_definition_id": cid,
                "cohort_definition_name": c["cohort_definition_name"],
                "subjects": subjects,
                "sessions": sessions,
            }
        )
    return rows, cohort_counts


def _reconcile(con: duckdb.DuckDBPyConnection, run: SourceRun) -> None:
    """The run's sessions must be those its manifest counted (nothing lost, nothing added)."""
    results = run.manifest.get("results") or {}
    expected = results.get("sessions_by_outcome")
    got = dict(
        con.execute("SELECT outcome, COUNT(*) FROM run_sessions GROUP BY outcome").fetchall()
    )
    if not isinstance(expected, dict) or got != expected:
        raise ExportError(
            f"{run.sessions}: its sessions by outcome do not match the run's manifest; rerun it"
        )


def _write_definitions(path: Path, cohorts: list[dict[str, str]], spec: TableSpec) -> None:
    names = [c["name"] for c in spec.columns]
    check_columns("cohort_definition", [(n, spec.types.get(n, "?")) for n in cohorts[0]], spec)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(cohorts)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _check_written(root: Path, files: list[str], tables: dict[str, TableSpec]) -> None:
    """After writing, read back every data file's columns: each must be on the allow-list of the
    table the file belongs to, and no file may be one the allow-list does not name."""
    known = {"sessions", "patients", "cohort.parquet", "cohort.csv", "cohort_subjects.parquet"}
    known |= {"cohort_definition.csv"}
    con = duckdb.connect()
    try:
        for rel in files:
            top = rel.split("/")[0]
            if top not in known:
                raise ExportError(f"export wrote {rel!r}, which the allow-list does not name")
            table = top.split(".")[0]
            if rel.endswith(".parquet"):
                names = [
                    r[0]
                    for r in con.execute(
                        "DESCRIBE SELECT * FROM read_parquet($p, hive_partitioning = false)",
                        {"p": str(root / rel)},
                    ).fetchall()
                ]
            else:
                with (root / rel).open(newline="", encoding="utf-8") as fh:
                    names = next(csv.reader(fh))
            for name in names:
                if name not in tables[table].types:
                    raise ExportError(
                        f"export wrote column {name!r} in {rel}, which is not on the allow-list"
                    )
    finally:
        con.close()


def _manifest(
    run: SourceRun,
    key: ExportKey,
    dates: str,
    cohort_ids: str,
    export_id: str,
    rows: dict[str, int],
    cohorts: list[dict[str, Any]],
    root: Path,
    files: list[str],
) -> dict[str, Any]:
    pack = run.manifest.get("pack") or {}
    return {
        "tool": {"name": "spine-audit", "version": __version__},
        "export_format": EXPORT_FORMAT,
        "export_id": export_id,
        "source_run": {
            "run_id": run.run_id,
            "input_format": run.input_format,
            "period": run.manifest.get("period"),
            "pack": {"name": pack.get("name"), "version": pack.get("version")},
            "sessions_by_outcome": (run.manifest.get("results") or {}).get("sessions_by_outcome"),
        },
        "key_id": key.key_id,
        "pseudonym": "HMAC-SHA256(key, 'spine-audit/patient-pseudonym/v1' NUL patient_id), hex",
        "key_id_method": "HMAC-SHA256(key, 'spine-audit/key-id/v1'), first 16 hex digits",
        "dates": dates,
        "date_shift_days": [-SHIFT_DAYS, SHIFT_DAYS] if dates == "shift" else None,
        "age_top_code": TOP_AGE,
        "cohort_subject_ids": cohort_ids,
        "rows": dict(sorted(rows.items())),
        "cohorts": cohorts,
        "files": {rel: _sha256(root / rel) for rel in files},
        "personal_data": (
            "Pseudonymised data: still personal data (GDPR) and at best a HIPAA limited data "
            "set when it holds dates; share only under a data-use agreement (docs/export.md)"
        ),
    }


_JSON_TYPES: dict[str, dict[str, Any]] = {
    "VARCHAR": {"type": ["string", "null"]},
    "DATE": {"type": ["string", "null"], "format": "date"},
    "INTEGER": {"type": ["integer", "null"]},
    "BIGINT": {"type": ["integer", "null"]},
    "BOOLEAN": {"type": ["boolean", "null"]},
    "DECIMAL(18,2)": {"type": ["string", "null"], "pattern": r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$"},
    "VARCHAR[]": {"type": ["array", "null"], "items": {"type": "string"}},
}


def _json_schema(tables: dict[str, TableSpec]) -> str:
    """A JSON Schema (2020-12) of one row of each table, from the allow-list."""
    defs = {}
    for t in tables.values():
        defs[t.name] = {
            "title": t.name,
            "description": f"{t.grain}; files: {t.files}; sorted by {', '.join(t.sorted_by)}",
            "type": "object",
            "additionalProperties": False,
            "required": [c["name"] for c in t.columns],
            "properties": {
                c["name"]: {
                    **_JSON_TYPES[c["type"]],
                    "description": c["description"],
                    "x-duckdb-type": c["type"],
                }
                for c in t.columns
            },
        }
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "spine-audit research export",
        "$defs": defs,
    }
    return json.dumps(doc, indent=2) + "\n"


def _readme(
    tables: dict[str, TableSpec], cohorts: list[dict[str, str]], manifest: dict[str, Any]
) -> str:
    dates = {
        "month": "every date is the first day of its month (--dates month)",
        "shift": (
            f"every date of a patient is moved by the same secret number of days, 1 to "
            f"{SHIFT_DAYS} earlier or later, derived from the key (--dates shift): intervals "
            "within a patient are exact, calendar dates are not"
        ),
        "exact": "dates are exact (--dates exact)",
    }[manifest["dates"]]
    lines = [
        "# spine-audit research export",
        "",
        "**This is personal data.** Patient ids are replaced by pseudonyms, but a pseudonymised",
        "extract is still personal data under the GDPR, and with dates it is at best a HIPAA",
        "limited data set. Keep it under a data-use agreement; never publish it.",
        "",
        f"* Source run: `{manifest['source_run']['run_id']}` "
        f"({manifest['source_run']['input_format']} input)",
        f"* Key id: `{manifest['key_id']}`: exports with the same key id share pseudonyms, so "
        "they can be joined on `patient_pseudonym`; exports with different key ids cannot.",
        f"* Dates: {dates}.",
        f"* Ages of {TOP_AGE} and over are written as {TOP_AGE} (meaning {TOP_AGE}+).",
        f"* Cohort subject ids: {manifest['cohort_subject_ids']}.",
        "* Files and their SHA-256: `manifest.json`; a JSON Schema of every table: `schema.json`.",
        "",
        "Read the partitioned tables with DuckDB:",
        "",
        "```sql",
        "SELECT * FROM read_parquet('sessions/*/*/*.parquet', hive_partitioning = true);",
        "```",
        "",
    ]
    for t in tables.values():
        if t.name == "cohort_subjects" and manifest["cohort_subject_ids"] == "source":
            continue
        lines += [
            f"## {t.name}",
            "",
            f"{t.grain}. Files: `{t.files}`. Sorted by {', '.join(t.sorted_by)}.",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        lines += [f"| {c['name']} | {c['type']} | {c['description']} |" for c in t.columns]
        lines.append("")
        if t.withheld:
            lines += ["Not exported, by design:", ""]
            lines += [f"* `{c['source']}`: {c['reason']}" for c in t.withheld]
            lines.append("")
    lines += ["## Cohorts", "", "| id | name | definition |", "|---|---|---|"]
    lines += [
        f"| {c['cohort_definition_id']} | {c['cohort_definition_name']} | "
        f"{c['cohort_definition_description']} |"
        for c in cohorts
    ]
    lines.append("")
    return "\n".join(lines)
