"""Tests of the seeded synthetic data generator (audit/generate.py).

Why: the demo, the committed sample and many other tests rely on the generator being exactly
reproducible, in the canonical model (measure spec section 2), and rich enough to exercise
every rule of spec section 3; these tests pin those three properties. Output is read the way
a careful reader would (DuckDB's default CSV reader, every column as text).
"""

from __future__ import annotations

import ast
import csv
import hashlib
import re
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit.generate import (
    BLOCK,
    DX_CODES,
    HOSTILE_SITE_NAME,
    ICD9_CODES,
    QUOTED_SITE_NAME,
    SCHEMAS,
    TABLES,
    generate,
)

COLUMNS = {
    "patients": ["patient_id", "birth_date", "birth_year", "sex"],
    "diagnoses": ["patient_id", "event_date", "code", "code_system", "source_id", "site_id"],
    "procedures": [
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
        "provider_id",
    ],
    "coverage": ["patient_id", "start_date", "end_date"],
    "sites": ["site_id", "site_name", "site_group"],
}
ROOT = Path(__file__).resolve().parents[1]
ARGS = {"patients": 3000, "sites": 12, "seed": 20250101, "hostile_names": True}
# measure spec 3.2, current and retired codes
INDEX_CODES = (
    "62320", "62321", "62322", "62323", "64479", "64480", "64483", "64484", "0228T", "0229T",
    "0230T", "0231T", "62310", "62311", "64490", "64491", "64492", "64493", "64494", "64495",
    "0213T", "0214T", "0215T", "0216T", "0217T", "0218T", "64470", "64472", "64475", "64476",
    "27096", "G0260", "64451", "64633", "64634", "64635", "64636", "64622", "64623", "64626",
    "64627", "64625", "20552", "20553",
)  # fmt: skip
RETIRED_CODES = ("62310", "62311", "64470", "64472", "64475", "64476", "64622", "64623", "64626")
RETIRED_CODES += ("64627",)
NOT_COUNTING = "('denied','void','voided','reversed','cancelled','entered_in_error')"


def _sql_list(codes: tuple[str, ...] | list[str]) -> str:
    """Codes as an SQL list, normalised like the audit does (no dot, upper case)."""
    return ",".join(f"'{c.replace('.', '').upper()}'" for c in codes)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """The generated CSV tables, plus ``idx`` (counting index lines) and ``dx`` (with ncode)."""
    c = duckdb.connect()
    for t in TABLES:
        c.execute(f"CREATE TABLE {t} AS SELECT * FROM read_csv('{folder / t}.csv', all_varchar=1)")
    c.execute(
        f"""CREATE TABLE idx AS SELECT * FROM procedures WHERE code IN ({_sql_list(INDEX_CODES)})
            AND lower(coalesce(status, '')) NOT IN {NOT_COUNTING}"""
    )
    c.execute(
        "CREATE TABLE dx AS SELECT *, upper(replace(trim(code), '.', '')) AS ncode FROM diagnoses"
    )
    return c


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("csv")
    return out, generate(out, **ARGS)


@pytest.fixture(scope="module")
def con(csv_dir: tuple[Path, dict[str, int]]) -> duckdb.DuckDBPyConnection:
    return connect(csv_dir[0])


def _n(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]


def _idx_with_dx(codes: tuple[str, ...], lo: int, hi: int) -> str:
    """Counting index lines with one of ``codes`` dated lo..hi days before the line."""
    return f"""
        SELECT DISTINCT i.patient_id, i.event_date FROM idx i JOIN dx d USING (patient_id)
        WHERE d.ncode IN ({_sql_list(codes)})
          AND date_diff('day', d.event_date::DATE, i.event_date::DATE) BETWEEN {lo} AND {hi}"""


AXIAL = ("M54.50", "M54.59", "M54.2", "M54.6", "M47.816", "M47.812", "M46.1", "M53.3")
AXIAL += ("M48.061", "M43.16", "M96.1", "M62.830", "M54.5", "M51.36", "M51.360", "M51.369")
RADICULAR = ("M54.16", "M54.17", "M54.12", "M54.41", "M54.42", "M54.30", "M51.16", "M51.17")
RADICULAR += ("M47.26", "M48.062", "M50.12", "M50.121", "M50.122")
SPINE = AXIAL + RADICULAR
CANCER = ("C50.911", "C61", "C34.90", "C18.9")
INFLAMMATORY = ("M06.9", "M05.79", "M45.9", "M45.A6", "L40.52", "M46.80")
ADDONS = "'64480','64484','64491','64492','64494','64495','64634','64636'"
PRIMARIES = "'64479','64483','64490','64493','64633','64635'"

