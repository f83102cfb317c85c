"""Spend and providers, the case list, the workbooks and honest rows (issue 12, items 4-7).

Inline tables where it is about the measure (which amounts go to which provider, what counts as
a possible case); the format fixtures for provider ids through every input format; whole runs
for the files a run writes and the files it must not write."""

from __future__ import annotations

import json
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from audit.config import load_settings
from audit.resources import sample_data_dir
from audit.run import run_audit
from audit.workbook import Sheet, write_workbook
from tests.helpers import AS_OF, classified, cli, one_line_error, write_extract
from tests.hostile.attack import read_xlsx

FORMATS = sample_data_dir() / "formats"

PATIENTS = """
    patient_id | birth_date
    P1         | 1970-05-01
    P2         | 1970-05-01
    P3         | 1970-05-01
    P4         | 1970-05-01
"""
# P1: axial, chronic; a facet RFA session of two lines by two clinicians, billed by one group.
# P2: radicular, chronic; an epidural by D1. P3: radicular, unlisted 64999 on the claim of its
# radicular diagnosis (a possible DRG radiofrequency case). P4: axial, 64999 (not radicular:
# no possible case of RAD-DRG).
DIAGNOSES = """
    patient_id | event_date | code   | source_id | site_id
    P1         | 2023-02-01 | M54.50 | C0        | S1
    P1         | 2023-06-01 | M54.50 | C1        | S1
    P2         | 2023-02-01 | M54.16 | C0        | S1
    P2         | 2023-06-02 | M54.16 | C2        | S1
    P3         | 2023-02-01 | M54.16 | C0        | S1
    P3         | 2023-06-03 | M54.16 | C3        | S1
    P4         | 2023-06-03 | M54.50 | C4        | S1
"""
PROCEDURES = """
    patient_id | event_date | code | site_id | source_id | provider_id | billing_provider_id | allowed_amount
    P1 | 2023-06-01 | 64635 | S1 | C1 | D1 | B1 | 100.00
    P1 | 2023-06-01 | 64636 | S1 | C1 | D2 | B1 | 50.50
    P2 | 2023-06-02 | 64483 | S1 | C2 | D1 | B1 | 30.00
    P3 | 2023-06-03 | 64999 | S1 | C3 | D3 | B1 | 900.00
    P4 | 2023-06-03 | 64999 | S1 | C4 | D3 | B1 | 900.00
"""  # noqa: E501


@pytest.fixture
def payer_extract(tmp_path):
    return write_extract(
        tmp_path / "in", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )


def _settings(**values):
    return replace(load_settings(**values), as_of_date=AS_OF)


def _run(folder: Path, out: Path, **values) -> Path:
    run_audit(folder, out, _settings(**values))
    return out


# ----------------------------------------------------------------------------- the measure
def test_provider_spend_counts_a_session_for_each_provider_and_splits_its_amount(payer_extract):
    with classified(payer_extract) as run:
        rows = run.rows(
            "provider_spend",
            "period_type = 'all'",
            "provider_role, provider_id, recommendation, family",
        )
    got = [
        (
            r["provider_role"],
            r["provider_id"],
            r["recommendation"],
            r["discordant_sessions"],
            r["discordant_patients"],
            float(r["allowed_amount"]),
        )
        for r in rows
    ]
    assert got == [
        # role     | provider | recommendation | sessions | patients | amount
        ("billing", "B1", "AX-RFA", 1, 1, 150.50),
        ("billing", "B1", "RAD-EPI", 1, 1, 30.00),
        ("billing", "B1", "all", 2, 2, 180.50),
        ("rendering", "D1", "AX-RFA", 1, 1, 100.00),  # its own line of P1's session
        ("rendering", "D1", "RAD-EPI", 1, 1, 30.00),
        ("rendering", "D1", "all", 2, 2, 130.00),
        ("rendering", "D2", "AX-RFA", 1, 1, 50.50),  # the same session, its other line
        ("rendering", "D2", "all", 1, 1, 50.50),
    ]


