"""The data-quality gate (issue 4, item 2): each check fires on a crafted bad row and stays quiet
on clean data; thresholds turn a warning into an error; outputs are written and safe to open in
a spreadsheet; and, over random extracts, nothing is lost (issue 4, item 3)."""

from __future__ import annotations

import csv
import re
import tempfile
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlglot.errors import ErrorLevel

from audit.config import load_settings
from audit.gate import (
    CHECKS,
    KINDS,
    Check,
    DataQualityError,
    checks_dir,
    discover_checks,
    gate_html_context,
    parse_header,
    run_gate,
    validate,
    write_gate_outputs,
)
from audit.network import check_label
from audit.resources import sample_data_dir
from audit.run import classify
from tests.helpers import write_extract
from tests.test_portability import FORBIDDEN

AS_OF = date(2024, 1, 1)
SETTINGS = replace(load_settings(), as_of_date=AS_OF)

# One extract holding one crafted fault per check (CSV: the header is row 1). The comments at
# the end of each row say which check it is for; EXPECTED lists every (table, row) each check
# must report, no more and no fewer.
PATIENTS = """
patient_id | birth_date | birth_year
P1         | 1970-05-01 |
P2         | 1980-01-01 |
           | 1975-01-01 |
P1         | 1971-01-01 |
P3         | 1990-13-45 |
P4         | 2999-01-01 |
P5         | 1850-01-01 |
P6         | 2000-01-01 |
P7         |            | abc
P8         | 1901-01-01 |
"""
DIAGNOSES = """
patient_id | event_date | code   | code_system | source_id | site_id
P1         | 2023-06-01 | M54.50 |             | C1        | S1
P1         | 2023-06-01 | 722.10 |             | C1        | S1
           | 2023-06-01 | M54.50 |             | C5        | S1
P1         |            | M54.50 |             | C5        | S1
P1         | 2023-06-01 |        |             | C5        | S1
P1         | 2023-02-30 | M54.50 |             | C5        | S1
P1         | 2023-06-01 | M54.50 | ICDX        | C5        | S1
P9         | 2023-06-01 | M54.50 |             | C1        | S1
P1         | 2023-06-01 | M54.50 |             | C5        |
P1         | 2022-06-01 | M54.5  |             | C7        | S1
P6         | 1999-01-01 | M54.50 |             | C8        | S1
P1         | 2025-01-01 | M54.50 |             | C9        | S1
P1         | 2999-01-01 | M54.50 |             | C9        | S1
P1         | 1850-01-01 | M54.50 |             | C9        | S1
P2         | 2023-06-01 | M54.50 |             | C1        | S1
"""
PROCEDURES = """
patient_id | event_date | code  | code_system | site_id | source_id | line_number | units | status
P1         | 2023-06-01 | 62323 |             | S1      | C1        | 1           | 1     | paid
P1         | 2023-06-01 | 62323 |             | S1      | C1        | 1           | 1     | paid
P1         | 2023-06-01 | 62323 |             | S1      | C1        | 1           | 1     | PAID
P1         | 2023-06-01 | 99213 |             | S1      | C2        | 1           | abc   | paid
P1         | 2023-06-01 | 99213 |             |         | C2        | 2           | 1     | paid
P1         | 03/15/2023 | 99213 |             | S1      | C2        | 3           | 1     | paid
P1         | 2023-06-01 | 99213 | XYZ         | S1      | C2        | 4           | 1     | paid
P1         | 2023-06-01 | 99213 |             | S9      | C2        | 5           | 1     | paid
P2         | 2023-06-01 | 62323 |             | S1      | C3        | 1           | 1     | paid
P1         | 2019-06-01 | 62323 |             | S1      | C4        | 1           | 1     | paid
P1         | 2020-06-01 | 62311 |             | S1      | C11       | 1           | 1     | paid
P9         | 2023-06-01 | 62323 |             | S1      | C1        | 1           | 1     | paid
P1         | 2023-06-01 | 62323-50 |          | S1      | C12       | 1           | 1     | paid
"""
COVERAGE = """
patient_id | start_date | end_date
P1         | 2020-01-01 |
P1         | 2023-01-01 | 2022-01-01
P9         | 2020-01-01 |
P1         | 1850-01-01 | 1851-01-01
P1         | 2999-01-01 |
P1         | bad        | 2020-01-01
           | 2020-01-01 |
P1         |            | 2020-01-01
"""
SITES = """
site_id | site_name
S1      | One
S1      | Copy of one
        | Blank
"""
EXPECTED: dict[str, set[tuple[str, int]]] = {
    "required_fields": {
        ("patients", 4),
        ("diagnoses", 4),
        ("diagnoses", 5),
        ("diagnoses", 6),
        ("procedures", 6),
        ("coverage", 8),
        ("coverage", 9),
        ("sites", 4),
    },
    "date_parse": {
        ("patients", 6),
        ("patients", 10),
        ("diagnoses", 7),
        ("procedures", 7),
        ("coverage", 7),
    },
    "date_order": {("coverage", 3)},
    "events_before_birth": {("diagnoses", 12)},
    "events_after_extract_end": {("diagnoses", 13), ("diagnoses", 14)},
    "future_dates": {("patients", 7), ("diagnoses", 13), ("diagnoses", 14), ("coverage", 6)},
    "dates_before_1900": {("patients", 8), ("diagnoses", 15), ("coverage", 5)},
    "duplicate_procedure_lines": {("procedures", 3), ("procedures", 4)},
    # rows the audit links by claim id: row 3 (an ICD-9 code) is quarantined, so not linked
    "claim_with_two_patients": {
        ("diagnoses", 2),
        ("diagnoses", 16),
        ("procedures", 2),
        ("procedures", 3),
        ("procedures", 4),
    },
    "icd9_in_icd10_field": {("diagnoses", 3)},
    "unknown_code_systems": {("diagnoses", 8), ("procedures", 8)},
    "codes_outside_validity": {("diagnoses", 11), ("procedures", 12)},
    "patients_without_coverage": {("patients", 3)},
    "index_procedures_outside_coverage": {("procedures", 11)},
    "diagnoses_without_site": {("diagnoses", 10)},
    "unknown_patients": {("diagnoses", 9), ("procedures", 13), ("coverage", 4)},
    "duplicate_ids": {("patients", 5), ("sites", 3)},
    "invalid_numbers": {("procedures", 5)},
    "patients_without_birth": {
        ("patients", 6),
        ("patients", 7),
        ("patients", 8),
        ("patients", 10),
    },
    "sites_not_in_sites_table": {("procedures", 9)},
    "near_miss_index_codes": {("procedures", 14)},
    "implausible_age": {("patients", 11)},
}

