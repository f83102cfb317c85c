"""FHIR R4 bulk-export adapter: Patient, Encounter, Condition, Procedure, ExplanationOfBenefit
(CARIN Blue Button), Coverage and Organization NDJSON files onto the canonical model.

EHR vendors export clinical resources (Encounter, Condition, Procedure); payers export claims as
ExplanationOfBenefit. Each file is read line by line with DuckDB, so every resource keeps its
line number for the quarantine and a malformed line is accounted for instead of stopping or
vanishing; each line is parsed with DuckDB's JSON reader (``from_json``) into just the fields
the audit uses. All mapping is SQL (sql/adapters/fhir/).

Servers write a resource type in one file or in several (`Patient.000.ndjson`,
`Patient_1.ndjson`, `1.Patient.ndjson`, gzipped or not): every part is read, each line as the
resource type it says it is, and every file is reconciled on its own. Rows keep a key unique in
their canonical table (src_row) and their file and line (input_row_sources).
"""

from __future__ import annotations

import gzip
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from audit.adapters._common import (
    AdapterResult,
    Source,
    Staged,
    account,
    run_adapter_steps,
)
from audit.engine import Engine
from audit.errors import InputError
from audit.finder import NDJSON_SUFFIXES, check_usable, list_folder
from audit.inputs import CANONICAL, sha256

_MAX_LINE_BYTES = 64 * 1024 * 1024

_CODING = [{"system": "VARCHAR", "code": "VARCHAR"}]
_CONCEPT = {"coding": _CODING}
_REFERENCE = {"reference": "VARCHAR", "identifier": {"value": "VARCHAR"}}
_PERIOD = {"start": "VARCHAR", "end": "VARCHAR"}
_BASE = {"resourceType": "VARCHAR", "id": "VARCHAR", "meta": {"lastUpdated": "VARCHAR"}}

# the fields of each resource the SQL reads (DuckDB JSON structures); anything else is ignored
STRUCTURES: dict[str, dict[str, Any]] = {
    "patient": {**_BASE, "birthDate": "VARCHAR", "gender": "VARCHAR"},
    "encounter": {
        **_BASE,
        "status": "VARCHAR",
        "subject": _REFERENCE,
        "period": _PERIOD,
        "serviceProvider": _REFERENCE,
    },
    "condition": {
        **_BASE,
        "subject": _REFERENCE,
        "encounter": _REFERENCE,
        "code": _CONCEPT,
        "recordedDate": "VARCHAR",
        "onsetDateTime": "VARCHAR",
        "verificationStatus": _CONCEPT,
    },
    "procedure": {
        **_BASE,
        "status": "VARCHAR",
        "subject": _REFERENCE,
        "encounter": _REFERENCE,
        "code": _CONCEPT,
        "performedDateTime": "VARCHAR",
        "performedPeriod": _PERIOD,
        "performer": [{"actor": _REFERENCE, "onBehalfOf": _REFERENCE}],
        "location": _REFERENCE,
    },
    "eob": {
        **_BASE,
        "status": "VARCHAR",
        "identifier": [{"type": _CONCEPT, "value": "VARCHAR"}],
        "type": _CONCEPT,
        "patient": _REFERENCE,
        "billablePeriod": _PERIOD,
        "provider": _REFERENCE,
        "facility": _REFERENCE,
        "careTeam": [{"sequence": "VARCHAR", "provider": _REFERENCE, "role": _CONCEPT}],
        "diagnosis": [{"sequence": "VARCHAR", "diagnosisCodeableConcept": _CONCEPT}],
        "item": [
            {
                "sequence": "VARCHAR",
                "revenue": _CONCEPT,
                "productOrService": _CONCEPT,
                "modifier": [_CONCEPT],
                "servicedDate": "VARCHAR",
                "servicedPeriod": _PERIOD,
                "quantity": {"value": "VARCHAR"},
                "adjudication": [
                    {"category": _CONCEPT, "reason": _CONCEPT, "amount": {"value": "VARCHAR"}}
                ],
            }
        ],
        "related": [
            {"relationship": _CONCEPT, "reference": {"value": "VARCHAR"}, "claim": _REFERENCE}
        ],
    },
    "coverage": {**_BASE, "status": "VARCHAR", "beneficiary": _REFERENCE, "period": _PERIOD},
    "organization": {**_BASE, "name": "VARCHAR", "partOf": _REFERENCE},
}