# scenario -> SQL whose row count must be at least MIN_EACH in the 3000-patient set
SCENARIOS: dict[str, str] = {
    # index procedures of every family, current codes
    **{
        f"code {c}": f"SELECT 1 FROM idx WHERE code = '{c}'"
        for c in INDEX_CODES
        if c not in RETIRED_CODES and not c.startswith("02")  # Category III codes are rare
    },
    "retired 62310/62311 after 2016": """
        SELECT 1 FROM procedures WHERE code IN ('62310','62311') AND event_date > '2016-12-31'""",
    "retired 64622-64627 after 2011": """
        SELECT 1 FROM procedures
        WHERE code IN ('64622','64623','64626','64627') AND event_date > '2011-12-31'""",
    "add-on line on a claim with a primary line": f"""
        SELECT 1 FROM idx a JOIN idx p USING (source_id)
        WHERE a.code IN ({ADDONS}) AND p.code IN ({PRIMARIES})""",
    "bilateral modifier 50": """
        SELECT 1 FROM idx WHERE list_contains(string_split(modifiers, ','), '50')""",
    "RT and LT on two lines": """
        SELECT 1 FROM idx r JOIN idx l USING (source_id, code)
        WHERE r.modifiers LIKE 'RT%' AND l.modifiers LIKE 'LT%'""",
    "units 2": "SELECT 1 FROM idx WHERE units = '2'",
    "status denied": "SELECT 1 FROM procedures WHERE lower(status) = 'denied'",
    "status void": "SELECT 1 FROM procedures WHERE lower(status) IN ('void', 'voided')",
    "status reversed, negative amount": """
        SELECT 1 FROM procedures WHERE status = 'reversed' AND allowed_amount::DECIMAL(12,2) < 0""",
    "status pended": "SELECT 1 FROM idx WHERE status = 'pended'",
    "status blank": "SELECT 1 FROM idx WHERE status IS NULL",
    "status PAID": "SELECT 1 FROM idx WHERE status = 'PAID'",
    "modifier Q0": "SELECT 1 FROM idx WHERE modifiers LIKE '%Q0%'",
    "modifier Q1": "SELECT 1 FROM idx WHERE modifiers LIKE '%Q1%'",
    "Z00.6 on an index claim": "SELECT 1 FROM dx JOIN idx USING (source_id) WHERE ncode = 'Z006'",
    "facet injection + facet RFA same patient, site, day": """
        SELECT DISTINCT a.patient_id, a.event_date
        FROM idx a JOIN idx b USING (patient_id, site_id, event_date)
        WHERE a.code IN ('64490','64493') AND b.code IN ('64633','64635')""",
    "SI injection + SI RFA same patient, site, day": """
        SELECT DISTINCT a.patient_id FROM idx a JOIN idx b USING (patient_id, site_id, event_date)
        WHERE a.code IN ('27096','G0260','64451') AND b.code = '64625'""",
    "64999 with a radicular diagnosis on its claim": f"""
        SELECT DISTINCT p.source_id FROM procedures p JOIN dx USING (source_id)
        WHERE p.code = '64999' AND ncode IN ({_sql_list(RADICULAR)})""",
    **{f"diagnosis {c}": f"SELECT 1 FROM dx WHERE ncode = '{c.replace('.', '')}'" for c in SPINE},
    "M51.36 before 2024-10-01": """
        SELECT 1 FROM dx WHERE ncode = 'M5136' AND event_date < '2024-10-01'""",
    "M51.360/M51.369 from 2024-10-01": """
        SELECT 1 FROM dx WHERE ncode IN ('M51360','M51369') AND event_date >= '2024-10-01'""",
    "M54.5 still used after 2021-09-30": """
        SELECT 1 FROM dx WHERE ncode = 'M545' AND event_date > '2021-09-30'""",
    "G89.29": "SELECT 1 FROM dx WHERE ncode = 'G8929'",
    "G89.4": "SELECT 1 FROM dx WHERE ncode = 'G894'",
    "cancer within 365 days": _idx_with_dx(CANCER, 0, 365),
    "cancer only more than 365 days earlier": _idx_with_dx(CANCER, 366, 9999),
    "bone metastasis C79.51 earlier": _idx_with_dx(("C79.51",), 0, 9999),
    "skin cancer C44.91 within 365 days": _idx_with_dx(("C44.91",), 0, 365),
    "inflammatory arthropathy before an index line": _idx_with_dx(INFLAMMATORY, 0, 9999),
    "inflammatory arthropathy recorded only after": _idx_with_dx(INFLAMMATORY, -400, -1),
    **{
        f"inflammatory {c}": f"SELECT 1 FROM dx WHERE ncode = '{c.replace('.', '')}'"
        for c in INFLAMMATORY
    },
    "vertebral fracture within 365 days": _idx_with_dx(
        ("S32.010A", "S22.060A", "M48.56XA", "M80.08XA"), 0, 365
    ),
    "spinal infection within 365 days": _idx_with_dx(("M46.26", "M46.46", "G06.1"), 0, 365),
    "cauda equina within 365 days": _idx_with_dx(("G83.4",), 0, 365),
    "pregnancy on the procedure date": _idx_with_dx(("O26.891", "Z34.90", "Z33.1", "Z37.0"), 0, 0),
    "acute: first spine dx < 90 days before, coverage long before": f"""
        WITH first_dx AS (SELECT patient_id, min(event_date::DATE) f FROM dx
                          WHERE ncode IN ({_sql_list(SPINE)}) GROUP BY 1)
        SELECT DISTINCT i.patient_id FROM idx i JOIN first_dx USING (patient_id)
          JOIN coverage c ON c.patient_id = i.patient_id
           AND i.event_date BETWEEN c.start_date AND c.end_date
        WHERE date_diff('day', f, i.event_date::DATE) BETWEEN 0 AND 89
          AND date_diff('day', c.start_date::DATE, i.event_date::DATE) >= 365""",
    "insufficient history: coverage starts < 90 days before": """
        SELECT DISTINCT i.patient_id FROM idx i JOIN coverage c USING (patient_id)
        WHERE i.event_date BETWEEN c.start_date AND c.end_date
          AND date_diff('day', c.start_date::DATE, i.event_date::DATE) < 90
          AND NOT EXISTS (SELECT 1 FROM coverage o WHERE o.patient_id = c.patient_id
                          AND o.start_date < c.start_date
                          AND o.end_date::DATE >= c.start_date::DATE - 1)""",
    "insufficient history: no coverage, first record < 90 days before": """
        WITH firsts AS (SELECT patient_id, min(event_date::DATE) f FROM (
            SELECT patient_id, event_date FROM dx UNION ALL
            SELECT patient_id, event_date FROM procedures) GROUP BY 1)
        SELECT DISTINCT i.patient_id FROM idx i JOIN firsts USING (patient_id)
        WHERE i.patient_id NOT IN (SELECT patient_id FROM coverage)
          AND date_diff('day', f, i.event_date::DATE) < 90""",
    "chronic: spine dx 90-730 days before": _idx_with_dx(SPINE, 90, 730),
    "under 18 on the procedure date": """
        SELECT 1 FROM idx JOIN patients USING (patient_id)
        WHERE event_date::DATE < birth_date::DATE + INTERVAL 18 YEAR""",
    "turning 18 within 180 days of the procedure": """
        SELECT DISTINCT patient_id FROM idx JOIN patients USING (patient_id)
        WHERE abs(date_diff('day', birth_date::DATE + INTERVAL 18 YEAR, event_date::DATE))
              <= 180""",
    "18th birthday on the procedure date, or the day before/after": """
        SELECT DISTINCT patient_id FROM idx JOIN patients USING (patient_id)
        WHERE abs(date_diff('day', birth_date::DATE + INTERVAL 18 YEAR, event_date::DATE)) <= 1""",
    "birth_year only": """
        SELECT 1 FROM patients WHERE birth_date IS NULL AND birth_year IS NOT NULL""",
    "neither birth_date nor birth_year": """
        SELECT 1 FROM patients WHERE birth_date IS NULL AND birth_year IS NULL""",
    "aged 90 or more": "SELECT 1 FROM patients WHERE birth_date < '1935-12-31'",
    "patient seen at several sites": """
        SELECT patient_id FROM procedures GROUP BY 1 HAVING count(DISTINCT site_id) > 1""",
    "index claim with its diagnoses (shared source_id)": """
        SELECT DISTINCT source_id FROM idx JOIN dx USING (source_id)""",
    "index line whose diagnoses are on a same-day encounter": f"""
        SELECT 1 FROM idx i WHERE NOT EXISTS (SELECT 1 FROM dx WHERE dx.source_id = i.source_id)
          AND EXISTS (SELECT 1 FROM dx WHERE dx.patient_id = i.patient_id
                      AND dx.event_date = i.event_date AND dx.ncode IN ({_sql_list(SPINE)}))""",
    "index line without source_id": "SELECT 1 FROM idx WHERE source_id IS NULL",
    "claim diagnoses dated before the line": """
        SELECT 1 FROM idx i JOIN dx USING (source_id) WHERE dx.event_date < i.event_date""",
    "diagnosis without site_id": "SELECT 1 FROM dx WHERE site_id IS NULL",
    "code dotted": "SELECT 1 FROM dx WHERE code = 'M54.16'",
    "code dotless": "SELECT 1 FROM dx WHERE regexp_full_match(code, '[A-Z][0-9][0-9A-Z]{3,5}')",
    "code lower case": "SELECT 1 FROM dx WHERE code <> upper(code)",
    "code padded": "SELECT 1 FROM dx WHERE code <> trim(code)",
    "dx code_system blank": "SELECT 1 FROM dx WHERE code_system IS NULL",
    "dx code_system ICD10CM": "SELECT 1 FROM dx WHERE code_system = 'ICD10CM'",
    "ICD-9-CM code in an ICD-10 field": "SELECT 1 FROM dx WHERE ncode IN ('7242','72210','4019')",
    "procedure code_system blank": "SELECT 1 FROM idx WHERE code_system IS NULL",
    "procedure code_system HCPCS": "SELECT 1 FROM idx WHERE code_system = 'HCPCS'",
    "procedure code_system CPT": "SELECT 1 FROM idx WHERE code_system = 'CPT'",
    "coverage gap": """
        SELECT 1 FROM coverage a JOIN coverage b USING (patient_id)
        WHERE b.start_date::DATE > a.end_date::DATE + 1""",
    "coverage abutting": """
        SELECT 1 FROM coverage a JOIN coverage b USING (patient_id)
        WHERE b.start_date::DATE = a.end_date::DATE + 1""",
    "coverage overlapping": """
        SELECT 1 FROM coverage a JOIN coverage b USING (patient_id)
        WHERE b.start_date > a.start_date AND b.start_date <= a.end_date""",
    "patient without coverage rows": """
        SELECT 1 FROM patients WHERE patient_id NOT IN (SELECT patient_id FROM coverage)""",
    "blank allowed_amount on an index line": "SELECT 1 FROM idx WHERE allowed_amount IS NULL",
    "void + paid replacement, same day": """
        SELECT 1 FROM procedures v JOIN idx p USING (patient_id, event_date, code)
        WHERE lower(v.status) IN ('void','voided') AND v.source_id <> p.source_id""",
    "professional + facility claim for the same procedure": """
        SELECT 1 FROM idx a JOIN idx b USING (patient_id, site_id, event_date, code, line_number)
        WHERE a.source_id < b.source_id AND a.provider_id IS NOT NULL AND b.provider_id IS NULL""",
    "spine procedure that is not an index procedure": """
        SELECT 1 FROM procedures WHERE code IN ('63650','62326','62327','27279','62280','64628')""",
}
MIN_EACH = 3


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_appears(con: duckdb.DuckDBPyConnection, name: str) -> None:
    assert _n(con, SCENARIOS[name]) >= MIN_EACH, name