CLEAN = {
    "patients": "patient_id | birth_date\nP1 | 1970-05-01",
    "diagnoses": "patient_id | event_date | code | source_id | site_id\n"
    "P1 | 2023-01-01 | M54.50 | C0 | S1\nP1 | 2023-06-01 | M54.50 | C1 | S1",
    "procedures": "patient_id | event_date | code | site_id | source_id | status\n"
    "P1 | 2023-06-01 | 62323 | S1 | C1 | paid",
    "coverage": "patient_id | start_date | end_date\nP1 | 2020-01-01 |",
    "sites": "site_id | site_name\nS1 | One",
}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    folder = write_extract(
        tmp_path_factory.mktemp("dirty") / "extract",
        patients=PATIENTS,
        diagnoses=DIAGNOSES,
        procedures=PROCEDURES,
        coverage=COVERAGE,
        sites=SITES,
    )
    return validate(folder, SETTINGS)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return validate(write_extract(tmp_path_factory.mktemp("clean") / "extract", **CLEAN), SETTINGS)


def _found(result, name: str) -> set[tuple[str, int]]:
    sample = result[name].sample
    return {
        (str(t), int(r)) for t, r in zip(sample["table_name"], sample["row_number"], strict=True)
    }


# ----------------------------------------------------------------------------- the check files
def test_every_check_has_a_crafted_fault():
    assert {c.name for c in CHECKS} == set(EXPECTED)


def test_checks_cover_the_three_kinds_and_errors_are_few():
    assert {c.kind for c in CHECKS} == set(KINDS)
    errors = [c for c in CHECKS if c.severity == "error"]
    # an error stops the run: only above a threshold, never for one odd row
    assert errors and all(c.threshold is not None for c in errors)
    assert len(errors) < len(CHECKS) / 3


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_check_is_one_portable_select(check):
    code = re.sub(r"--[^\n]*", "", check.sql)
    statements = sqlglot.parse(code, read="duckdb")
    assert len(statements) == 1 and isinstance(statements[0], sqlglot.exp.Query)
    [spark] = sqlglot.transpile(
        code, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
    )
    assert spark.strip()
    found = [name for name, pattern in FORBIDDEN.items() if re.search(pattern, code.lower())]
    assert not found, f"{check.name} uses {found}"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_check_header_is_complete(check):
    assert check.path.parent == checks_dir()
    assert len(check.description) > 40
    assert check.sql.startswith(f"-- check: {check.name}\n")