PATIENT = Source(
    key="patient",
    stems=("Patient",),
    columns=(),
    required=True,
    feeds=("patients",),
    reconciles_to="patients",
)
ENCOUNTER = Source(key="encounter", stems=("Encounter",), columns=())
CONDITION = Source(
    key="condition",
    stems=("Condition",),
    columns=(),
    feeds=("diagnoses",),
    reconciles_to="diagnoses",
)
PROCEDURE = Source(
    key="procedure",
    stems=("Procedure",),
    columns=(),
    feeds=("procedures",),
    reconciles_to="procedures",
)
EOB = Source(
    key="eob",
    stems=("ExplanationOfBenefit",),
    columns=(),
    feeds=("procedures", "diagnoses"),
    reconciles_to="procedures",
    unit="item",
)
COVERAGE = Source(
    key="coverage",
    stems=("Coverage",),
    columns=(),
    feeds=("coverage",),
    reconciles_to="coverage",
)
ORGANIZATION = Source(
    key="organization",
    stems=("Organization",),
    columns=(),
    feeds=("sites",),
    reconciles_to="sites",
)
SOURCES = (PATIENT, ENCOUNTER, CONDITION, PROCEDURE, EOB, COVERAGE, ORGANIZATION)

# the order of the SQL steps in sql/adapters/fhir/ is the order of their dependencies;
# fhir_resource_lines parses and numbers every line once (invalid_json, wrong_resource_type,
# duplicate_resource) and the per-type steps join to it
STEPS: tuple[str, ...] = (
    "fhir_resource_lines",
    "fhir_code_systems",
    "fhir_patients",
    "fhir_encounters",
    "fhir_conditions",
    "fhir_procedures",
    "fhir_eob_claims",
    "fhir_eob_items",
    "fhir_eob_diagnoses",
    "fhir_coverages",
    "fhir_organizations",
    "input_patients",
    "input_diagnoses",
    "input_procedures",
    "input_sites",
    "input_coverage",
    "fhir_source_accounting",
)


RESOURCE_TYPES: dict[str, str] = {
    "patient": "Patient",
    "encounter": "Encounter",
    "condition": "Condition",
    "procedure": "Procedure",
    "eob": "ExplanationOfBenefit",
    "coverage": "Coverage",
    "organization": "Organization",
}
_KEY_OF_TYPE = {t.lower(): k for k, t in RESOURCE_TYPES.items()}
_NAME_TOKENS = re.compile(r"[._\-\s]+")


@dataclass(frozen=True)
class Part:
    """One NDJSON file of the export: the resource type it holds (``key``), and how that was
    told (from its name, or from its first line when the name names none of the types read)."""

    path: Path
    key: str | None  # None: a resource type the audit does not read
    resource_type: str | None
    told_by: str  # "name" or "first line"


