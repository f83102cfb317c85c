"""FHIR R4 bulk-export adapter: Patient, Encounter, Condition, Procedure, ExplanationOfBenefit
(CARIN Blue Button), Coverage and Organization NDJSON files onto the canonical model.

EHR vendors export clinical resources (Encounter, Condition, Procedure); payers export claims as
ExplanationOfBenefit. Each file is read line by line with DuckDB, so every resource keeps its
line number for the quarantine and a malformed line is accounted for instead of stopping or
vanishing; each line is parsed with DuckDB's JSON reader (``from_json``) into just the fields
the audit uses. All mapping is SQL (sql/adapters/fhir/).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import duckdb

from audit.adapters._common import (
    AdapterResult,
    Source,
    Staged,
    account,
    find_file,
    list_folder,
    run_adapter_steps,
)
from audit.errors import InputError
from audit.inputs import first_line, sha256

NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz")
_LINE_DELIMITER = "\x01"  # never in a valid JSON text: a whole line is one value
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

# the order of the SQL steps in sql/adapters/fhir/ is the order of their dependencies
STEPS: tuple[str, ...] = (
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


def stage_ndjson(con: duckdb.DuckDBPyConnection, source: Source, path: Path | None) -> Staged:
    """Stage one NDJSON file as adapter_src_<key>(src_row, valid_json, r): src_row is the line
    number (blank lines are skipped but keep the numbering), r the parsed fields (null for a
    line that is not valid JSON)."""
    staged = Staged(source=source, path=path)
    structure = json.dumps(STRUCTURES[source.key])
    if path is None:
        if source.required:
            raise InputError(f"required input file missing: {source.stems[0]}.ndjson")
        con.execute(
            f"CREATE OR REPLACE TABLE adapter_src_{source.key} AS SELECT "
            "CAST(NULL AS BIGINT) AS src_row, CAST(NULL AS BOOLEAN) AS valid_json, "
            "from_json('{}', $structure) AS r WHERE FALSE",
            {"structure": structure},
        )
        return staged
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE adapter_lines_{source.key} AS SELECT line "
            "FROM read_csv($path, columns = {'line': 'VARCHAR'}, header = false, "
            "delim = $delim, quote = '', escape = '', auto_detect = false, "
            "max_line_size = $max_line)",
            {"path": str(path), "delim": _LINE_DELIMITER, "max_line": _MAX_LINE_BYTES},
        )
        con.execute(
            f"CREATE OR REPLACE TABLE adapter_src_{source.key} AS "
            "SELECT CAST(rowid + 1 AS BIGINT) AS src_row, json_valid(line) AS valid_json, "
            "from_json(CASE WHEN json_valid(line) THEN line END, $structure) AS r "
            f"FROM adapter_lines_{source.key} "
            "WHERE NULLIF(TRIM(line), '') IS NOT NULL ORDER BY src_row",
            {"structure": structure},
        )
    except duckdb.Error as exc:
        raise InputError(f"{path.name}: cannot read file: {first_line(exc)}") from None
    con.execute(f"DROP TABLE adapter_lines_{source.key}")
    staged.fmt = "ndjson"
    staged.rows = con.execute(f"SELECT COUNT(*) FROM adapter_src_{source.key}").fetchone()[0]
    staged.sha256 = sha256(path)
    staged.columns_used = _paths(STRUCTURES[source.key])
    return staged


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


def load(con: duckdb.DuckDBPyConnection, folder: Path) -> AdapterResult:
    """Stage the NDJSON files of a bulk export, map them onto the canonical input_* relations
    and account for every line (every item, for ExplanationOfBenefit)."""
    started = time.perf_counter()
    folder = Path(folder)
    listing = list_folder(folder)
    staged = [
        stage_ndjson(con, s, find_file(folder, listing, s.stems, NDJSON_SUFFIXES)) for s in SOURCES
    ]
    present = {s.source.key for s in staged if s.path is not None}
    if not present & {"condition", "procedure", "eob"}:
        raise InputError(
            f"{folder}: no Condition.ndjson, Procedure.ndjson or ExplanationOfBenefit.ndjson"
        )
    run_adapter_steps(con, "fhir", STEPS)
    return account(con, "fhir", staged, started)