def test_malformed_headers_are_refused(tmp_path):
    good = "-- check: x\n-- kind: plausibility\n-- severity: warn\n-- tables: patients\n"
    good += "-- description: something\nSELECT 1"
    path = tmp_path / "x.sql"
    assert parse_header(good, path).threshold is None
    for bad, message in [
        (good.replace("plausibility", "beauty"), "kind"),
        (good.replace("warn", "fatal"), "severity"),
        (good.replace("patients", "claims"), "tables"),
        (good.replace("-- check: x", "-- check: y"), "names check"),
        (good.replace("-- severity: warn\n", "-- severity: warn\n-- threshold: 2\n"), "fraction"),
        (good.replace("-- description: something\n", ""), "description"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_header(bad, path)


def test_description_continues_over_indented_lines(tmp_path):
    text = (
        "-- check: x\n-- kind: completeness\n-- severity: error\n-- threshold: 0.25\n"
        "-- tables: patients, sites\n-- description: first line\n--   second line\n"
        "-- a free comment\nSELECT 1"
    )
    check = parse_header(text, tmp_path / "x.sql")
    assert check.description == "first line second line"
    assert check.threshold == 0.25 and check.tables == ("patients", "sites")


# ----------------------------------------------------------------------------- each check fires
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_fires_on_its_crafted_rows(dirty, name):
    result = dirty[name]
    assert _found(dirty, name) == EXPECTED[name]
    assert result.offending_rows == len(EXPECTED[name])
    assert result.status in ("warn", "error")
    assert list(result.sample.columns) == [
        "table_name",
        "row_number",
        "column_name",
        "value",
        "detail",
    ]


def test_dirty_extract_findings_say_what_is_wrong(dirty):
    def rows(name):
        return {
            (t, int(r)): (c, v, d)
            for t, r, c, v, d in dirty[name].sample.itertuples(index=False, name=None)
        }

    assert rows("date_parse")[("procedures", 7)][:2] == ("event_date", "03/15/2023")
    assert rows("icd9_in_icd10_field")[("diagnoses", 3)][1] == "722.10"  # as entered
    assert rows("duplicate_procedure_lines")[("procedures", 4)][2] == "repeats row 2"
    # P9 (not in patients) on claim C1 is unknown_patients' finding, not a third patient
    assert rows("claim_with_two_patients")[("diagnoses", 16)][2] == "claim has 2 patients"
    assert rows("events_before_birth")[("diagnoses", 12)][2] == "before birth 2000-01-01"
    assert rows("invalid_numbers")[("procedures", 5)][:2] == ("units", "abc")
    assert rows("codes_outside_validity")[("diagnoses", 11)][2] == "used after valid_to 2021-09-30"
    assert rows("date_order")[("coverage", 3)][2] == "ends before start_date 2023-01-01"


def test_clean_extract_passes_every_check(clean):
    assert [c.name for c in clean.checks if c.status != "pass"] == []
    assert clean.ok and clean.summary_lines()[0].endswith(
        f"0 error(s), 0 warning(s), {len(CHECKS)} passed (as-of date 2024-01-01)"
    )


def test_sample_data_has_no_error():
    result = validate(sample_data_dir(), replace(load_settings(), as_of_date=date(2026, 1, 1)))
    assert result.errors == []
    # the sample's deliberate faults are reported as warnings
    assert result["icd9_in_icd10_field"].status == "warn"
    assert result["codes_outside_validity"].status == "warn"


def test_gate_runs_on_a_classified_connection(tmp_path):
    folder = write_extract(tmp_path / "x", **CLEAN)
    classified = classify(folder, SETTINGS)
    try:
        result = run_gate(classified.engine, limit_rows=5)
    finally:
        classified.con.close()
    assert result.ok and len(result.checks) == len(CHECKS)


# ----------------------------------------------------------------------------- thresholds
def _procedures_with_dates(dates: list[str]) -> str:
    return "patient_id | event_date | code | site_id | source_id\n" + "\n".join(
        f"P1 | {d} | 99213 | S1 | C{i}" for i, d in enumerate(dates)
    )


@pytest.mark.parametrize(
    ("dates", "status"),
    [
        (["2023-01-01", "2023-01-02", "15/01/2023"] * 40, "warn"),  # 1 of 3
        (["2023-01-01", "2023-01-02", "15/01/2023", "16/01/2023"] * 30, "warn"),  # exactly half
        (["2023-01-01", "14/01/2023", "15/01/2023"] * 40, "error"),  # 2 of 3: another format
        # under MIN_ROWS_FOR_ERROR rows a share says little: a small extract is still audited
        (["2023-01-01", "14/01/2023", "15/01/2023"], "warn"),
    ],
)
def test_unreadable_dates_are_an_error_above_half_a_table(extract, dates, status):
    folder = extract(
        patients="patient_id | birth_date\nP1 | 1970-05-01",
        procedures=_procedures_with_dates(dates),
    )
    result = validate(folder, SETTINGS)
    assert result["date_parse"].status == status
    assert [c.name for c in result.errors] == (["date_parse"] if status == "error" else [])


def _claims(lines: int, shared: int) -> dict[str, str]:
    rows = [f"P{i % 2} | 2023-06-01 | 99213 | S1 | C{i}" for i in range(lines)]
    # an index procedure (64493) on each shared claim: only such claims are examined
    rows += [f"P{i % 2} | 2023-06-01 | 64493 | S1 | SHARED{i // 2}" for i in range(shared)]
    return {
        "patients": "patient_id | birth_date\nP0 | 1970-01-01\nP1 | 1980-01-01",
        "procedures": "patient_id | event_date | code | site_id | source_id\n" + "\n".join(rows),
    }


@pytest.mark.parametrize(("lines", "shared", "status"), [(300, 2, "warn"), (100, 2, "error")])
def test_claims_with_two_patients_are_an_error_above_one_percent(extract, lines, shared, status):
    result = validate(extract(**_claims(lines, shared)), SETTINGS)
    check = result["claim_with_two_patients"]
    assert check.offending_rows == shared
    assert check.status == status
    if status == "error":
        with pytest.raises(DataQualityError, match="claim_with_two_patients"):
            result.raise_for_errors()
    else:
        result.raise_for_errors()


def test_threshold_decides_per_table_not_over_all_tables(tmp_path):
    # 75 of 100 diagnoses offend (75%), 0 of 400 procedures: an error although 15% overall
    (tmp_path / "c.sql").write_text(
        "-- check: c\n-- kind: conformance\n-- severity: error\n-- threshold: 0.5\n"
        "-- tables: diagnoses, procedures\n-- description: test\n"
        "SELECT 'diagnoses' AS table_name, src_row AS row_number, 'code' AS column_name, "
        "code AS value, NULL AS detail FROM input_diagnoses WHERE code LIKE 'X%'",
        encoding="utf-8",
    )
    folder = write_extract(
        tmp_path / "x",
        patients="patient_id | birth_date\nP1 | 1970-05-01",
        diagnoses="patient_id | event_date | code\n"
        + "\n".join(f"P1 | 2023-01-01 | {c}" for c in ["X1", "X2", "X3", "M54.50"] * 25),
        procedures=_procedures_with_dates(["2023-01-01"] * 400),
    )
    classified = classify(folder, SETTINGS)
    try:
        [result] = run_gate(classified.engine, checks=discover_checks(tmp_path)).checks
    finally:
        classified.con.close()
    assert result.status == "error"
    assert result.by_table == {"diagnoses": (75, 100), "procedures": (0, 400)}
    assert result.worst_table() == ("diagnoses", 0.75)


def test_a_check_reporting_an_undeclared_table_is_a_bug(tmp_path):
    (tmp_path / "c.sql").write_text(
        "-- check: c\n-- kind: conformance\n-- severity: warn\n-- tables: sites\n"
        "-- description: test\nSELECT 'patients' AS table_name, src_row AS row_number, "
        "NULL AS column_name, NULL AS value, NULL AS detail FROM input_patients",
        encoding="utf-8",
    )
    classified = classify(write_extract(tmp_path / "x", **CLEAN), SETTINGS)
    try:
        with pytest.raises(RuntimeError, match="not in its header"):
            run_gate(classified.engine, checks=discover_checks(tmp_path))
    finally:
        classified.con.close()


# ----------------------------------------------------------------------------- outputs
def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_outputs_are_written_one_row_per_check(dirty, tmp_path):
    written = write_gate_outputs(tmp_path, dirty)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "data_quality/checks.csv",
        "data_quality/offending_rows.csv",
    ]
    checks = _read_csv(tmp_path / "data_quality" / "checks.csv")
    assert [r["check"] for r in checks] == [c.name for c in CHECKS]
    by_name = {r["check"]: r for r in checks}
    assert by_name["date_parse"]["offending_rows"] == "5"
    assert by_name["date_parse"]["threshold"] == "0.5"
    assert by_name["date_order"]["threshold"] == ""
    offending = _read_csv(tmp_path / "data_quality" / "offending_rows.csv")
    assert len(offending) == sum(c.findings for c in dirty.checks)
    assert {(r["check"], r["table_name"], int(r["row_number"])) for r in offending} == {
        (name, t, n) for name, rows in EXPECTED.items() for t, n in rows
    }
    assert {r["file_name"] for r in offending} == {
        f"{t}.csv" for t in ("patients", "diagnoses", "procedures", "coverage", "sites")
    }


def test_samples_are_limited(tmp_path):
    folder = write_extract(
        tmp_path / "x",
        patients="patient_id | birth_date\nP1 | 1970-05-01",
        procedures=_procedures_with_dates(["bad"] * 30),
    )
    result = validate(folder, SETTINGS, limit_rows=7)
    check = result["date_parse"]
    assert check.offending_rows == 30 and len(check.sample) == 7
    assert list(check.sample["row_number"]) == list(range(2, 9))


def test_csv_outputs_are_safe_from_formula_injection(extract, tmp_path):
    folder = extract(
        patients="patient_id | birth_date\nP1 | 1970-05-01",
        diagnoses="patient_id | event_date | code\nP1 | 2023-01-01 | =1+2",
        procedures="patient_id | event_date | code | site_id | units\n"
        "P1 | 2023-01-01 | 99213 | @SUM(A1) | 1\nP1 | 2023-01-01 | 99213 | S1 | -x",
        sites="site_id | site_name\nS1 | One",
    )
    result = validate(folder, SETTINGS)
    write_gate_outputs(tmp_path, result)
    text = (tmp_path / "data_quality" / "offending_rows.csv").read_text(encoding="utf-8")
    values = {r["value"] for r in _read_csv(tmp_path / "data_quality" / "offending_rows.csv")}
    assert {"'=1+2", "'@SUM(A1)", "'-x"} <= values
    assert not re.search(r"(^|,)[=+\-@]", text, re.MULTILINE)
    # numbers stay numbers
    assert all(
        r["row_number"].isdigit()
        for r in _read_csv(tmp_path / "data_quality" / "offending_rows.csv")
    )


def test_summary_names_no_identifier(dirty):
    lines = dirty.summary_lines()
    assert lines[0].startswith(f"data-quality gate: {len(CHECKS)} checks, ")
    errors = [line for line in lines if line.startswith("ERROR")]
    assert [line.split()[1] for line in errors] == [c.name for c in dirty.errors]
    unknown = next(line for line in lines if " unknown_patients " in line)
    assert "'X9'" in unknown and "P9" not in unknown
    parse = next(line for line in lines if " date_parse " in line)
    assert "coverage.csv row 7, start_date 'XXX'" in parse  # a date shows its shape only
    assert "bad" not in parse and "1990-13-45" not in "\n".join(lines)
    birth = next(line for line in lines if " events_before_birth " in line)
    assert birth.endswith("event_date '9999-99-99': before birth 9999-99-99")
    sites = next(line for line in lines if " sites_not_in_sites_table " in line)
    assert "site_id 'S9'" in sites  # a site is no patient identifier


def test_dirty_extract_is_audited_with_warnings(dirty):
    # the shared claim C1 holds 3 of 16 diagnoses, far above 1%, but a table of 16 rows is below
    # MIN_ROWS_FOR_ERROR: planted faults in a small extract never stop the audit
    assert dirty.ok
    assert dirty["claim_with_two_patients"].status == "warn"
    assert dirty["date_parse"].status == "warn"
    dirty.raise_for_errors()


def test_an_error_stops_the_run_with_exit_code_2(extract):
    result = validate(extract(**_claims(100, 2)), SETTINGS)
    with pytest.raises(DataQualityError) as info:
        result.raise_for_errors()
    assert info.value.exit_code == 2


def test_html_context_carries_counts_only(dirty):
    context = gate_html_context(dirty)
    assert [c["check"] for c in context] == [c.name for c in CHECKS]
    assert {c["severity"] for c in context} <= {"pass", "warn", "error"}
    for item, result in zip(context, dirty.checks, strict=True):
        assert item["rows"] == result.offending_rows
        assert {"check", "code", "rows", "note", "kind", "description"} <= set(item)
        assert "P1" not in repr(item)


def test_manifest_lists_every_check(dirty):
    manifest = dirty.manifest()
    assert [m["check"] for m in manifest] == [c.name for c in CHECKS]
    assert manifest[0]["by_table"]
    assert "P1" not in repr(manifest)


def test_checks_are_read_from_the_folder(tmp_path):
    assert discover_checks(tmp_path) == ()
    assert discover_checks() == CHECKS
    assert all(isinstance(c, Check) for c in CHECKS)


# ----------------------------------------------------------------------------- nothing is lost
DAY = st.sampled_from(["2023-01-05", "2023-03-01", "2023-06-01"])
BAD_DAY = st.sampled_from(["2023-02-30", "03/15/2023", "", "1850-01-01", "2999-01-01"])
UNREADABLE = {"2023-02-30", "03/15/2023"}
PATIENT = st.sampled_from(["P1", "P2", "P3", "P9", ""])
STATUS = st.sampled_from(
    ["", "paid", "PAID", "denied", "Void", "reversed", "pended", "entered in error"]
)

diagnosis_rows = st.lists(
    st.tuples(
        PATIENT,
        st.one_of(DAY, BAD_DAY),
        st.sampled_from(["M54.50", "m5416", "722.10", "", "E11.9"]),
        st.sampled_from(["", "ICD10CM", "ICD9CM", "XYZ"]),
        st.sampled_from(["C1", "C2", ""]),
        st.sampled_from(["S1", ""]),
    ),
    max_size=10,
)
procedure_rows = st.lists(
    st.tuples(
        PATIENT,
        st.one_of(DAY, DAY, BAD_DAY),
        st.sampled_from(["62323", "64493", "99213", ""]),
        st.sampled_from(["S1", "S2", ""]),
        st.sampled_from(["C1", "C2", ""]),
        STATUS,
        st.sampled_from(["", "1", "x"]),
    ),
    max_size=10,
)
coverage_rows = st.lists(
    st.tuples(PATIENT, st.one_of(DAY, BAD_DAY), st.sampled_from(["", "2022-01-01", "2024-01-01"])),
    max_size=3,
)


def _status(text: str) -> str | None:
    return text.strip().lower().replace(" ", "_").replace("-", "_") or None


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.booleans(),
    diagnosis_rows,
    procedure_rows,
    st.lists(st.integers(0, 9), max_size=4),
    coverage_rows,
)
def test_random_extracts_reconcile_and_the_gate_counts_agree(
    duplicate_patient, diagnoses, procedures, copies, coverage
):
    # duplicates: copies of some generated lines, appended
    procedures = procedures + [procedures[i] for i in copies if i < len(procedures)]
    patients = ["P1 | 1970-05-01", "P2 | 2023-02-30", "P3 |"]
    if duplicate_patient:
        patients.append("P1 | 1971-01-01")
    tables = {
        "patients": "patient_id | birth_date\n" + "\n".join(patients),
        "diagnoses": "patient_id | event_date | code | code_system | source_id | site_id\n"
        + "\n".join(" | ".join(r) for r in diagnoses),
        "procedures": "patient_id | event_date | code | site_id | source_id | status | units\n"
        + "\n".join(" | ".join(r) for r in procedures),
        "coverage": "patient_id | start_date | end_date\n"
        + "\n".join(" | ".join(r) for r in coverage),
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_extract(Path(tmp) / "extract", **tables)
        classified = classify(folder, replace(load_settings(), as_of_date=date(2026, 1, 1)))
        try:
            totals = dict(
                classified.con.execute(
                    "SELECT table_name, SUM(row_count) FROM input_reconciliation GROUP BY 1"
                ).fetchall()
            )
            gate = run_gate(classified.engine, limit_rows=0)
        finally:
            classified.con.close()

    # nothing is lost: every input row is counted, not counting by status, or quarantined
    inputs = {
        "patients": len(patients),
        "diagnoses": len(diagnoses),
        "procedures": len(procedures),
        "coverage": len(coverage),
    }
    assert {t: int(totals.get(t, 0)) for t in inputs} == inputs

    # the gate counts what was generated
    assert gate["date_parse"].by_table["procedures"][0] == sum(
        r[1] in UNREADABLE for r in procedures
    )
    # only accepted index lines are compared (known patient, usable date, code and site, units
    # readable): repeats of other lines change nothing in the audit
    keys = Counter(
        (r[0], r[1], r[2], r[3], r[4] or None, _status(r[5]))
        for r in procedures
        if r[0] in ("P1", "P2", "P3")
        and r[1] in ("2023-01-05", "2023-03-01", "2023-06-01")
        and r[2] in ("62323", "64493")
        and r[3]
        and r[6] != "x"
    )
    assert gate["duplicate_procedure_lines"].offending_rows == sum(n - 1 for n in keys.values())
    assert gate["duplicate_ids"].offending_rows == int(duplicate_patient)

    def first_missing(r: tuple) -> bool:
        # the engine's order: patient, (known patient), date, (readable date), code, site
        if not r[0]:
            return True
        if r[0] == "P9":
            return False
        if not r[1]:
            return True
        if r[1] not in ("2023-01-05", "2023-03-01", "2023-06-01"):
            return False
        return not (r[2] and r[3])

    assert gate["required_fields"].by_table["procedures"][0] == sum(map(first_missing, procedures))


def test_docs_describe_every_check():
    docs = (Path(__file__).resolve().parents[1] / "docs" / "data-quality.md").read_text("utf-8")
    for check in CHECKS:
        threshold = "" if check.threshold is None else f"{check.threshold:.0%}"
        row = f"| [`{check.name}`](#{check.name}) | {check.kind} | {check.severity} | {threshold} |"
        assert row.replace("|  |", "| |") in docs, check.name
        assert f"\n#### {check.name}\n" in docs


@pytest.mark.parametrize("fmt", ["canonical", "claims", "omop", "fhir"])
def test_every_input_format_passes_the_gate_through_its_adapter(fmt):
    folder = sample_data_dir() / "formats" / fmt
    result = validate(folder, replace(load_settings(), as_of_date=date(2026, 1, 1)), fmt=fmt)
    assert result.errors == [] and len(result.checks) == len(CHECKS)


def test_many_findings_are_counted_and_listed_without_holding_them(dirty, tmp_path, monkeypatch):
    """Past HELD_FINDINGS a check's findings are not held in memory: the check runs again for
    the counts and the first findings, with the same result as when they are held."""
    import audit.gate as gate_module

    folder = write_extract(
        tmp_path / "extract",
        patients=PATIENTS,
        diagnoses=DIAGNOSES,
        procedures=PROCEDURES,
        coverage=COVERAGE,
        sites=SITES,
    )
    monkeypatch.setattr(gate_module, "HELD_FINDINGS", 1)
    rerun = validate(folder, SETTINGS)
    several = [c for c in dirty.checks if c.findings > 1]
    assert several, "the dirty extract should have checks with several findings"
    for check in several:
        again = rerun[check.check.name]
        assert (again.findings, again.offending_rows, again.by_table) == (
            check.findings,
            check.offending_rows,
            check.by_table,
        )
        assert again.sample.equals(check.sample)


def test_a_diagnosis_in_two_value_sets_is_one_finding_of_a_shared_claim(tmp_path):
    """C79.51 is in CANCER and in SPINE_METASTASIS, so diagnoses_kept holds its row twice; the
    shared-claim check still lists and counts it once."""
    folder = write_extract(
        tmp_path / "extract",
        patients="patient_id | birth_date\nP1 | 1960-01-01\nP2 | 1961-01-01",
        diagnoses="patient_id | event_date | code | source_id | site_id\n"
        "P1 | 2023-01-01 | C79.51 | SHARED | S1\nP2 | 2023-01-01 | C79.51 | SHARED | S1",
        procedures="patient_id | event_date | code | site_id | source_id\n"
        "P1 | 2023-06-01 | 99213 | S1 | V1",
    )
    check = validate(folder, SETTINGS)["claim_with_two_patients"]
    assert (check.findings, check.offending_rows) == (2, 2)
    assert sorted(zip(check.sample["table_name"], check.sample["row_number"], strict=True)) == [
        ("diagnoses", 2),
        ("diagnoses", 3),
    ]


# ---------------------------------------------------------------- the gate alongside the outputs
def _gate_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("spine-audit-gate")]