def _stem(name: str) -> str:
    lower = name.lower()
    for suffix in sorted(NDJSON_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def classify_part(path: Path) -> Part:
    """The resource type of one export file: a part of its name (split at '.', '_', '-' and
    blanks) that is one of the types the audit reads, without regard to case
    (`Patient.ndjson`, `Patient.000.ndjson`, `Patient_1.ndjson`, `1.Patient.ndjson`); when the
    name names none, the resourceType of its first non-blank line. Two types in one name is an
    InputError, as is a file of neither kind whose first line is not JSON."""
    tokens = [t for t in _NAME_TOKENS.split(_stem(path.name)) if t]
    keys = sorted({_KEY_OF_TYPE[t.lower()] for t in tokens if t.lower() in _KEY_OF_TYPE})
    if len(keys) > 1:
        types = " and ".join(RESOURCE_TYPES[k] for k in keys)
        raise InputError(f"{path.name}: the name names two resource types ({types}); rename it")
    if keys:
        return Part(path=path, key=keys[0], resource_type=RESOURCE_TYPES[keys[0]], told_by="name")
    number, line = _first_line(path)
    if line is None:  # an empty file of unknown type holds nothing to read
        return Part(path=path, key=None, resource_type=None, told_by="first line")
    try:
        resource_type = json.loads(line).get("resourceType")
    except (ValueError, AttributeError):
        raise InputError(
            f"{path.name}: line {number}: not a JSON resource, and the file name names no "
            f"resource type (name it <Type>.ndjson, e.g. Patient.ndjson)"
        ) from None
    key = _KEY_OF_TYPE.get(str(resource_type).lower()) if resource_type else None
    return Part(path=path, key=key, resource_type=resource_type, told_by="first line")


def _first_line(path: Path) -> tuple[int, str | None]:
    """The number and text of the first non-blank line (0, None for a file of blank lines)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    return number, line
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot read file: {exc}") from None
    return 0, None


def stage_lines(engine: Engine, parts: list[Part]) -> None:
    """Every non-blank line of every part in one table ``adapter_lines``: src_file, src_row =
    the line number in its file (blank lines keep the numbering), valid_json, and the key of
    the resource type it is read as; ``adapter_files`` (src_file, file_key) the type of each
    file, and ``adapter_resource_types`` (line_type, key) the types read."""
    engine.load_table(
        "adapter_files",
        pa.table(
            {
                "src_file": pa.array([p.path.name for p in parts], pa.string()),
                "file_key": pa.array([p.key for p in parts], pa.string()),
            }
        ),
    )
    selects, params = [], {}
    for i, part in enumerate(parts):
        engine.stage_lines(f"adapter_part_{i}", part.path, _MAX_LINE_BYTES)
        params[f"file_{i}"], params[f"key_{i}"] = part.path.name, part.key
        selects.append(
            # S608: i an int; values bound
            f"SELECT $file_{i} AS src_file, $key_{i} AS file_key, src_row, line "  # noqa: S608
            f"FROM adapter_part_{i}"
        )
    if not selects:
        selects.append(
            "SELECT CAST(NULL AS VARCHAR) AS src_file, CAST(NULL AS VARCHAR) AS file_key, "
            "CAST(NULL AS BIGINT) AS src_row, CAST(NULL AS VARCHAR) AS line WHERE false"
        )
    engine.run_step("adapter_line_parts", " UNION ALL ".join(selects), params)
    for i in range(len(parts)):
        engine.drop(f"adapter_part_{i}")
        engine.drop(f"adapter_part_{i}_raw")
    engine.load_table(
        "adapter_resource_types",
        pa.table(
            {
                "line_type": pa.array(list(RESOURCE_TYPES.values()), pa.string()),
                "key": pa.array(list(RESOURCE_TYPES), pa.string()),
            }
        ),
    )
    # a line whose resourceType is one the audit reads is read as that type, in whatever file;
    # any other line (not JSON, another type, none) stays with its file's type
    engine.run_step(
        "adapter_lines",
        "SELECT l.src_file, l.src_row, l.line, l.valid_json, COALESCE(t.key, l.file_key) AS key "
        "FROM (SELECT src_file, file_key, src_row, line, json_valid(line) AS valid_json, "
        "json_extract_string(CASE WHEN json_valid(line) THEN line END, '$.resourceType') "
        "AS line_type FROM adapter_line_parts WHERE NULLIF(TRIM(line), '') IS NOT NULL) AS l "
        "LEFT JOIN adapter_resource_types AS t ON t.line_type = l.line_type "
        "ORDER BY l.src_file, l.src_row",
    )
    engine.drop("adapter_line_parts")


def stage_ndjson(engine: Engine, source: Source) -> None:
    """Stage the lines read as ``source``'s resource type as adapter_src_<key>(src_file,
    src_row, valid_json, r): r the parsed fields (null for a line that is not valid JSON). A
    line belongs to the type its own resourceType names when the audit reads that type,
    whatever file it is in; a line that is not JSON, or of another type, stays with its file's
    type (where fhir_resource_lines finds it invalid_json / wrong_resource_type)."""
    engine.run_step(
        source.staged_as,
        "SELECT src_file, src_row, valid_json, "
        "from_json(CASE WHEN valid_json THEN line END, $structure) AS r "
        "FROM adapter_lines WHERE key = $key ORDER BY src_file, src_row",
        {"structure": json.dumps(STRUCTURES[source.key]), "key": source.key},
    )


def move_row_sources(engine: Engine) -> None:
    """Move the src_file and src_line columns of the FHIR input_<table> steps into
    input_row_sources (table_name, src_row, file_name, line_number): an input_<table> holds
    exactly the canonical columns, and the quarantine names the file and line of a row."""
    tables = list(CANONICAL)
    parts = " UNION ALL ".join(
        # S608: table from CANONICAL (allow-list), i an int; values bound
        f"SELECT $t{i} AS table_name, src_row, src_file AS file_name, "  # noqa: S608
        f"src_line AS line_number, {i} AS part FROM input_{table}"
        for i, table in enumerate(tables)
    )
    engine.run_step(
        "input_row_sources",
        # S608: parts built from CANONICAL (allow-list); values bound
        "SELECT table_name, CAST(src_row AS BIGINT) AS src_row, "  # noqa: S608
        "CAST(file_name AS VARCHAR) AS file_name, CAST(line_number AS BIGINT) AS line_number "
        f"FROM ({parts}) AS sources ORDER BY part, src_row",
        {f"t{i}": table for i, table in enumerate(tables)},
    )
    for table, spec in CANONICAL.items():
        columns = ", ".join(["src_row", *spec["columns"]])
        # S608: table and columns from CANONICAL (allow-list)
        engine.run_step(f"input_{table}", f"SELECT {columns} FROM input_{table}")  # noqa: S608


def _paths(structure: dict[str, Any], prefix: str = "") -> list[str]:
    """The element paths a structure reads, for the manifest (e.g. item.quantity.value)."""
    out: list[str] = []
    for name, value in structure.items():
        if isinstance(value, list):
            value = value[0]
        if isinstance(value, dict):
            out.extend(_paths(value, f"{prefix}{name}."))
        else:
            out.append(f"{prefix}{name}")
    return out


def load(engine: Engine, folder: Path) -> AdapterResult:
    """Stage the NDJSON files of a bulk export (several files per resource type, in any of the
    names servers give them), map them onto the canonical input_* relations and account for
    every line (every item, for ExplanationOfBenefit) of every file."""
    started = time.perf_counter()
    folder = Path(folder)
    parts = [classify_part(check_usable(p)) for p in list_folder(folder).ending(NDJSON_SUFFIXES)]
    read = [p for p in parts if p.key is not None]
    read.sort(key=lambda p: (list(RESOURCE_TYPES).index(p.key or ""), p.path.name))
    stage_lines(engine, read)
    for source in SOURCES:
        stage_ndjson(engine, source)
    lines = dict(engine.rows("SELECT src_file, COUNT(*) FROM adapter_lines GROUP BY src_file"))
    # a type is present when a file is named for it or some line holds it
    present = {p.key for p in read} | {
        key
        for key, n in engine.rows(
            "SELECT key, COUNT(*) FROM adapter_lines GROUP BY key ORDER BY key"
        )
        if n
    }
    if "patient" not in present:
        raise InputError(f"{folder}: required input file missing: Patient.ndjson")
    if not present & {"condition", "procedure", "eob"}:
        raise InputError(
            f"{folder}: no Condition.ndjson, Procedure.ndjson or ExplanationOfBenefit.ndjson"
        )
    staged = []
    for part in read:
        source = next(s for s in SOURCES if s.key == part.key)
        staged.append(
            Staged(
                source=source,
                path=part.path,
                fmt="ndjson",
                rows=lines.get(part.path.name, 0),
                sha256=sha256(part.path),
                columns_used=_paths(STRUCTURES[source.key]),
                account_key=part.path.name,
            )
        )
    engine.drop("adapter_lines")
    run_adapter_steps(engine, "fhir", STEPS)
    move_row_sources(engine)
    feeds = {RESOURCE_TYPES[s.key]: s.feeds for s in SOURCES}
    result = account(engine, "fhir", staged, started, feeds_of_other_types=feeds)
    not_read = [
        {"file": p.path.name, "resource_type": p.resource_type, "told_by": p.told_by}
        for p in parts
        if p.key is None
    ]
    if not_read:
        result.notes["ndjson_files_not_read"] = not_read
    return result