def test_possible_cases_are_unlisted_64999_with_a_radicular_indication(payer_extract):
    with classified(payer_extract) as run:
        rows = run.rows("unmeasurable_possible_cases")
        sessions = run.sessions()
    assert [
        (r["site_id"], r["recommendation"], r["family"], r["possible_cases"]) for r in rows
    ] == [
        ("S1", "RAD-DRG", "DRG_RF", 1)  # P3 only: P4's indication is axial
    ]
    assert not any(s["recommendation"] == "RAD-DRG" for s in sessions)  # never classified


def test_unmeasurable_recommendations_are_pack_data_with_source_and_validity():
    from audit.resources import packs_dir

    text = (packs_dir() / "bmj2025_spine" / "unmeasurable_recommendations.csv").read_text()
    header = text.splitlines()[0].split(",")
    assert {"recommendation_id", "family", "source", "valid_from", "valid_to"} <= set(header)
    assert "RAD-DRG,DRG_RF,UNLISTED_NERVE,RADICULAR" in text


# ----------------------------------------------------------------------------- a run's files
def test_providers_case_list_and_workbooks_of_a_run(payer_extract, tmp_path):
    out = _run(payer_extract, tmp_path / "out", suppression="none", case_list=True)
    providers = pq.read_table(out / "internal" / "providers.parquet").to_pylist()
    rendering = {
        (r["provider_id"], r["recommendation"]): r
        for r in providers
        if r["period_type"] == "all" and r["provider_role"] == "rendering"
    }
    assert rendering[("D1", "all")]["allowed_amount_discordant"] == 130.00
    assert {r["currency"] for r in providers} == {"USD"}
    sessions = pq.read_table(out / "internal" / "sessions.parquet").to_pylist()
    discordant = [s for s in sessions if s["outcome"] == "discordant"]
    total = sum(float(s["allowed_amount"]) for s in discordant)
    by_provider = sum(
        r["allowed_amount_discordant"] for (_, rec), r in rendering.items() if rec == "all"
    )
    assert by_provider == pytest.approx(total) == 180.50  # amounts split by line add up

    cases = pq.read_table(out / "internal" / "case_list.parquet").to_pylist()
    assert [(c["patient_id"], c["recommendation"]) for c in cases] == [
        ("P1", "AX-RFA"),
        ("P2", "RAD-EPI"),
    ]
    p1 = cases[0]
    assert p1["source_ids"] == ["C1"] and p1["provider_ids"] == ["D1", "D2"]
    assert p1["billing_provider_ids"] == ["B1"]
    assert p1["codes"] == ["64635", "64636"]
    assert p1["code_descriptions"][0].startswith("64635: Radiofrequency destruction")
    assert p1["indication_descriptions"] == ["M5450: Low back pain, unspecified"]
    assert p1["evidence"].startswith("Rule 9, discordant: AX-RFA advises against facet")
    assert "Chronic (rule 7): M5450" in p1["evidence"] and "on 2023-02-01" in p1["evidence"]
    assert p1["allowed_amount"] == 150.50 and p1["currency"] == "USD"
    csv_text = (out / "internal" / "case_list.csv").read_text(encoding="utf-8")
    assert "64635; 64636" in csv_text and "D1; D2" in csv_text

    internal = read_xlsx(out / "internal" / "spine-audit-internal.xlsx")
    shareable = read_xlsx(out / "shareable" / "spine-audit.xlsx")
    assert list(shareable) == [
        "About",
        "Sites",
        "Months",
        "Quarters",
        "Families",
        "Spend",
        "Data quality",
    ]
    assert list(internal) == ["About", "Providers", "Case list"]  # internal outputs only
    assert "NOT TO BE SHARED" in internal["About"][1][0]  # its note says so on opening
    assert "NOT TO BE SHARED" not in shareable["About"][1][0]
    providers = internal["Providers"]
    header = providers[3]
    sessions = header.index("discordant_sessions")
    assert all(r[sessions] not in (None, "") for r in providers[4:])  # hidden is *, not blank
    period = header.index("period_type")
    assert providers[4:] and {r[period] for r in providers[4:]} == {"all"}  # months: the CSV
    case_sheet = internal["Case list"]
    assert case_sheet[4][0] == "P1" and case_sheet[5][0] == "P2"
    for name, rows in shareable.items():  # no patient or provider id in the shareable one
        cells = {str(v) for row in rows for v in row}
        assert not cells & {"P1", "P2", "D1", "D2", "B1", "C1"}, name


