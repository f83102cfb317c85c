"""Hostile-input catalogue: values that must never be guessed (docs/security.md, "Values").

Numbers in another notation, words that databases read as dates, blanks of every kind, codes that
look like an index code but are not one, implausible births and an extract coded where the pack
cannot see. One test per case; the canonical cases share one crafted extract (one patient per
case), classified once.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from audit.config import Settings, load_settings
from audit.gate import GateResult, run_gate
from audit.resources import sample_data_dir
from audit.run import classify, run_audit

AS_OF = date(2026, 1, 1)
SETTINGS = replace(load_settings(), as_of_date=AS_OF)
COMMA = replace(SETTINGS, decimal_comma=True)
FORMATS = sample_data_dir() / "formats"
INDEX = "62323"  # lumbar epidural: an index code of the pack (family EPIDURAL)
PROCEDURE_COLUMNS = (
    "patient_id",
    "event_date",
    "code",
    "code_system",
    "site_id",
    "source_id",
    "line_number",
    "modifiers",
    "units",
    "allowed_amount",
    "status",
)

# patient -> the procedure line of its case (values as written; blank = the default below)
CASES: dict[str, dict[str, str]] = {
    "P01": {"allowed_amount": "1.200,50"},
    "P02": {"allowed_amount": "1,5"},
    "P03": {"allowed_amount": "$1,200.50"},
    "P04": {"units": "1,5"},
    "P05": {"line_number": "12.5"},
    "P06": {"event_date": "epoch"},
    "P07": {"event_date": "infinity"},
    "P08": {"event_date": "-infinity"},
    "P09": {"event_date": "today"},
    "P10": {"event_date": "now"},
    "P11": {"event_date": "yesterday"},
    "P12": {"event_date": "tomorrow"},
    "P13": {"event_date": "allballs"},
    "P14": {"event_date": "2024-6-1"},
    "P15": {"status": "denied\t"},
    "P16": {"code": "\t62323"},
    "P17": {"patient_id": "\u00a0P17"},
    "P18": {"code_system": "HCPCS\u3000"},
    "P19": {"modifiers": "Q1\t"},
    "P22": {"site_id": "S1\t"},
    "P23": {"event_date": "\t"},
    "P24": {"code": "62323-50"},
    "P25": {"code": "213T"},
    "P26": {"code": "６２３２３"},
    "P27": {"code_system": "ICD10PCS"},
    "P28": {"status": "Denied\u00a0"},
    "P29": {"status": "entered\tin\terror"},
    "P30": {"modifiers": "50\tQ1"},
    "P32": {"code": "\ufeff62323\u2003"},
    "P33": {"event_date": "2024-06-01T09:30:00Z"},
    "P34": {"allowed_amount": "\t350.00\u00a0"},
}
KEYWORD_PATIENTS = {
    "epoch": "P06",
    "infinity": "P07",
    "-infinity": "P08",
    "today": "P09",
    "now": "P10",
    "yesterday": "P11",
    "tomorrow": "P12",
    "allballs": "P13",
}
# patients whose case is their birth
BIRTHS = {
    "P20": {"birth_date": "epoch"},
    "P21": {"birth_date": "", "birth_year": "1901"},
    "P31": {"birth_date": "1850-01-01"},
}


def _write(path: Path, header: tuple[str, ...] | list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _line(patient: str, **values: str) -> list[str]:
    line = {
        "patient_id": patient,
        "event_date": "2024-06-01",
        "code": INDEX,
        "code_system": "HCPCS",
        "site_id": "S1",
        "source_id": f"C{patient}",
        "line_number": "1",
        "modifiers": "",
        "units": "1",
        "allowed_amount": "350.00",
        "status": "paid",
        **values,
    }
    return [line[c] for c in PROCEDURE_COLUMNS]


def write_canonical(folder: Path, lines: dict[str, dict[str, str]]) -> Path:
    """One patient per case, each with a chronic axial diagnosis and one index line (the case's
    values), an open coverage row and site S1."""
    folder.mkdir(parents=True, exist_ok=True)
    patients = sorted({*lines, *BIRTHS, "P21"})
    _write(
        folder / "patients.csv",
        ("patient_id", "birth_date", "birth_year"),
        [
            [
                p,
                BIRTHS.get(p, {}).get("birth_date", "1970-01-01"),
                BIRTHS.get(p, {}).get("birth_year", ""),
            ]
            for p in patients
        ],
    )
    _write(
        folder / "diagnoses.csv",
        ("patient_id", "event_date", "code", "source_id", "site_id"),
        [
            row
            for p in patients
            for row in (
                [p, "2024-01-02", "M54.50", f"D{p}", "S1"],
                [p, "2024-06-01", "M54.50", f"C{p}", "S1"],
            )
        ],
    )
    _write(
        folder / "procedures.csv",
        PROCEDURE_COLUMNS,
        [_line(p, **values) for p, values in sorted(lines.items())],
    )
    _write(
        folder / "coverage.csv",
        ("patient_id", "start_date", "end_date"),
        [[p, "2015-01-01", ""] for p in patients] + [["P01", "epoch", ""]],
    )
    _write(folder / "sites.csv", ("site_id", "site_name"), [["S1", "One"]])
    return folder


@dataclass
class Audited:
    tables: dict[str, list[dict[str, Any]]]
    gate: GateResult

    def rows(self, table: str, **where: Any) -> list[dict[str, Any]]:
        return [r for r in self.tables[table] if all(r.get(k) == v for k, v in where.items())]

    def line(self, patient: str) -> dict[str, Any]:
        [row] = self.rows("procedures_kept", patient_id=patient)
        return row

    def sessions(self, patient: str) -> list[dict[str, Any]]:
        return self.rows("session_outcomes", patient_id=patient)


TABLES = (
    "procedures_kept",
    "session_outcomes",
    "quarantine",
    "value_issues",
    "patients_checked",
    "coverage_checked",
    "data_quality",
    "near_miss_codes",
    "diagnosis_coding",
)


def audited(folder: Path, settings: Settings = SETTINGS, fmt: str | None = None) -> Audited:
    classified = classify(folder, settings, fmt=fmt)
    try:
        tables = {}
        for table in TABLES:
            rel = classified.con.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in rel.description]
            tables[table] = [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
        return Audited(tables=tables, gate=run_gate(classified.engine))
    finally:
        classified.con.close()


@pytest.fixture(scope="module")
def canonical(tmp_path_factory) -> Audited:
    return audited(write_canonical(tmp_path_factory.mktemp("values") / "extract", CASES))


@pytest.fixture(scope="module")
def decimal_comma(tmp_path_factory) -> Audited:
    lines = {
        "P01": {"allowed_amount": "1.200,50"},
        "P02": {"allowed_amount": "1,5"},
        "P03": {"allowed_amount": "1,200.50"},
        "P04": {"allowed_amount": "1200.50"},
        "P05": {"units": "1,5", "line_number": "2,0", "allowed_amount": "350,00"},
    }
    return audited(write_canonical(tmp_path_factory.mktemp("comma") / "extract", lines), COMMA)


def _copy_format(fmt: str, tmp: Path) -> Path:
    target = tmp / fmt
    shutil.copytree(FORMATS / fmt, target)
    return target


def _rewrite_csv(path: Path, change) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    change(rows)
    _write(path, rows[0], rows[1:])


def _quarantined(result: Audited, reason: str) -> list[tuple[str, str]]:
    return [(r["column_name"], r["value"]) for r in result.rows("quarantine", reason=reason)]


# ----------------------------------------------------------------------------- numbers
def test_decimal_comma_amount_is_not_read_as_a_smaller_number(canonical):
    line = canonical.line("P01")
    assert (line["reject_reason"], line["reject_column"], line["reject_value"]) == (
        "invalid_number",
        "allowed_amount",
        "1.200,50",
    )
    assert canonical.sessions("P01") == []


def test_comma_decimal_amount_is_not_read_as_ten_times_more(canonical):
    line = canonical.line("P02")
    assert (line["reject_reason"], line["reject_value"]) == ("invalid_number", "1,5")


def test_dollar_sign_and_thousands_separators_are_read(canonical):
    [session] = canonical.sessions("P03")
    assert session["allowed_amount"] == Decimal("1200.50")


def test_units_in_another_notation_are_not_numbers(canonical):
    line = canonical.line("P04")
    assert (line["reject_reason"], line["reject_column"]) == ("invalid_number", "units")


def test_fractional_line_number_is_not_rounded(canonical):
    line = canonical.line("P05")
    assert (line["reject_reason"], line["reject_column"], line["reject_value"]) == (
        "invalid_number",
        "line_number",
        "12.5",
    )


def test_blank_padded_amount_is_read(canonical):
    [session] = canonical.sessions("P34")
    assert session["allowed_amount"] == Decimal("350.00")


def test_decimal_comma_setting_reads_european_amounts(decimal_comma):
    amounts = {p: s["allowed_amount"] for p in ("P01", "P02") for s in decimal_comma.sessions(p)}
    assert amounts == {"P01": Decimal("1200.50"), "P02": Decimal("1.50")}
    assert decimal_comma.line("P05")["reject_reason"] is None  # units 1,5 and line 2,0


def test_decimal_comma_setting_refuses_decimal_points(decimal_comma):
    assert {p: decimal_comma.line(p)["reject_reason"] for p in ("P03", "P04")} == {
        "P03": "invalid_number",
        "P04": "invalid_number",
    }


def test_decimal_comma_setting_leaves_typed_parquet_numbers_alone(tmp_path):
    folder = write_canonical(tmp_path / "csv", {"P01": {"allowed_amount": "1200.50"}})
    typed = tmp_path / "parquet"
    typed.mkdir()
    con = duckdb.connect()
    for path in folder.glob("*.csv"):
        con.execute(
            "COPY (SELECT * REPLACE (TRY_CAST(allowed_amount AS DECIMAL(12, 2)) AS allowed_amount)"
            " FROM read_csv($p, all_varchar = true)) TO $o (FORMAT parquet)"
            if path.stem == "procedures"
            else "COPY (SELECT * FROM read_csv($p, all_varchar = true)) TO $o (FORMAT parquet)",
            {"p": str(path), "o": str(typed / f"{path.stem}.parquet")},
        )
    con.close()
    [session] = audited(typed, COMMA).sessions("P01")
    assert session["allowed_amount"] == Decimal("1200.50")


def test_decimal_comma_is_a_setting_and_an_option(tmp_path):
    config = tmp_path / "audit.toml"
    config.write_text("decimal_comma = true\n", encoding="utf-8")
    assert load_settings(config).decimal_comma is True
    assert load_settings().decimal_comma is False
    assert load_settings(decimal_comma=True).decimal_comma is True
    from audit.cli import _settings_from, build_parser

    args = build_parser().parse_args(["run", "in", "--out", "o", "--decimal-comma"])
    assert _settings_from(args).decimal_comma is True
    args = build_parser().parse_args(["run", "in", "--out", "o", "--config", str(config)])
    assert _settings_from(args).decimal_comma is True
    assert (
        _settings_from(build_parser().parse_args(["run", "in", "--out", "o"])).decimal_comma
        is False
    )


def test_claims_amount_in_another_notation_is_quarantined(tmp_path):
    folder = _copy_format("claims", tmp_path)

    def change(rows):
        rows[2][rows[0].index("allowed_amount")] = "1.200,50"

    _rewrite_csv(folder / "claims.csv", change)
    result = audited(folder, fmt="claims")
    assert ("allowed_amount", "1.200,50") in _quarantined(result, "invalid_number")


def test_omop_cost_in_another_notation_is_quarantined(tmp_path):
    folder = _copy_format("omop", tmp_path)

    def change(rows):
        rows[2][rows[0].index("amount_allowed")] = "1.200,50"

    _rewrite_csv(folder / "cost.csv", change)
    result = audited(folder, fmt="omop")
    assert ("allowed_amount", "1.200,50") in _quarantined(result, "invalid_number")


def test_omop_cost_is_never_summed_past_a_value_that_is_not_a_number(tmp_path):
    folder = _copy_format("omop", tmp_path)

    def change(rows):
        extra = list(rows[1])
        extra[rows[0].index("cost_id")] = "999"
        extra[rows[0].index("amount_allowed")] = "n/a"
        rows.append(extra)

    _rewrite_csv(folder / "cost.csv", change)
    result = audited(folder, fmt="omop")
    assert ("allowed_amount", "n/a") in _quarantined(result, "invalid_number")


def test_fhir_amount_written_as_text_in_another_notation_is_quarantined(tmp_path):
    folder = _copy_format("fhir", tmp_path)
    path = folder / "ExplanationOfBenefit.ndjson"
    text = path.read_text(encoding="utf-8")
    assert '"amount":{"value":480.12,' in text
    path.write_text(text.replace('"amount":{"value":480.12,', '"amount":{"value":"1.200,50",'))
    result = audited(folder, fmt="fhir")
    assert ("allowed_amount", "1.200,50") in _quarantined(result, "invalid_number")


def test_fhir_json_numbers_keep_their_value_under_decimal_comma(tmp_path):
    folder = FORMATS / "fhir"
    default = audited(folder, fmt="fhir").tables["session_outcomes"]
    comma = audited(folder, COMMA, fmt="fhir").tables["session_outcomes"]
    assert [s["allowed_amount"] for s in comma] == [s["allowed_amount"] for s in default]
    assert any(s["allowed_amount"] for s in default)


# ----------------------------------------------------------------------------- dates
@pytest.mark.parametrize("keyword", sorted(KEYWORD_PATIENTS))
def test_date_keyword_is_unparseable(canonical, keyword):
    line = canonical.line(KEYWORD_PATIENTS[keyword])
    assert (line["reject_reason"], line["reject_value"]) == ("unparseable_date", keyword)


def test_epoch_never_moves_a_session_to_1970(canonical):
    assert not [s for s in canonical.tables["session_outcomes"] if s["session_date"].year < 2000]


def test_date_without_leading_zeros_is_unparseable(canonical):
    assert canonical.line("P14")["reject_reason"] == "unparseable_date"


def test_date_with_time_and_zone_is_read(canonical):
    [session] = canonical.sessions("P33")
    assert session["session_date"] == date(2024, 6, 1)


def test_blank_only_date_is_missing_not_unparseable(canonical):
    assert canonical.line("P23")["reject_reason"] == "missing_date"


def test_birth_date_keyword_leaves_the_birth_unknown(canonical):
    [issue] = canonical.rows("value_issues", value="epoch")
    assert (issue["column_name"], issue["reason"]) == ("birth_date", "unparseable_date")
    [patient] = canonical.rows("patients_checked", patient_id="P20")
    assert patient["reject_reason"] is None and patient["birth_date"] is None


def test_coverage_date_keyword_is_quarantined(canonical):
    [row] = canonical.rows("quarantine", table_name="coverage")
    assert (row["column_name"], row["reason"], row["value"]) == (
        "start_date",
        "unparseable_date",
        "epoch",
    )


def test_date_parse_check_reports_date_keywords(canonical):
    values = set(canonical.gate["date_parse"].sample["value"])
    assert set(KEYWORD_PATIENTS) <= values


def test_claims_date_keyword_is_unparseable(tmp_path):
    folder = _copy_format("claims", tmp_path)

    def change(rows):
        for column in ("from_date", "through_date"):
            rows[2][rows[0].index(column)] = "epoch"

    _rewrite_csv(folder / "claims.csv", change)
    result = audited(folder, fmt="claims")
    assert ("event_date", "epoch") in _quarantined(result, "unparseable_date")


# ----------------------------------------------------------------------------- blanks
def test_status_padded_with_a_tab_does_not_count(canonical):
    line = canonical.line("P15")
    assert (line["status"], line["counts"]) == ("denied", False)
    assert canonical.sessions("P15") == []


def test_status_padded_with_nbsp_does_not_count(canonical):
    assert canonical.line("P28")["counts"] is False


def test_status_with_inner_tabs_reads_as_underscores(canonical):
    assert canonical.line("P29")["status"] == "entered_in_error"
    assert canonical.sessions("P29") == []


def test_code_padded_with_a_tab_still_matches(canonical):
    assert [s["family"] for s in canonical.sessions("P16")] == ["EPIDURAL"]


def test_code_padded_with_unicode_blanks_still_matches(canonical):
    assert [s["family"] for s in canonical.sessions("P32")] == ["EPIDURAL"]


def test_patient_id_padded_with_nbsp_finds_its_patient(canonical):
    assert len(canonical.sessions("P17")) == 1
    assert not canonical.rows("quarantine", reason="unknown_patient")


def test_code_system_padded_with_ideographic_space_is_known(canonical):
    assert len(canonical.sessions("P18")) == 1


def test_modifier_padded_with_a_tab_is_recognised(canonical):
    [session] = canonical.sessions("P19")
    assert session["has_trial_modifier"] is True


def test_modifiers_separated_by_a_tab_are_split(canonical):
    [session] = canonical.sessions("P30")
    assert session["has_trial_modifier"] is True


def test_site_id_padded_with_a_tab_is_the_same_site(canonical):
    assert {s["site_id"] for s in canonical.sessions("P22")} == {"S1"}
    assert not canonical.gate["sites_not_in_sites_table"].findings


# ----------------------------------------------------------------------------- near misses
@pytest.mark.parametrize(
    ("patient", "pattern", "meant"),
    [
        ("P24", "modifier_suffix", "62323"),
        ("P25", "lost_leading_zero", "0213T"),
        ("P26", "full_width", "62323"),
        ("P27", "other_code_system", "62323"),
    ],
)
def test_near_miss_index_code_is_counted_by_pattern(canonical, patient, pattern, meant):
    code = {"P24": "62323-50", "P25": "213T", "P26": "６２３２３", "P27": "62323"}[patient]
    [near] = canonical.rows("near_miss_codes", code_raw=code, pattern=pattern)
    assert near["meant_code"] == meant
    assert canonical.rows("data_quality", check_name=f"near_miss_index_code_{pattern}", code=meant)
    assert canonical.sessions(patient) == []  # never reclassified


def test_near_miss_lines_are_listed_by_the_gate(canonical):
    check = canonical.gate["near_miss_index_codes"]
    assert check.status == "warn" and check.offending_rows == 4
    assert "probably 0213T (lost leading zero)" in set(check.sample["detail"])


# ----------------------------------------------------------------------------- births
def test_birth_over_115_years_ago_is_flagged(canonical):
    check = canonical.gate["implausible_age"]
    assert check.status == "warn" and check.offending_rows == 1
    [patient] = canonical.rows("patients_checked", patient_id="P21")
    assert patient["birth_year"] == 1901  # kept: only a warning (docs/data-quality.md)


def test_birth_before_1900_is_not_used(canonical):
    [patient] = canonical.rows("patients_checked", patient_id="P31")
    assert (patient["birth_date"], patient["value_issue"]) == (None, "implausible_date")
    assert canonical.gate["dates_before_1900"].offending_rows == 1


# ----------------------------------------------------------------------------- coding
def _snomed_extract(folder: Path, share: float) -> Path:
    shutil.copytree(FORMATS / "canonical", folder)

    def change(rows):
        rows[0].append("code_system")
        data = rows[1:]
        for number, row in enumerate(data):
            row.append("SNOMED" if number < len(data) * share else "ICD10CM")

    _rewrite_csv(folder / "diagnoses.csv", change)
    return folder


def test_extract_coded_where_the_pack_cannot_see_is_warned_about(tmp_path):
    out = tmp_path / "out"
    result = run_audit(_snomed_extract(tmp_path / "in", 0.9), out, SETTINGS)
    [warning] = [f for f in result.notices if f.check == "diagnosis_coding"]
    assert "undercounted" in warning.message and "SNOMED" in warning.message
    manifest = json.loads((out / "internal" / "manifest.json").read_text(encoding="utf-8"))
    coding = manifest["diagnosis_coding"]
    assert coding["share_without_verified_value_sets"] > 0.5
    assert {s["code_system"]: s["value_sets"] for s in coding["code_systems"]}["SNOMED"] == (
        "provisional"
    )
    assert "Undercount warning" in (out / "shareable" / "index.html").read_text(encoding="utf-8")


def test_extract_coded_mostly_in_icd10cm_is_not_warned_about(tmp_path):
    out = tmp_path / "out"
    result = run_audit(_snomed_extract(tmp_path / "in", 0.2), out, SETTINGS)
    assert not [f for f in result.notices if f.check == "diagnosis_coding"]
    manifest = json.loads((out / "internal" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["diagnosis_coding"]["undercount_warning"] is None
    assert "Undercount warning" not in (out / "shareable" / "index.html").read_text(
        encoding="utf-8"
    )