def test_a_failing_gate_publishes_nothing(extract, tmp_path):
    # run_audit writes the outputs while the gate runs; a gate error still leaves nothing behind
    from audit.run import run_audit

    out = tmp_path / "report"
    stages: list[str] = []
    with pytest.raises(DataQualityError, match="claim_with_two_patients") as info:
        run_audit(
            extract(**_claims(100, 2)), out, SETTINGS, on_step=lambda done: stages.append(done.name)
        )
    assert info.value.exit_code == 2
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")]
    assert f"gate ({len(CHECKS)} checks)" in stages
    assert "outputs and reports" not in stages
    assert _gate_threads() == []


def test_a_failing_gate_removes_the_folders_it_created(extract, tmp_path):
    from audit.run import run_audit

    out = tmp_path / "new" / "deeper" / "report"
    with pytest.raises(DataQualityError):
        run_audit(extract(**_claims(100, 2)), out, SETTINGS)
    assert not (tmp_path / "new").exists()


def test_an_unwritable_output_place_is_a_user_error(extract, tmp_path):
    from audit.errors import UserError
    from audit.run import run_audit

    (tmp_path / "a_file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(UserError, match="cannot write the outputs there"):
        run_audit(extract(**_claims(300, 2)), tmp_path / "a_file" / "report", SETTINGS)
    assert _gate_threads() == []


def test_the_gate_findings_reach_the_index_page(extract, tmp_path):
    # the index page is written last, with the gate's rows (late_checks): a warning is listed
    from audit.run import run_audit

    out = tmp_path / "report"
    run_audit(extract(**_claims(300, 2)), out, SETTINGS)
    page = (out / "shareable" / "index.html").read_text(encoding="utf-8")
    for check in CHECKS:  # by its name in words (audit/data/check_labels.csv)
        assert str(escape(check_label(check.name))) in page, check.name


def _slow_checks(folder: Path, count: int) -> tuple[Check, ...]:
    """Checks that would each run for minutes: a scan of ten billion numbers."""
    folder.mkdir()
    for i in range(count):
        (folder / f"slow_{i}.sql").write_text(
            f"-- check: slow_{i}\n-- kind: conformance\n-- severity: warn\n"
            "-- tables: diagnoses\n-- description: test\n"
            "SELECT 'diagnoses' AS table_name, r AS row_number, 'code' AS column_name, "
            "NULL AS value, NULL AS detail FROM range(10000000000) AS t(r) WHERE r < 0",
            encoding="utf-8",
        )
    return discover_checks(folder)


def test_closing_stops_a_running_gate_promptly(extract, tmp_path):
    # a failed or interrupted run must not wait for the rest of the gate (minutes at scale)
    import time

    from audit.gate import BackgroundGate

    classified = classify(extract(**_claims(300, 2)), SETTINGS)
    try:
        for delay in (0.0, 0.3):
            background = BackgroundGate(
                classified.engine, checks=_slow_checks(tmp_path / f"c{delay}", 3)
            )
            time.sleep(delay)
            started = time.perf_counter()
            background.close()
            assert time.perf_counter() - started < 5
            assert _gate_threads() == []
    finally:
        classified.con.close()


def test_a_failure_while_writing_stops_the_gate(extract, tmp_path, monkeypatch):
    import audit.report
    from audit.run import run_audit

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit.report, "write_aggregate_outputs", broken)
    out = tmp_path / "report"
    with pytest.raises(RuntimeError, match="disk full"):
        run_audit(extract(**_claims(300, 2)), out, SETTINGS)
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")]
    assert _gate_threads() == []


def test_the_gate_runs_on_the_tables_the_steps_wrote(extract, tmp_path):
    # the gate's own cursor must read the compressed database the steps wrote (run.connect),
    # not the default one: its findings equal those of the gate run on the main connection
    from audit.gate import BackgroundGate

    classified = classify(extract(**_claims(300, 2)), SETTINGS)
    try:
        background = BackgroundGate(classified.engine)
        try:
            alongside = background.result()
        finally:
            background.close()
        direct = run_gate(classified.engine)
    finally:
        classified.con.close()
    assert alongside.manifest() == direct.manifest()
    assert alongside["claim_with_two_patients"].offending_rows == 2