def test_case_list_only_when_asked_and_never_linked(payer_extract, tmp_path):
    out = _run(payer_extract, tmp_path / "out")
    assert not list(out.rglob("case_list*"))
    assert "Case list" not in read_xlsx(out / "internal" / "spine-audit-internal.xlsx")
    assert (out / "internal" / "providers.csv").is_file()  # providers: always, internal
    for page in (out / "shareable").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "case_list.csv" not in text and "providers.csv" not in text, page

    config = tmp_path / "audit.toml"
    config.write_text("case_list = true\n", encoding="utf-8")
    asked = _run(payer_extract, tmp_path / "asked", **{"case_list": True})
    assert (asked / "internal" / "case_list.csv").is_file()
    for page in (asked / "shareable").rglob("*"):
        if page.is_file() and page.suffix in (".html", ".json", ".csv"):
            text = page.read_text(encoding="utf-8")
            assert "case_list.csv" not in text and "case_list.parquet" not in text, page
    assert load_settings(config).case_list is True
    manifest = json.loads((asked / "internal" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["case_list"] is True
    assert "internal/case_list.csv" in manifest["outputs"]


def test_currency_is_stated_on_every_amount(payer_extract, tmp_path):
    out = _run(payer_extract, tmp_path / "out", suppression="none", currency="EUR")
    index = (out / "shareable" / "index.html").read_text(encoding="utf-8")
    site = (out / "shareable" / "sites" / "s1.html").read_text(encoding="utf-8")
    assert "180.50 EUR" in index and "130.00" not in index  # network total, not a provider's
    assert "150.50 EUR" in site and "30.00 EUR" in site
    assert "USD" not in index + site
    providers = (out / "internal" / "providers.csv").read_text(encoding="utf-8")
    assert ",EUR," in providers and "USD" not in providers
    about = dict(
        (r[0], r[1]) for r in read_xlsx(out / "shareable" / "spine-audit.xlsx")["About"][4:]
    )
    assert about["currency"] == "EUR"


def test_currency_must_be_an_iso_code(payer_extract, tmp_path):
    line = one_line_error(cli("run", payer_extract, "--out", tmp_path / "o", "--currency", "usd"))
    assert "currency" in line and "ISO 4217" in line


def test_rad_drg_is_not_measurable_never_zero(payer_extract, tmp_path):
    out = _run(payer_extract, tmp_path / "out", suppression="none")
    site = (out / "shareable" / "sites" / "s1.html").read_text(encoding="utf-8")
    row = next(line for line in site.splitlines() if "Possible cases" in line)
    assert "Not measurable from procedure codes." in row
    assert "unlisted 64999 with a radicular indication" in row
    assert '<span class="possible">1</span>' in row
    assert "how many claims a reviewer would need to read" in site
    assert "RAD-DRG</th><td>dorsal root ganglion radiofrequency</td><td>Do not" in site
    assert '<td class="num">0</td><td class="num">0</td><td class="num">0.00' not in site
    index = (out / "shareable" / "index.html").read_text(encoding="utf-8")
    assert "Spend on discordant sessions" in index and "Not measurable" in index
    families = read_xlsx(out / "shareable" / "spine-audit.xlsx")["Families"]
    header = families[3]
    drg = next(dict(zip(header, r, strict=False)) for r in families[4:] if r[2] == "RAD-DRG")
    assert drg["measurable"] == "not measurable from procedure codes"
    assert drg["possible_cases"] == 1 and drg["discordant_sessions"] is None


# ----------------------------------------------------------------------------- formats
@pytest.mark.parametrize("fmt", ["canonical", "claims", "omop", "fhir"])
def test_provider_ids_through_each_input_format(fmt, tmp_path):
    out = _run(FORMATS / fmt, tmp_path / fmt, suppression="none")
    providers = pq.read_table(out / "internal" / "providers.parquet").to_pylist()
    sessions = pq.read_table(out / "internal" / "sessions.parquet").to_pylist()
    discordant = [s for s in sessions if s["outcome"] == "discordant"]
    roles = {r["provider_role"] for r in providers}
    for role, column in (("rendering", "provider_ids"), ("billing", "billing_provider_ids")):
        expected = {p for s in discordant for p in s[column]}
        got = {r["provider_id"] for r in providers if r["provider_role"] == role} - {None}
        assert got == expected, (fmt, role)
    # billing providers where the format carries them (claims; FHIR's EOB provider), not OMOP
    assert ("billing" in roles) == (fmt in ("claims", "fhir"))
    assert "0987654321" in {r["provider_id"] for r in providers}
    for role in roles:
        spent = sum(
            r["allowed_amount_discordant"]
            for r in providers
            if r["provider_role"] == role
            and r["period_type"] == "all"
            and r["recommendation"] == "all"
        )
        assert spent == pytest.approx(sum(float(s["allowed_amount"] or 0) for s in discordant))


def test_provider_counts_go_through_suppression(tmp_path):
    out = _run(sample_data_dir(), tmp_path / "out")
    providers = pq.read_table(out / "internal" / "providers.parquet").to_pylist()
    assert providers and {r["suppression_profile"] for r in providers} == {"cms"}
    for r in providers:
        assert (
            r["discordant_sessions"] is None
            or r["discordant_sessions"] == 0
            or (r["discordant_sessions"] > 10)
        )
        if r["discordant_sessions"] is None:
            assert r["allowed_amount_discordant"] is None  # hidden with its count
    sites = read_xlsx(out / "shareable" / "spine-audit.xlsx")["Sites"]
    header, rows = sites[3], [dict(zip(sites[3], r, strict=False)) for r in sites[4:]]
    summary = {
        r["site_id"]: r
        for r in pq.read_table(out / "shareable" / "site_summary.parquet").to_pylist()
        if r["period_type"] == "all"
    }
    assert "currency" in header
    for r in rows:  # the workbook shows what site_summary publishes; * where it is hidden
        s = summary[r["site_id"]]
        for c in ("sessions_discordant", "discordant_patients"):
            assert r[c] == ("*" if s[c] is None else s[c]), (r["site_id"], c)
        if s["discordant_patients"] is None:
            assert r["concordance"] == "*"


# ----------------------------------------------------------------------------- workbooks
def test_workbook_writes_formulas_as_text(tmp_path):
    hostile = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "plain"]
    path = write_workbook(
        tmp_path / "w.xlsx",
        [Sheet("S", "=title", ("=col", "n"), [[h, 1] for h in hostile], note="+note")],
        "t",
    )
    sheet = read_xlsx(path)["S"]  # raises on any formula cell
    assert sheet[0][0] == "=title" and sheet[1][0] == "+note" and sheet[3][0] == "=col"
    assert [r[0] for r in sheet[4:]] == hostile
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert "<f>" not in xml and 'quotePrefix="1"' in styles


def test_workbook_bytes_are_deterministic(tmp_path):
    sheets = [Sheet("Sites", "t", ("a", "b"), [["x", 1.5], [None, 2]])]
    a = write_workbook(tmp_path / "a.xlsx", sheets, "t").read_bytes()
    time.sleep(1.1)  # a clock anywhere in the file would now differ
    b = write_workbook(tmp_path / "b.xlsx", sheets, "t").read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core


def test_run_workbooks_are_byte_identical_across_runs(payer_extract, tmp_path):
    a = _run(payer_extract, tmp_path / "a", case_list=True)
    b = _run(payer_extract, tmp_path / "b", case_list=True)
    for rel in ("shareable/spine-audit.xlsx", "internal/spine-audit-internal.xlsx"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_a_mistyped_validity_date_of_an_unmeasurable_row_is_refused(payer_extract, tmp_path):
    """A valid_to that is no date must not leave the possible-case window open."""
    from tests.helpers import test_pack as make_pack

    pack = Path(make_pack(tmp_path))
    csv_path = pack / "unmeasurable_recommendations.csv"
    text = csv_path.read_text(encoding="utf-8")
    csv_path.write_text(text.rstrip("\n") + "2025-13-01\n", encoding="utf-8")  # valid_to
    line = one_line_error(cli("run", payer_extract, "--out", tmp_path / "o", "--pack", pack, "-q"))
    assert "unmeasurable_recommendations.csv RAD-DRG x DRG_RF" in line and "2025-13-01" in line
