"""Input adapters (issue 4): claims, OMOP CDM and FHIR bulk extracts of the same eight patients
classify into exactly the sessions of their canonical twin; the claims traps (void,
replacement, reversal, duplicate, professional + facility, leading zeros, BOM + CRLF) are
handled; every source row is accounted for; the adapter SQL transpiles to Spark.

Each adapter is checked through the contract the engine reads (input_<table> + input_files):
its relations are written out as canonical CSV files and classified with the unchanged
canonical loader (tests.helpers.audit_sessions), and once fed to the engine directly.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from audit.adapters import FORMATS, AdapterResult, detect_format, load_adapter
from audit.adapters import claims as claims_adapter
from audit.adapters import fhir as fhir_adapter
from audit.adapters import omop as omop_adapter
from audit.config import load_settings
from audit.engine import DuckDBEngine
from audit.errors import InputError
from audit.inputs import CANONICAL
from audit.lookups import load_settings_tables
from audit.resources import sql_dir
from tests.helpers import audit_sessions
from tests.test_portability import FORBIDDEN

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "sample_data" / "formats"
ADAPTERS = {"claims": claims_adapter, "omop": omop_adapter, "fhir": fhir_adapter}


def _build_module():
    spec = importlib.util.spec_from_file_location(
        "formats_build", ROOT / "tools" / "build_formats.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def load(folder: Path, fmt: str | None) -> tuple[duckdb.DuckDBPyConnection, AdapterResult]:
    engine = DuckDBEngine(duckdb.connect())
    load_settings_tables(engine, load_settings())  # the adapters read the run's number notation
    return engine.con, load_adapter(engine, folder, fmt)


def relations(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every input_<table> as rows (src_row first), in src_row order."""
    return {t: con.execute(f"SELECT * FROM input_{t} ORDER BY ALL").fetchall() for t in CANONICAL}