def test_sites_have_hostile_names_groups_and_skewed_sizes(con: duckdb.DuckDBPyConnection) -> None:
    names = [r[0] for r in con.execute("SELECT site_name FROM sites").fetchall()]
    assert HOSTILE_SITE_NAME in names and QUOTED_SITE_NAME in names
    assert "<script>alert(1)</script>" in HOSTILE_SITE_NAME
    assert all(c in QUOTED_SITE_NAME for c in "&\"'")
    assert len(set(names)) == len(names)
    assert con.execute("SELECT count(DISTINCT site_group) FROM sites").fetchone()[0] >= 3
    sizes = [
        r[0]
        for r in con.execute(
            "SELECT count(DISTINCT patient_id) n FROM procedures GROUP BY site_id ORDER BY n DESC"
        ).fetchall()
    ]
    assert len(sizes) >= 10 and sizes[0] >= 10 * sizes[-1]


def test_files_are_the_canonical_model(csv_dir: tuple[Path, dict[str, int]]) -> None:
    folder, counts = csv_dir
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    for t in TABLES:
        assert list(SCHEMAS[t].names) == COLUMNS[t]
        raw = (folder / f"{t}.csv").read_bytes()
        raw.decode("utf-8")
        assert b"\r" not in raw and raw.endswith(b"\n")
        with (folder / f"{t}.csv").open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == COLUMNS[t]
        assert len(rows) - 1 == counts[t]
        assert {len(r) for r in rows} == {len(COLUMNS[t])}


