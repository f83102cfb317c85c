"""The one parse/number step of the FHIR adapter (sql/adapters/fhir/fhir_resource_lines.sql), on
tiny exports: which line of a resource id is kept, and which lines are not JSON or not of the
type they are read as. Every per-type step (fhir_patients ... fhir_organizations) takes its
resource id and these dispositions from it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from audit.adapters import load_adapter
from audit.config import load_settings
from audit.engine import DuckDBEngine
from audit.lookups import load_settings_tables

CONDITION = json.dumps({"resourceType": "Condition", "id": "c1"})


def _export(folder: Path, files: dict[str, list[str]]) -> list[tuple]:
    """Write the files (a Condition file added when none is given: the adapter needs one) and
    return fhir_resource_lines as (key, src_file, src_row, resource_id, disposition)."""
    files = {"Condition.ndjson": [CONDITION], **files}
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    engine = DuckDBEngine(duckdb.connect())
    try:
        load_settings_tables(engine, load_settings())
        load_adapter(engine, folder, "fhir")
        return engine.rows(
            "SELECT key, src_file, src_row, resource_id, disposition FROM fhir_resource_lines "
            "WHERE key <> 'condition' ORDER BY key, src_file, src_row"
        )
    finally:
        engine.close()


def _patient(id_: object, **fields: object) -> str:
    return json.dumps({"resourceType": "Patient", "id": id_, **fields})


def test_the_latest_last_updated_wins_then_the_first_line(tmp_path):
    rows = _export(
        tmp_path,
        {
            "Patient.ndjson": [
                _patient("7", meta={"lastUpdated": "2024-01-01T00:00:00Z"}),
                _patient("7", meta={"lastUpdated": "2025-01-01T00:00:00Z"}),
                _patient("7"),  # no lastUpdated: after every dated version
                _patient("8", meta={"lastUpdated": "2025-01-01T00:00:00Z"}),
                _patient("8", meta={"lastUpdated": "2025-01-01T00:00:00Z"}),
            ]
        },
    )
    assert rows == [
        ("patient", "Patient.ndjson", 1, "7", "duplicate_resource"),
        ("patient", "Patient.ndjson", 2, "7", None),
        ("patient", "Patient.ndjson", 3, "7", "duplicate_resource"),
        ("patient", "Patient.ndjson", 4, "8", None),
        ("patient", "Patient.ndjson", 5, "8", "duplicate_resource"),
    ]


def test_a_duplicate_in_another_part_loses_to_the_first_file_by_name(tmp_path):
    rows = _export(
        tmp_path,
        {"Patient.001.ndjson": [_patient("7")], "Patient.000.ndjson": [_patient("7")]},
    )
    assert rows == [
        ("patient", "Patient.000.ndjson", 1, "7", None),
        ("patient", "Patient.001.ndjson", 1, "7", "duplicate_resource"),
    ]


def test_a_line_that_is_not_json_is_invalid_json(tmp_path):
    rows = _export(tmp_path, {"Patient.ndjson": [_patient("1"), '{"resourceType": "Patient",']})
    assert rows == [
        ("patient", "Patient.ndjson", 1, "1", None),
        ("patient", "Patient.ndjson", 2, None, "invalid_json"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        json.dumps({"resourceType": "Observation", "id": "1"}),
        json.dumps({"id": "1"}),
        json.dumps({"resourceType": "patient", "id": "1"}),
    ],
    ids=["another type", "no type", "type in lower case"],
)
def test_a_line_of_another_type_is_wrong_type_and_no_duplicate_maker(tmp_path, line):
    rows = _export(tmp_path, {"Patient.ndjson": [line, _patient("1")]})
    assert rows == [
        ("patient", "Patient.ndjson", 1, "1", "wrong_resource_type"),
        ("patient", "Patient.ndjson", 2, "1", None),
    ]


def test_blank_ids_are_never_duplicates(tmp_path):
    lines = [_patient(""), _patient("  "), json.dumps({"resourceType": "Patient"})]
    rows = _export(tmp_path, {"Patient.ndjson": lines})
    assert rows == [("patient", "Patient.ndjson", n, None, None) for n in (1, 2, 3)]


def test_a_numeric_id_is_the_same_id_as_its_text(tmp_path):
    rows = _export(tmp_path, {"Patient.ndjson": [_patient(7), _patient("7"), _patient(" 7 ")]})
    assert rows == [
        ("patient", "Patient.ndjson", 1, "7", None),
        ("patient", "Patient.ndjson", 2, "7", "duplicate_resource"),
        ("patient", "Patient.ndjson", 3, "7", "duplicate_resource"),
    ]


def test_one_id_in_two_resource_types_is_two_resources(tmp_path):
    rows = _export(
        tmp_path,
        {
            "Patient.ndjson": [_patient("1")],
            "Encounter.ndjson": [json.dumps({"resourceType": "Encounter", "id": "1"})],
        },
    )
    assert rows == [
        ("encounter", "Encounter.ndjson", 1, "1", None),
        ("patient", "Patient.ndjson", 1, "1", None),
    ]


def test_the_resource_steps_take_id_and_disposition_from_the_shared_step(tmp_path):
    (tmp_path / "Patient.ndjson").write_text(
        "\n".join([_patient(7), _patient("7"), "{bad", _patient("")]) + "\n", encoding="utf-8"
    )
    (tmp_path / "Condition.ndjson").write_text(CONDITION + "\n", encoding="utf-8")
    engine = DuckDBEngine(duckdb.connect())
    try:
        load_settings_tables(engine, load_settings())
        load_adapter(engine, tmp_path, "fhir")
        rows = engine.rows(
            "SELECT p.src_row, p.patient_id, p.disposition, l.resource_id, l.disposition "
            "FROM fhir_patients AS p JOIN fhir_resource_lines AS l ON l.key = 'patient' "
            "AND l.src_file = p.src_file AND l.src_row = p.src_row ORDER BY p.src_row"
        )
    finally:
        engine.close()
    assert rows == [
        (1, "7", None, "7", None),
        (2, "7", "duplicate_resource", "7", "duplicate_resource"),
        (3, None, "invalid_json", None, "invalid_json"),
        (4, None, None, None, None),
    ]