def write_canonical(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """The adapter's relations as a canonical extract (what the engine would read)."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, spec in CANONICAL.items():
        columns = ", ".join(spec["columns"])
        con.execute(
            f"COPY (SELECT {columns} FROM input_{table} ORDER BY src_row) TO $p "
            "(FORMAT csv, HEADER true)",
            {"p": str(folder / f"{table}.csv")},
        )
    return folder


# the ids a session is traced by: each format writes its own (claim, visit or encounter ids;
# billing providers only in claims and FHIR EOBs), so the formats are compared without them and
# test_sessions_list_the_ids_of_their_format holds them per format
TRACE_COLUMNS = ("source_ids", "provider_ids", "billing_provider_ids")


def untraced(sessions: list[dict]) -> list[dict]:
    return [{k: v for k, v in s.items() if k not in TRACE_COLUMNS} for s in sessions]


def sessions_through_adapter(folder: Path, fmt: str | None, tmp: Path) -> list[dict]:
    con, _ = load(folder, fmt)
    try:
        return untraced(audit_sessions(write_canonical(con, tmp)))
    finally:
        con.close()


@pytest.fixture(scope="module")
def canonical_sessions() -> list[dict]:
    return untraced(audit_sessions(FIXTURES / "canonical"))


# -------------------------------------------------------------------------- equivalence


def test_canonical_fixture_has_the_intended_sessions(canonical_sessions):
    got = [
        (s["patient_id"], s["session_date"].isoformat(), s["family"], s["outcome"])
        + (s["reason"] or s["recommendation"],)
        for s in canonical_sessions
    ]
    assert sorted(got) == sorted(
        [
            ("100001", "2024-06-03", "FACET_RFA", "discordant", "AX-RFA"),
            ("100002", "2024-05-20", "EPIDURAL", "discordant", "RAD-EPI"),
            ("100003", "2025-01-15", "FACET_INJ", "out_of_population", "age_under_18"),
            ("100004", "2025-02-10", "EPIDURAL", "out_of_population", "cancer"),
            ("100005", "2025-01-10", "TRIGGER_POINT", "discordant", "AX-IM"),
            ("100006", "2025-03-12", "EPIDURAL", "discordant", "RAD-EPI"),
            ("100007", "2025-08-14", "EPIDURAL", "discordant", "AX-EPI"),
            ("100008", "2025-06-18", "FACET_RFA", "clinical_trial", "AX-RFA"),
        ]
    )
    # professional + facility claim of one procedure on one day at one site: one session
    [rfa] = [s for s in canonical_sessions if s["patient_id"] == "100001"]
    assert rfa["line_count"] == 6 and "FACET_INJ" in rfa["merged_families"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_classifies_into_the_same_sessions(fmt, canonical_sessions, tmp_path):
    got = sessions_through_adapter(FIXTURES / fmt, fmt, tmp_path / "canonical")
    assert got == canonical_sessions


# patient 100001's facet RFA: a professional claim (billing provider 1001) and a facility claim
# (2001), the facet injection merged into it; one rendering clinician
TRACED_RFA = {
    "canonical": (["000000001002", "000000001003"], ["0987654321"], []),
    "claims": (["000000001002", "000000001003"], ["0987654321"], ["1001", "2001"]),
    "omop": (["1002", "1003"], ["0987654321"], []),  # visit ids; the CDM has no billing provider
    "fhir": (["C1002", "C1003"], ["0987654321"], ["1001", "2001"]),  # EOB ids, EOB.provider
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_sessions_list_the_ids_of_their_format(fmt):
    [rfa] = [s for s in audit_sessions(FIXTURES / fmt) if s["patient_id"] == "100001"]
    got = tuple(rfa[c] for c in TRACE_COLUMNS)
    assert got == TRACED_RFA[fmt]


@pytest.mark.parametrize("fmt", FORMATS)
def test_sample_data_formats_classify_alike(fmt, canonical_sessions, tmp_path):
    folder = ROOT / "sample_data" / "formats" / fmt
    assert detect_format(folder) == fmt
    assert sessions_through_adapter(folder, None, tmp_path / "c") == canonical_sessions


@pytest.mark.parametrize("fmt", ["claims", "omop", "fhir"])
def test_relations_feed_the_engine_directly(fmt):
    """The adapter's relations as the engine reads them: same sessions, quarantine rows name
    their file, and the engine's reconciliation balances against input_<table>."""
    from audit.config import load_settings
    from audit.lookups import load_pack_tables
    from audit.pack import resolve_pack
    from audit.pipeline import run_steps, step_parameters
    from audit.run import SESSION_COLUMNS

    settings = replace(load_settings(), as_of_date=date(2026, 1, 1))
    pack = resolve_pack(settings.pack)
    engine = DuckDBEngine.connect(settings)
    con = engine.con
    try:
        load_pack_tables(engine, pack)
        load_settings_tables(engine, settings)
        result = load_adapter(engine, FIXTURES / fmt, fmt)
        run_steps(engine, step_parameters(settings, pack, None, None))
        rows = con.execute(
            f"SELECT {', '.join(c for c in SESSION_COLUMNS if c not in TRACE_COLUMNS)} "
            "FROM session_outcomes "
            "ORDER BY site_id, session_date, patient_id, family"
        ).fetchall()
        engine_rows = dict(
            con.execute(
                "SELECT table_name, SUM(row_count) FROM input_reconciliation GROUP BY ALL"
            ).fetchall()
        )
        files = dict(con.execute("SELECT table_name, file_name FROM input_files").fetchall())
    finally:
        con.close()
    expected = [tuple(s.values()) for s in untraced(audit_sessions(FIXTURES / "canonical"))]
    assert rows == expected
    for table, n in result.table_rows.items():
        assert engine_rows.get(table, 0) == n, table
    assert set(files) == set(CANONICAL)


# ------------------------------------------------------------------- reconciliation


EXPECTED_DISPOSITIONS = {
    "canonical": {},
    "claims": {
        "claims.csv": {
            "duplicate_line": 1,
            "facility_line_without_hcpcs": 1,
            "reversal_line": 1,
            "reversed_line": 1,
            "superseded_claim_version": 2,
            "voided_claim": 1,
        },
        "members.csv": {"repeated_member_row": 1},
    },
    "omop": {},
    "fhir": {
        "Condition.ndjson": {"condition_entered_in_error": 1},
        "Procedure.ndjson": {"procedure_not_done": 1},
        "ExplanationOfBenefit.ndjson": {
            "facility_line_without_hcpcs": 1,
            "superseded_claim_version": 4,
            "voided_claim": 1,
        },
    },
}
EXPECTED_TABLE_ROWS = {
    "canonical": {"patients": 8, "diagnoses": 26, "procedures": 27, "sites": 2, "coverage": 9},
    "claims": {"patients": 8, "diagnoses": 26, "procedures": 27, "sites": 2, "coverage": 9},
    # OMOP holds paid facts only: the denied line is not there
    "omop": {"patients": 8, "diagnoses": 26, "procedures": 26, "sites": 2, "coverage": 9},
    # FHIR: the entered-in-error Procedure reaches the engine, which drops it by status
    "fhir": {"patients": 8, "diagnoses": 26, "procedures": 28, "sites": 2, "coverage": 9},
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_source_row_is_accounted_for(fmt):
    con, result = load(FIXTURES / fmt, fmt)
    con.close()
    assert result.dispositions == EXPECTED_DISPOSITIONS[fmt]
    assert result.table_rows == EXPECTED_TABLE_ROWS[fmt]
    for entry in result.files:
        if entry["file"] is None:
            continue
        assert len(entry["sha256"]) == 64
        assert entry["rows"] >= 0
        recon = entry.get("reconciliation")
        if recon:
            assert recon["balanced"]
            assert recon["units"] == recon["canonical_rows"] + sum(
                recon["adapter_dispositions"].values()
            )


def test_claims_reconciliation_in_numbers():
    con, result = load(FIXTURES / "claims", "claims")
    con.close()
    by_file = {e["file"]: e for e in result.files}
    claims = by_file["claims.csv"]["reconciliation"]
    assert (claims["units"], claims["canonical_rows"]) == (34, 27)
    members = by_file["members.csv"]["reconciliation"]
    assert (members["units"], members["canonical_rows"]) == (9, 8)
    assert by_file["members.csv"]["canonical_rows"] == {"patients": 8, "coverage": 9}


def test_eob_file_is_reconciled_in_items():
    con, result = load(FIXTURES / "fhir", "fhir")
    con.close()
    eob = next(e for e in result.files if e["file"] == "ExplanationOfBenefit.ndjson")
    assert eob["rows"] == 22  # resources (lines)
    assert eob["reconciliation"]["unit"] == "item"
    assert eob["reconciliation"]["units"] == 31
    assert eob["reconciliation"]["canonical_rows"] == 25


def test_input_files_name_the_source_files():
    con, _ = load(FIXTURES / "fhir", "fhir")
    files = dict(con.execute("SELECT table_name, file_name FROM input_files").fetchall())
    con.close()
    assert files["procedures"] == "Procedure.ndjson+ExplanationOfBenefit.ndjson"
    assert files["patients"] == "Patient.ndjson"
    con, _ = load(FIXTURES / "omop", "omop")
    files = dict(con.execute("SELECT table_name, file_name FROM input_files").fetchall())
    con.close()
    assert files["diagnoses"] == "condition_occurrence.csv"


@pytest.mark.parametrize("fmt", ["claims", "omop", "fhir"])
def test_relations_hold_exactly_the_canonical_columns(fmt):
    con, _ = load(FIXTURES / fmt, fmt)
    for table, spec in CANONICAL.items():
        desc = con.execute(f"SELECT * FROM input_{table} LIMIT 0").description
        assert [d[0] for d in desc] == ["src_row", *spec["columns"]]
        assert str(desc[0][1]) == "BIGINT"
        assert all(str(d[1]) == "VARCHAR" for d in desc[1:]), table
    con.close()


# ---------------------------------------------------------------------------- claims traps

CLAIM_HEADER = (
    "member_id,claim_id,original_claim_id,line_number,claim_type,from_date,hcpcs,modifier_1,"
    "units,allowed_amount,billing_provider,facility_id,frequency_code,processed_date,dx1,dx2"
)
MEMBERS = "member_id,birth_date\nM1,1970-01-01\nM2,1980-01-01\n"


def claims_extract(folder: Path, lines: str, members: str = MEMBERS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = "\n".join(line.strip() for line in lines.strip().splitlines())
    (folder / "claims.csv").write_text(f"{CLAIM_HEADER}\n{body}\n", encoding="utf-8")
    (folder / "members.csv").write_text(members, encoding="utf-8")
    return folder


def procedures_and_dispositions(folder: Path) -> tuple[list[tuple], dict[int, str | None]]:
    con, _ = load(folder, "claims")
    procedures = con.execute(
        "SELECT src_row, source_id, code, modifiers, units, allowed_amount, status "
        "FROM input_procedures ORDER BY src_row"
    ).fetchall()
    dispositions = dict(
        con.execute("SELECT src_row, disposition FROM claims_line_dispositions").fetchall()
    )
    con.close()
    return procedures, dispositions


def test_void_cancels_the_whole_chain(tmp_path):
    folder = claims_extract(
        tmp_path,
        """
        M1,C1,,1,professional,2025-04-02,62323,,1,285,G1,F1,1,,M5417,
        M1,C2,C1,1,professional,2025-04-02,62323,,1,285,G1,F1,7,,M5417,
        M1,C3,C2,1,professional,2025-04-02,62323,,1,285,G1,F1,8,,M5417,
        """,
    )
    procedures, dispositions = procedures_and_dispositions(folder)
    assert procedures == []
    assert dispositions == {
        2: "superseded_claim_version",
        3: "superseded_claim_version",
        4: "voided_claim",
    }
    con, _ = load(folder, "claims")
    assert con.execute("SELECT COUNT(*) FROM input_diagnoses").fetchone()[0] == 0
    con.close()


def test_replacement_supersedes_and_brings_its_own_diagnoses(tmp_path):
    folder = claims_extract(
        tmp_path,
        """
        M1,C1,,1,professional,20250312,64490,,1,200.00,G1,F1,1,,M5450,
        M1,C2,C1,1,professional,20250312,64483,,1,310.55,G1,F1,7,,M5417,M5117
        M1,C2,C1,2,professional,20250312,64484,,1,120.30,G1,F1,7,,M5417,M5117
        """,
    )
    procedures, dispositions = procedures_and_dispositions(folder)
    assert [(p[1], p[2]) for p in procedures] == [("C2", "64483"), ("C2", "64484")]
    assert dispositions[2] == "superseded_claim_version"
    con, _ = load(folder, "claims")
    dx = con.execute("SELECT code, source_id, event_date FROM input_diagnoses ORDER BY code")
    assert dx.fetchall() == [("M5117", "C2", "2025-03-12"), ("M5417", "C2", "2025-03-12")]
    con.close()


def test_versions_of_one_claim_id_follow_frequency_and_processed_date(tmp_path):
    """No original_claim_id: the replacement reuses the claim id; the processed date orders
    versions even when the file does not."""
    folder = claims_extract(
        tmp_path,
        """
        M1,C1,,1,professional,2025-03-12,64483,,1,310,G1,,7,2025-04-01,M5417,
        M1,C1,,1,professional,2025-03-12,64490,,1,200,G1,,1,2025-03-20,M5417,
        M1,C9,,1,professional,2025-03-12,64493,,1,95,G1,,7,2025-04-01,M5450,
        M1,C9,,1,professional,2025-03-12,64493,,1,95,G1,,7,2025-05-01,M5450,
        """,
    )
    procedures, dispositions = procedures_and_dispositions(folder)
    assert [(p[0], p[2]) for p in procedures] == [(2, "64483"), (5, "64493")]
    assert dispositions[3] == dispositions[4] == "superseded_claim_version"


def test_reversal_cancels_its_original_and_an_unmatched_reversal_counts_for_nothing(tmp_path):
    folder = claims_extract(
        tmp_path,
        """
        M1,C1,,1,professional,2025-05-06,99213,,1,92.15,G1,,1,,M542,
        M1,C1,,2,professional,2025-05-06,27096,,1,350.00,G1,,1,,M542,
        M1,C1,,3,professional,2025-05-06,27096,,-1,-350.00,G1,,1,,M542,
        M1,C1,,4,professional,2025-05-06,64493,,1,$(95.10),G1,,1,,M542,
        """,
    )
    procedures, dispositions = procedures_and_dispositions(folder)
    assert [p[2] for p in procedures] == ["99213"]
    assert dispositions == {
        2: None,
        3: "reversed_line",
        4: "reversal_line",
        5: "unmatched_reversal",
    }


def test_exact_duplicate_lines_collapse_but_two_units_do_not(tmp_path):
    folder = claims_extract(
        tmp_path,
        """
        M1,C1,,1,professional,2024-05-20,64483,LT,1,310.55,G1,F1,1,,M5416,
        M1,C1,,2,professional,2024-05-20,64484,LT,1,120.30,G1,F1,1,,M5416,
        M1,C1,,2,professional,2024-05-20,64484,LT,1,120.30,G1,F1,1,,M5416,
        M1,C1,,3,professional,2024-05-20,64484,RT,1,120.30,G1,F1,1,,M5416,
        """,
    )
    procedures, dispositions = procedures_and_dispositions(folder)
    assert [(p[2], p[3]) for p in procedures] == [
        ("64483", "LT"),
        ("64484", "LT"),
        ("64484", "RT"),
    ]
    assert dispositions[4] == "duplicate_line"


def test_professional_and_facility_claims_make_one_session(tmp_path):
    folder = claims_extract(
        tmp_path / "in",
        """
        M1,C1,,1,professional,2024-01-10,99214,,1,128,G1,,1,,M5450,
        M1,C2,,1,professional,2024-06-03,64493,,1,95.10,G1,F1,1,,M5450,
        M1,C3,,1,institutional,2024-06-03,64493,,1,420.00,F1,F1,1,,M5450,
        """,
    )
    [session] = sessions_through_adapter(folder, "claims", tmp_path / "c")
    assert session["site_id"] == "F1"
    assert session["line_count"] == 2
    assert str(session["allowed_amount"]) == "515.10"


def test_site_is_the_billing_provider_when_no_facility(tmp_path):
    folder = claims_extract(
        tmp_path,
        """
        M1,C1,,1,professional,2024-06-03,64493,,1,95.10,G1,,1,,M5450,
        """,
    )
    con, _ = load(folder, "claims")
    assert con.execute("SELECT site_id FROM input_procedures").fetchall() == [("G1",)]
    con.close()


def test_codes_and_ids_with_leading_zeros_stay_text(tmp_path):
    folder = claims_extract(
        tmp_path,
        """
        0042,000000001139,,01,professional,2025-01-15,0213T,,1,95,0012345678,007,1,,M5450,
        """,
        members="member_id,birth_date\n0042,1970-01-01\n",
    )
    con, _ = load(folder, "claims")
    row = con.execute(
        "SELECT patient_id, source_id, line_number, code, site_id FROM input_procedures"
    ).fetchone()
    assert row == ("0042", "000000001139", "01", "0213T", "007")
    # and through Parquet, where a column written as text must stay text
    pq_folder = tmp_path / "pq"
    pq_folder.mkdir()
    con.execute(
        "COPY (SELECT * FROM read_csv($p, all_varchar = true)) TO $o (FORMAT parquet)",
        {"p": str(folder / "claims.csv"), "o": str(pq_folder / "claims.parquet")},
    )
    con.close()
    (pq_folder / "members.csv").write_text("member_id,birth_date\n0042,1970-01-01\n")
    con, _ = load(pq_folder, "claims")
    again = con.execute(
        "SELECT src_row, patient_id, source_id, line_number, code, site_id FROM input_procedures"
    ).fetchone()
    con.close()
    assert again == (1, *row)  # Parquet: the first record is row 1


def test_bom_and_crlf_files_read_the_same(tmp_path):
    plain_con, plain = load(FIXTURES / "claims", "claims")
    expected = relations(plain_con)
    plain_con.close()
    folder = tmp_path / "bom"
    folder.mkdir()
    for name in ("claims.csv", "members.csv", "sites.csv"):
        text = (FIXTURES / "claims" / name).read_text(encoding="utf-8")
        (folder / name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    con, result = load(folder, "claims")
    got = relations(con)
    con.close()
    assert got == expected
    assert result.dispositions == plain.dispositions


def test_yyyymmdd_dates_and_cms_sex_codes(tmp_path):
    folder = claims_extract(
        tmp_path,
        "M1,C1,,1,professional,20250115,64493,,1,95,G1,,1,,M5450,",
        members="member_id,birth_date,sex,eligibility_start,eligibility_end\n"
        "M1,19700101,2,20230101,\nM1,19700101,2,20200101,20201231\n",
    )
    con, result = load(folder, "claims")
    assert con.execute("SELECT event_date FROM input_procedures").fetchone() == ("2025-01-15",)
    assert con.execute("SELECT birth_date, sex FROM input_patients").fetchall() == [
        ("1970-01-01", "F")
    ]
    assert con.execute("SELECT start_date, end_date FROM input_coverage ORDER BY 1").fetchall() == [
        ("2020-01-01", "2020-12-31"),
        ("2023-01-01", None),
    ]
    con.close()
    assert result.dispositions["members.csv"] == {"repeated_member_row": 1}


def test_denied_lines_reach_the_audit_as_denied(tmp_path):
    folder = tmp_path
    (folder / "claims.csv").write_text(
        "member_id,claim_id,from_date,hcpcs,billing_provider,line_status,denial_code\n"
        "M1,C1,2025-01-10,20552,G1,,CO50\nM1,C2,2025-01-11,20552,G1,D,\n"
        "M1,C3,2025-01-12,20552,G1,paid,\n"
    )
    (folder / "members.csv").write_text(MEMBERS)
    con, _ = load(folder, "claims")
    statuses = con.execute("SELECT status FROM input_procedures ORDER BY src_row").fetchall()
    con.close()
    assert statuses == [("denied",), ("denied",), ("paid",)]


# --------------------------------------------------------------------------- column mapping

FOREIGN = {  # our name -> a payer's header
    "member_id": "MBR_NO",
    "claim_id": "CLAIM_NBR",
    "line_number": "LN",
    "claim_type": "FORM",
    "from_date": "SVC_FROM",
    "through_date": "SVC_TO",
    "hcpcs": "PROC_CD",
    "modifier_1": "MOD1",
    "modifier_2": "MOD2",
    "modifier_3": "MOD3",
    "modifier_4": "MOD4",
    "units": "QTY",
    "allowed_amount": "ALLOWED",
    "paid_amount": "PAID",
    "place_of_service": "POS_CD",
    "billing_provider": "BILL_NPI",
    "rendering_provider": "REND_NPI",
    "facility_id": "FAC_NPI",
    "frequency_code": "FREQ",
    "bill_type": "TOB",
    "revenue_code": "REV_CD",
    "line_status": "LINE_STAT",
    "denial_code": "CARC",
    "original_claim_id": "ORIG_CLAIM_NBR",
}


def foreign_extract(folder: Path) -> Path:
    """The claims fixture with a payer's own headers; dx columns as ICD_DGNS_CD1.. (accepted
    without a map)."""
    folder.mkdir(parents=True)
    with (FIXTURES / "claims" / "claims.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    renamed = [FOREIGN.get(c, re.sub(r"^dx(\d+)$", r"ICD_DGNS_CD\1", c)) for c in rows[0]]
    with (folder / "claims.csv").open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([renamed, *rows[1:]])
    members = (FIXTURES / "claims" / "members.csv").read_text()
    (folder / "members.csv").write_text(members.replace("member_id", "MBR_NO", 1))
    (folder / "sites.csv").write_text((FIXTURES / "claims" / "sites.csv").read_text())
    return folder


def test_column_map_csv_lets_other_names_be_used(tmp_path):
    con, _ = load(FIXTURES / "claims", "claims")
    expected = relations(con)
    con.close()
    folder = foreign_extract(tmp_path / "x")
    lines = ["file,our_name,their_name"]
    lines += [f"claims,{ours},{theirs}" for ours, theirs in FOREIGN.items()]
    lines += ["members,member_id,MBR_NO"]
    (folder / "column_map.csv").write_text("\n".join(lines) + "\n")
    con, result = load(folder, "claims")
    got = relations(con)
    con.close()
    assert got == expected
    entry = next(e for e in result.files if e["file"] == "claims.csv")
    assert entry["column_map"]["hcpcs"] == "PROC_CD"
    assert entry["column_map"]["dx1"] == "ICD_DGNS_CD1"


def test_column_map_toml(tmp_path):
    folder = foreign_extract(tmp_path / "x")
    claims = "\n".join(f'{ours} = "{theirs}"' for ours, theirs in FOREIGN.items())
    (folder / "column_map.toml").write_text(
        f'[claims]\n{claims}\n\n[members]\nmember_id = "MBR_NO"\n'
    )
    con, result = load(folder, "claims")
    con.close()
    assert result.dispositions == EXPECTED_DISPOSITIONS["claims"]


@pytest.mark.parametrize(
    ("map_text", "message"),
    [
        ("file,our_name,their_name\nclaims,hcpcs,NOPE\n", "'NOPE'"),
        ("file,our_name,their_name\nclaims,cpt_code,hcpcs\n", "'cpt_code'"),
        ("file,our_name,their_name\nbilling,hcpcs,hcpcs\n", "unknown file"),
        ("our,their\nhcpcs,x\n", "header"),
    ],
)
def test_bad_column_maps_are_one_line_errors(tmp_path, map_text, message):
    folder = claims_extract(tmp_path, "M1,C1,,1,professional,2025-01-15,64493,,1,95,G1,,1,,,")
    (folder / "column_map.csv").write_text(map_text)
    with pytest.raises(InputError, match=message):
        load(folder, "claims")


def test_two_headers_for_one_column_need_a_map(tmp_path):
    (tmp_path / "claims.csv").write_text(
        "member_id,claim_id,from_date,hcpcs,billing_provider,dx1,ICD_DGNS_CD1\n"
        "M1,C1,2025-01-15,64493,G1,M5450,M5450\n"
    )
    (tmp_path / "members.csv").write_text(MEMBERS)
    with pytest.raises(InputError, match="could both be 'dx1'"):
        load(tmp_path, "claims")


def test_missing_claim_columns_and_files_are_input_errors(tmp_path):
    (tmp_path / "claims.csv").write_text("member_id,claim_id,from_date\nM1,C1,2025-01-01\n")
    (tmp_path / "members.csv").write_text(MEMBERS)
    with pytest.raises(InputError, match="claims.csv: required column 'hcpcs'"):
        load(tmp_path, "claims")
    (tmp_path / "members.csv").unlink()
    (tmp_path / "claims.csv").write_text(f"{CLAIM_HEADER}\n")
    with pytest.raises(InputError, match="members"):
        load(tmp_path, "claims")


# ------------------------------------------------------------------------------------- OMOP


def test_omop_concept_fallback_and_vocabulary(tmp_path):
    con, _ = load(FIXTURES / "omop", "omop")
    dx = con.execute(
        "SELECT code, code_system FROM input_diagnoses WHERE source_id = '2002' ORDER BY code"
    ).fetchall()
    procs = con.execute(
        "SELECT code, code_system, allowed_amount FROM input_procedures "
        "WHERE source_id = '6003' ORDER BY code"
    ).fetchall()
    con.close()
    assert dx == [("M51.16", "ICD10CM"), ("M54.16", "ICD10CM")]
    assert procs == [("64483", "HCPCS", "310.55"), ("64484", "HCPCS", "120.30")]


def test_omop_parquet_with_typed_columns(tmp_path, canonical_sessions):
    """Parquet written with native types (BIGINT ids, DATE dates) maps like the CSV files."""
    folder = tmp_path / "omop"
    folder.mkdir()
    con = duckdb.connect()
    for path in (FIXTURES / "omop").glob("*.csv"):
        con.execute(
            "COPY (SELECT * FROM read_csv($p)) TO $o (FORMAT parquet)",
            {"p": str(path), "o": str(folder / f"{path.stem}.parquet")},
        )
    con.close()
    assert sessions_through_adapter(folder, "omop", tmp_path / "c") == canonical_sessions


def test_omop_duckdb_database_file(tmp_path, canonical_sessions):
    db = tmp_path / "omop.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA cdm")
    for path in (FIXTURES / "omop").glob("*.csv"):
        con.execute(
            f"CREATE TABLE cdm.{path.stem.upper()} AS SELECT * FROM read_csv($p)", {"p": str(path)}
        )
    con.close()
    assert detect_format(db) == "omop"
    assert sessions_through_adapter(db, None, tmp_path / "c") == canonical_sessions
    con, result = load(db, "omop")
    con.close()
    assert {e["file"] for e in result.files} >= {"omop.duckdb:PERSON"}


def test_omop_tab_separated_vocabulary_file(tmp_path):
    folder = tmp_path / "omop"
    folder.mkdir()
    for path in (FIXTURES / "omop").glob("*.csv"):
        text = path.read_text()
        if path.name == "concept.csv":  # Athena writes tab-separated, unquoted files
            text = text.replace(",", "\t")
        (folder / path.name).write_text(text)
    con, _ = load(folder, "omop")
    got = con.execute("SELECT code FROM input_diagnoses WHERE source_id = '2002' ORDER BY 1")
    assert got.fetchall() == [("M51.16",), ("M54.16",)]
    con.close()


def test_omop_birth_from_parts_and_datetime(tmp_path):
    (tmp_path / "person.csv").write_text(
        "person_id,year_of_birth,month_of_birth,day_of_birth,birth_datetime,gender_concept_id\n"
        "1,1970,5,1,,8532\n2,1980,,,,8507\n3,1990,1,1,1990-01-02 00:00:00,0\n"
    )
    (tmp_path / "condition_occurrence.csv").write_text("person_id,condition_start_date\n")
    (tmp_path / "procedure_occurrence.csv").write_text("person_id,procedure_date\n")
    con, _ = load(tmp_path, "omop")
    rows = con.execute("SELECT patient_id, birth_date, birth_year, sex FROM input_patients")
    assert rows.fetchall() == [
        ("1", "1970-05-01", "1970", "F"),
        ("2", None, "1980", "M"),
        ("3", "1990-01-02", "1990", "U"),
    ]
    con.close()


# ------------------------------------------------------------------------------------- FHIR


def _ndjson(folder: Path, name: str, lines: list[str]) -> None:
    (folder / name).write_text("\n".join(lines) + "\n")


def test_fhir_lines_keep_their_numbers_and_bad_lines_are_accounted(tmp_path):
    _ndjson(
        tmp_path,
        "Patient.ndjson",
        [
            json.dumps({"resourceType": "Patient", "id": "1", "birthDate": "1970-05"}),
            "",
            "{not json",
            json.dumps({"resourceType": "Observation", "id": "x"}),
            json.dumps({"resourceType": "Patient", "id": "2", "birthDate": "1971-02-03"}),
            json.dumps({"resourceType": "Patient", "id": "2", "birthDate": "1971-02-03"}),
        ],
    )
    _ndjson(tmp_path, "Condition.ndjson", [])
    con, result = load(tmp_path, "fhir")
    rows = con.execute(
        "SELECT s.file_name, s.line_number, p.patient_id, p.birth_date, p.birth_year "
        "FROM input_patients AS p JOIN input_row_sources AS s "
        "ON s.table_name = 'patients' AND s.src_row = p.src_row ORDER BY p.src_row"
    )
    assert rows.fetchall() == [
        ("Patient.ndjson", 1, "1", None, "1970"),
        ("Patient.ndjson", 5, "2", "1971-02-03", None),
    ]
    con.close()
    assert result.dispositions["Patient.ndjson"] == {
        "invalid_json": 1,
        "wrong_resource_type": 1,
        "duplicate_resource": 1,
    }


def test_fhir_condition_takes_encounter_date_site_and_best_coding(tmp_path):
    _ndjson(tmp_path, "Patient.ndjson", ['{"resourceType":"Patient","id":"1"}'])
    _ndjson(
        tmp_path,
        "Encounter.ndjson",
        [
            json.dumps(
                {
                    "resourceType": "Encounter",
                    "id": "e1",
                    "period": {"start": "2025-01-15T23:30:00-05:00"},
                    "serviceProvider": {"reference": "https://x.org/fhir/Organization/S9"},
                }
            )
        ],
    )
    _ndjson(
        tmp_path,
        "Condition.ndjson",
        [
            json.dumps(
                {
                    "resourceType": "Condition",
                    "id": "c1",
                    "subject": {"reference": "Patient/1"},
                    "encounter": {"reference": "Encounter/e1"},
                    "recordedDate": "2025-02-01",
                    "code": {
                        "coding": [
                            {"system": "http://snomed.info/sct", "code": "279039007"},
                            {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"},
                        ]
                    },
                }
            ),
            json.dumps(
                {
                    "resourceType": "Condition",
                    "id": "c2",
                    "subject": {"reference": "Patient/1"},
                    "recordedDate": "2025-02-01",
                    "verificationStatus": {"coding": [{"code": "refuted"}]},
                    "code": {"coding": [{"system": "urn:x", "code": "X"}]},
                }
            ),
            json.dumps(
                {
                    "resourceType": "Condition",
                    "id": "c3",
                    "subject": {"reference": "Patient/1"},
                    "onsetDateTime": "2020-03-04T10:00:00Z",
                    "code": {"coding": [{"system": "urn:local:dx", "code": "BACK"}]},
                }
            ),
        ],
    )
    con, result = load(tmp_path, "fhir")
    rows = con.execute(
        "SELECT s.line_number, event_date, code, code_system, source_id, site_id "
        "FROM input_diagnoses AS d JOIN input_row_sources AS s "
        "ON s.table_name = 'diagnoses' AND s.src_row = d.src_row ORDER BY d.src_row"
    ).fetchall()
    con.close()
    assert rows == [
        (1, "2025-01-15", "M54.50", "ICD10CM", "e1", "S9"),
        (3, "2020-03-04", "BACK", "urn:local:dx", None, None),  # the audit quarantines it
    ]
    assert result.dispositions["Condition.ndjson"] == {"condition_refuted": 1}


def test_fhir_eob_items_denial_modifiers_and_reversal(tmp_path):
    _ndjson(tmp_path, "Patient.ndjson", ['{"resourceType":"Patient","id":"1"}'])

    def item(seq: int, code: str, qty: int, amount: float, *, denied: bool = False) -> dict:
        adjudication = [
            {"category": {"coding": [{"code": "eligible"}]}, "amount": {"value": amount}}
        ]
        if denied:
            adjudication.append({"category": {"coding": [{"code": "denialreason"}]}})
        return {
            "sequence": seq,
            "productOrService": {
                "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code}]
            },
            "modifier": [{"coding": [{"code": "Q1"}]}, {"coding": [{"code": "RT"}]}],
            "servicedDate": "2025-06-18",
            "quantity": {"value": qty},
            "adjudication": adjudication,
        }

    eob = {
        "resourceType": "ExplanationOfBenefit",
        "id": "E1",
        "status": "active",
        "type": {"coding": [{"code": "professional"}]},
        "patient": {"reference": "Patient/1"},
        "billablePeriod": {"start": "2025-06-18"},
        "provider": {"reference": "Organization/G1"},
        "facility": {"reference": "Location/F1"},
        "item": [
            item(1, "64633", 1, 450.0),
            item(2, "20552", 1, 0.0, denied=True),
            item(3, "64634", 1, 140.0),
            item(4, "64634", -1, -140.0),
        ],
    }
    _ndjson(tmp_path, "ExplanationOfBenefit.ndjson", [json.dumps(eob)])
    con, result = load(tmp_path, "fhir")
    rows = con.execute(
        "SELECT p.src_row, s.line_number, p.line_number, code, site_id, modifiers, "
        "allowed_amount, status FROM input_procedures AS p JOIN input_row_sources AS s "
        "ON s.table_name = 'procedures' AND s.src_row = p.src_row ORDER BY p.line_number"
    ).fetchall()
    con.close()
    # the items of one EOB share its line (1) but are rows of their own (src_row 1, 2)
    assert rows == [
        (1, 1, "1", "64633", "F1", "Q1,RT", "450.00", None),
        (2, 1, "2", "20552", "F1", "Q1,RT", "0.00", "denied"),
    ]
    assert result.dispositions["ExplanationOfBenefit.ndjson"] == {
        "reversed_line": 1,
        "reversal_line": 1,
    }


def test_fhir_needs_clinical_or_claim_resources(tmp_path):
    _ndjson(tmp_path, "Patient.ndjson", ['{"resourceType":"Patient","id":"1"}'])
    with pytest.raises(InputError, match="ExplanationOfBenefit"):
        load(tmp_path, "fhir")


# -------------------------------------------------------------------------- format choice


@pytest.mark.parametrize("fmt", FORMATS)
def test_detect_format_of_each_fixture(fmt):
    assert detect_format(FIXTURES / fmt) == fmt


def test_detect_format_refuses_to_guess(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="pass --format canonical\\|claims\\|omop\\|fhir"):
        detect_format(empty)
    both = tmp_path / "both"
    both.mkdir()
    for name in ("patients.csv", "diagnoses.csv", "procedures.csv", "claims.csv"):
        (both / name).write_text("x\n")
    with pytest.raises(InputError, match="could be canonical or claims; pass --format"):
        detect_format(both)
    with pytest.raises(InputError, match="not found"):
        detect_format(tmp_path / "missing")


def test_load_adapter_detects_and_rejects_unknown_formats(tmp_path):
    con, result = load(FIXTURES / "fhir", None)
    con.close()
    assert result.fmt == "fhir"
    with pytest.raises(InputError, match="unknown input format 'hl7v2'"):
        load(FIXTURES / "fhir", "hl7v2")


def test_canonical_delegates_to_the_canonical_loader():
    con, result = load(FIXTURES / "canonical", "canonical")
    con.close()
    assert result.dispositions == {}
    assert {e["table"] for e in result.files} == set(CANONICAL)
    assert all(e["sha256"] for e in result.files)


# ------------------------------------------------------------------------- SQL and fixtures


def _adapter_steps() -> list[tuple[str, str]]:
    return [(fmt, step) for fmt, module in ADAPTERS.items() for step in module.STEPS]


def _code(fmt: str, step: str) -> str:
    text = (sql_dir() / "adapters" / fmt / f"{step}.sql").read_text(encoding="utf-8")
    return re.sub(r"--[^\n]*", "", text)


@pytest.mark.parametrize("fmt", list(ADAPTERS))
def test_every_adapter_sql_file_is_a_step(fmt):
    files = {p.stem for p in (sql_dir() / "adapters" / fmt).glob("*.sql")}
    assert files == set(ADAPTERS[fmt].STEPS)


@pytest.mark.parametrize(("fmt", "step"), _adapter_steps())
def test_adapter_step_transpiles_to_spark(fmt, step):
    [spark] = sqlglot.transpile(
        _code(fmt, step), read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
    )
    assert spark.strip()
    found = [n for n, p in FORBIDDEN.items() if re.search(p, _code(fmt, step).lower())]
    assert not found, f"{fmt}/{step}.sql uses {found}"


@pytest.mark.parametrize(("fmt", "step"), _adapter_steps())
def test_adapter_step_has_a_header_stating_grain_and_rule(fmt, step):
    text = (sql_dir() / "adapters" / fmt / f"{step}.sql").read_text(encoding="utf-8")
    header = text.split("\n\n")[0]
    assert header.startswith(f"-- {step}\n")
    assert "-- Grain:" in header and "-- Implements:" in header


@pytest.mark.parametrize("fmt", FORMATS)
def test_committed_fixtures_are_what_build_formats_writes(fmt):
    built = _build_module().build(fmt)
    folder = FIXTURES / fmt
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(built)
    for name, text in built.items():
        assert (folder / name).read_text(encoding="utf-8") == text, (folder, name)