def test_row_counts_match_files(
    csv_dir: tuple[Path, dict[str, int]], con: duckdb.DuckDBPyConnection
) -> None:
    _, counts = csv_dir
    assert counts["patients"] == ARGS["patients"] and counts["sites"] == ARGS["sites"]
    for t in TABLES:
        assert con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == counts[t], t


def test_values_are_well_formed(con: duckdb.DuckDBPyConnection) -> None:
    def one(sql: str) -> object:
        return con.execute(sql).fetchone()[0]

    assert one("SELECT count(*) - count(DISTINCT patient_id) FROM patients") == 0
    assert one("SELECT min(patient_id) FROM patients") == "P000001"
    assert one("SELECT max(patient_id) FROM patients") == "P003000"
    iso = r"\d{4}-\d{2}-\d{2}"
    for t, c in [
        ("patients", "birth_date"),
        ("diagnoses", "event_date"),
        ("procedures", "event_date"),
        ("coverage", "start_date"),
        ("coverage", "end_date"),
    ]:
        assert one(f"SELECT count(*) FROM {t} WHERE NOT regexp_full_match({c}, '{iso}')") == 0
    # events inside the extract (a claim header may be dated the day before its line)
    events = "(SELECT event_date FROM procedures UNION ALL SELECT event_date FROM diagnoses)"
    assert one(f"SELECT min(event_date) FROM {events}") >= "2018-12-31"
    assert one(f"SELECT max(event_date) FROM {events}") <= "2025-12-31"
    assert one("SELECT count(*) FROM coverage WHERE start_date > end_date") == 0
    assert one("SELECT count(*) FROM patients WHERE birth_year::INT <> year(birth_date::DATE)") == 0
    # ids keep their leading zeros; every site referenced exists
    assert (
        one("SELECT count(*) FROM procedures WHERE NOT regexp_full_match(source_id, '0\\d{11}')")
        == 0
    )
    assert (
        one(
            "SELECT count(*) FROM (SELECT site_id FROM procedures UNION SELECT site_id FROM dx)"
            " WHERE site_id IS NOT NULL AND site_id NOT IN (SELECT site_id FROM sites)"
        )
        == 0
    )
    # amounts have two decimals; index lines 150-2500 (reversals negative)
    money = r"-?\d+\.\d\d"
    bad = f"NOT regexp_full_match(allowed_amount, '{money}')"
    assert one(f"SELECT count(*) FROM procedures WHERE {bad}") == 0
    lo, hi = con.execute(
        "SELECT min(allowed_amount::DECIMAL(12,2)), max(allowed_amount::DECIMAL(12,2)) FROM idx"
        " WHERE code NOT IN ('20552','20553') AND status IS DISTINCT FROM 'reversed'"
    ).fetchone()
    assert lo >= 150 and hi <= 2500
    # index lines are about 3% of procedure lines; most patients have none
    codes = _sql_list(INDEX_CODES)
    assert 0.025 <= one(f"SELECT avg((code IN ({codes}))::INT) FROM procedures") <= 0.04
    assert one("SELECT count(DISTINCT patient_id) FROM idx") < 0.2 * ARGS["patients"]


def test_diagnosis_codes_are_real_icd10cm() -> None:
    """Every code the generator writes is billable ICD-10-CM (FY2026), except the retired codes
    (billable before their cut date, categories now) and the deliberate ICD-9-CM trap codes."""
    cm = pytest.importorskip("simple_icd_10_cm")
    retired = {"M54.5", "M51.36", "M50.12"}
    for code in DX_CODES:
        if code in ICD9_CODES:
            assert not cm.is_valid_item(code), code
        elif code in retired:
            assert cm.is_valid_item(code) and not cm.is_leaf(code), code
        else:
            assert cm.is_valid_item(code) and cm.is_leaf(code), code


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        a, b = tmp_path / f"a_{fmt}", tmp_path / f"b_{fmt}"
        generate(a, patients=700, sites=5, seed=7, fmt=fmt)
        generate(b, patients=700, sites=5, seed=7, fmt=fmt)
        assert _digests(a) == _digests(b)
    generate(tmp_path / "c", patients=700, sites=5, seed=8)
    assert _digests(tmp_path / "a_csv") != _digests(tmp_path / "c")


def test_chunk_size_does_not_change_the_data(tmp_path: Path) -> None:
    n = 2 * BLOCK + 345  # ends in a partial block
    generate(tmp_path / "big", patients=n, sites=7, seed=3)
    generate(tmp_path / "small", patients=n, sites=7, seed=3, chunk_size=97)
    assert _digests(tmp_path / "big") == _digests(tmp_path / "small")
    generate(tmp_path / "pb", patients=n, sites=7, seed=3, fmt="parquet")
    generate(tmp_path / "ps", patients=n, sites=7, seed=3, fmt="parquet", chunk_size=97)
    for t in TABLES:
        big = pq.read_table(tmp_path / "pb" / f"{t}.parquet")
        assert big.equals(pq.read_table(tmp_path / "ps" / f"{t}.parquet")), t


def test_parquet_and_csv_hold_the_same_data(tmp_path: Path) -> None:
    generate(tmp_path / "c", patients=1200, sites=6, seed=11)
    counts = generate(tmp_path / "p", patients=1200, sites=6, seed=11, fmt="parquet")
    con = duckdb.connect()
    for t in TABLES:
        table = pq.read_table(tmp_path / "p" / f"{t}.parquet")
        assert table.schema.equals(SCHEMAS[t]), t
        assert table.num_rows == counts[t]
        for f in table.schema:  # ids and codes are strings, dates are DATE
            if f.name.endswith("_id") or f.name in ("code", "code_system", "modifiers", "status"):
                assert f.type == pa.string(), (t, f.name)
            if f.name.endswith("_date"):
                assert f.type == pa.date32(), (t, f.name)
        as_text = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in COLUMNS[t])
        parquet = f"SELECT {as_text} FROM read_parquet('{tmp_path / 'p' / t}.parquet')"
        text = f"SELECT * FROM read_csv('{tmp_path / 'c' / t}.csv', all_varchar=1)"
        diff = f"(({parquet}) EXCEPT ALL ({text})) UNION ALL (({text}) EXCEPT ALL ({parquet}))"
        assert con.execute(f"SELECT count(*) FROM ({diff})").fetchone()[0] == 0, t


def test_retired_codes_on_dates_when_they_were_current(tmp_path: Path) -> None:
    generate(tmp_path, patients=1500, sites=5, seed=5, start=date(2005, 1, 1))
    con = duckdb.connect()
    for t in ("procedures", "diagnoses"):
        con.execute(
            f"CREATE VIEW {t} AS SELECT * FROM read_csv('{tmp_path / t}.csv', all_varchar=1)"
        )

    def n(where: str) -> int:
        return con.execute(f"SELECT count(*) FROM procedures WHERE {where}").fetchone()[0]

    assert n("code IN ('62310','62311') AND event_date < '2017-01-01'") >= 3
    assert n("code IN ('64622','64623','64626','64627') AND event_date < '2012-01-01'") >= 3
    assert n("code IN ('64470','64472','64475','64476') AND event_date < '2010-01-01'") >= 3
    # current codes never before they existed
    assert n("code IN ('62320','62321','62322','62323') AND event_date < '2017-01-01'") == 0
    assert (
        n("code IN ('64490','64491','64492','64493','64494','64495') AND event_date < '2010-01-01'")
        == 0
    )
    assert n("code IN ('64633','64634','64635','64636') AND event_date < '2012-01-01'") == 0
    assert n("code IN ('64451','64625') AND event_date < '2020-01-01'") == 0
    assert n("code = '64628' AND event_date < '2022-01-01'") == 0
    early_new_dx = con.execute(
        """SELECT count(*) FROM (SELECT upper(replace(trim(code), '.', '')) c, event_date d
                                FROM diagnoses)
           WHERE (c IN ('M5450','M5459') AND d < '2021-10-01')
              OR (c IN ('M51360','M51369') AND d < '2024-10-01')
              OR (c IN ('M50121','M50122') AND d < '2019-10-01')
              OR (c = 'M45A6' AND d < '2023-10-01')"""
    ).fetchone()[0]
    assert early_new_dx == 0


def test_empty_and_tiny_outputs(tmp_path: Path) -> None:
    counts = generate(tmp_path / "empty", patients=0, sites=1, seed=1)
    assert counts == {"patients": 0, "diagnoses": 0, "procedures": 0, "coverage": 0, "sites": 1}
    for t in TABLES:
        with (tmp_path / "empty" / f"{t}.csv").open(newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == COLUMNS[t] and len(rows) == 1 + (t == "sites")
    counts = generate(tmp_path / "one", patients=1, sites=1, seed=1, fmt="parquet")
    assert counts["patients"] == 1
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == sorted(
        f"{t}.parquet" for t in TABLES
    )


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    for kwargs in (
        {"sites": 0},
        {"fmt": "xlsx"},
        {"patients": -1},
        {"chunk_size": 0},
        {"start": date(2020, 1, 1), "end": date(2019, 1, 1)},
    ):
        with pytest.raises(ValueError):
            generate(tmp_path, **{"patients": 10, "sites": 2, "seed": 1, **kwargs})
    assert not list(tmp_path.iterdir())


def test_progress_is_reported(tmp_path: Path) -> None:
    seen: list[str] = []
    generate(tmp_path, patients=2500, sites=3, seed=1, progress=seen.append, chunk_size=1000)
    assert len(seen) == 3 and "2,500 of 2,500" in seen[-1]


# A string that looks like a code: ICD-10 (M54.50, C61, S32.010A), ICD-9 (724.2, 401.9),
# HCPCS/CPT (62320, 0228T, G0260, J1030) or a two-character modifier (Q0, RT, 50).
CODE_LIKE = re.compile(
    r"^(?:[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?|[0-9]{3}(?:\.[0-9]{1,2})?"
    r"|[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4}|[0-9A-Z]{2})$"
)


def test_generator_holds_no_code_literal():
    """Every code the generator writes comes from the pack (synthetic/ tables checked against
    its value sets), so a pack change reaches the synthetic data."""
    source = (ROOT / "audit" / "generate.py").read_text(encoding="utf-8")
    literals = [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert [s for s in literals if CODE_LIKE.match(s.strip())] == []


def test_code_like_pattern_catches_the_kinds_of_code():
    for code in ("M54.50", "C61", "S32.010A", "724.2", "62320", "0228T", "G0260", "Q0", "RT"):
        assert CODE_LIKE.match(code), code


def test_generator_refuses_a_code_missing_from_its_value_set(tmp_path, monkeypatch):
    import audit.generate as generate_module

    assert generate_module._checked("62320", "EPIDURAL", "procedure_codesets.csv") == "62320"
    monkeypatch.setattr(generate_module, "_IN_VALUE_SETS", set())
    with pytest.raises(ValueError, match="not in value set EPIDURAL"):
        generate_module._checked("62320", "EPIDURAL", "procedure_codesets.csv")
