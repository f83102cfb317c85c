"""Hostile catalogue, published outputs: what may be shared, and what a reader could work out
from it (issue 10, deliverables 4-6). docs/security.md, "Published outputs", lists each case.

The recovery attack (tests/hostile/attack.py) reads only the shareable outputs of a run and
solves, by linear programming, for the least and greatest value of every hidden cell; a hidden
cell narrowed below the suppression range (1..threshold) fails the test.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Hashable
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import audit.report as report
from audit.cli import main
from audit.config import load_settings
from audit.context import ReportContext
from audit.disclosure import HIDDEN, PROFILES
from audit.gate import _shown
from audit.generate import generate
from audit.outputs import report_frames
from audit.resources import sample_data_dir
from audit.run import classify, run_audit
from tests.hostile.attack import attack, read_published, true_counts, unsound

AS_OF = date(2026, 6, 30)
ROUNDING = ("cms", "opensafely", "nhs")


# ----------------------------------------------------------------------------- helpers
def settings(profile: str = "cms"):
    return load_settings(suppression=profile, as_of_date=AS_OF)


def run(extract: Path, out: Path, profile: str = "cms", **period) -> Path:
    """A whole run; returns the folder that holds the shareable outputs."""
    run_audit(extract, out, settings(profile), **period)
    return out / "shareable" if (out / "shareable" / "index.html").is_file() else out


def shareable_text(folder: Path) -> str:
    """Every shareable text file of a run (pages, site summary, public manifest if any)."""
    parts = [(folder / "index.html").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((folder / "sites").glob("*.html"))]
    parts.append((folder / "site_summary.csv").read_text(encoding="utf-8"))
    manifest = folder / "manifest.json"
    if manifest.is_file() and "published" in json.loads(manifest.read_text(encoding="utf-8")):
        parts.append(manifest.read_text(encoding="utf-8"))
    return "\n".join(parts)


def tiny_extract(folder: Path, plan: dict[str, dict[str, int]], status: str = "") -> Path:
    """A hand-built extract: per site, how many patients end with each outcome. Each patient
    has one facet joint injection; ``discordant``: chronic axial pain; ``not_addressed``:
    chronic radicular pain (no recommendation on facet injections for it); ``trial``: axial
    pain with modifier Q1; ``out``: no spine diagnosis. Discordant patients have a second
    injection a month later."""
    folder.mkdir(parents=True, exist_ok=True)
    patients, diagnoses, procedures, sites = [], [], [], []
    n = 0
    for site, kinds in plan.items():
        sites.append((site, f"Clinic {site}"))
        for kind, count in kinds.items():
            for _ in range(count):
                n += 1
                pid, first = f"P{n:04d}", date(2023, 1, 1) + timedelta(days=n % 200)
                later = first + timedelta(days=120)
                patients.append((pid, "1970-05-01"))
                code = {"discordant": "M54.50", "trial": "M54.50", "not_addressed": "M54.16"}
                if kind in code:
                    diagnoses.append((pid, first, code[kind], f"V{n}a", site))
                    diagnoses.append((pid, later, code[kind], f"V{n}b", site))
                modifier = "Q1" if kind == "trial" else ""
                procedures.append((pid, later, "64493", site, f"V{n}b", modifier, status))
                if kind == "discordant":  # a second session: sessions outnumber patients
                    again = later + timedelta(days=30)
                    diagnoses.append((pid, again, code[kind], f"V{n}c", site))
                    procedures.append((pid, again, "64493", site, f"V{n}c", "", status))
    tables = {
        "patients": (["patient_id", "birth_date"], patients),
        "diagnoses": (["patient_id", "event_date", "code", "source_id", "site_id"], diagnoses),
        "procedures": (
            ["patient_id", "event_date", "code", "site_id", "source_id", "modifiers", "status"],
            procedures,
        ),
        "sites": (["site_id", "site_name"], sites),
    }
    for name, (header, rows) in tables.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    return folder


TINY_PLAN = {
    "S1": {"discordant": 12, "not_addressed": 3, "out": 20, "trial": 2},
    "S2": {"discordant": 15, "out": 11},
    "S3": {"discordant": 30, "not_addressed": 2, "out": 14, "trial": 1},
    "S4": {"discordant": 4, "out": 3},
    "S5": {"discordant": 11, "trial": 1},
}


@pytest.fixture(scope="module")
def small_sites(tmp_path_factory) -> Path:
    """A generated network of many small sites (400 patients, 30 sites, 19 months)."""
    folder = tmp_path_factory.mktemp("small_sites")
    generate(folder, 400, 30, seed=11, start=date(2024, 6, 1), end=date(2025, 12, 31))
    return folder


@pytest.fixture(scope="module")
def more_sites(tmp_path_factory) -> Path:
    """A larger generated network (1,200 patients, 40 sites, three years)."""
    folder = tmp_path_factory.mktemp("more_sites")
    generate(folder, 1200, 40, seed=3, start=date(2023, 1, 1), end=date(2025, 12, 31))
    return folder


def assert_attack_fails(folder: Path, truth: dict[Hashable, int] | None = None) -> None:
    published = read_published(folder)
    assert published.hidden_keys(), "nothing hidden: the extract does not exercise the attack"
    result = attack(published, exact=truth is not None)
    assert not published.problems, published.problems
    assert not result.leaks(), f"hidden cells narrowed by a reader:\n{result.describe()}"
    if truth is not None:
        assert not unsound(result, truth), unsound(result, truth)


# ----------------------------------------------------------------------------- the attack
def _legacy_suppress_cells(values, groups, profile, *args, **kwargs):
    """Complementary suppression as it was at d4672b2: a group holding one hidden cell hides
    its smallest non-zero other cell; the network row and the network detail were in no
    group. Used to show that the attack finds what the issue reported."""
    new_kinds = {
        "network_reason",
        "network_in_population",
        "network_trial_no_recommendation",
        "network_recommendation",
    }
    net_row = {("network", c) for c in report.SESSION_COLUMNS}
    kept = [list(g) for g in groups if set(g) != net_row and not any(k[0] in new_kinds for k in g)]
    hidden = {k for k, v in values.items() if profile.hides(int(v))}
    changed = True
    while changed:
        changed = False
        for group in kept:
            cells = [k for k in group if k in values]
            if sum(k in hidden for k in cells) == 1:
                open_cells = [k for k in cells if k not in hidden]
                if open_cells:
                    nonzero = [k for k in open_cells if values[k]] or open_cells
                    hidden.add(min(nonzero, key=lambda k: values[k]))
                    changed = True
    return {k: None if k in hidden else profile.round(int(v)) for k, v in values.items()}


@pytest.mark.slow
def test_attack_recovers_the_network_row_under_the_old_suppression(tmp_path, monkeypatch):
    """The attack is real: against the suppression of d4672b2 it works out the sample's 9
    "not addressed" sessions of the network row exactly, as the issue found by hand."""
    monkeypatch.setattr(report, "suppress_cells", _legacy_suppress_cells)
    folder = run(sample_data_dir(), tmp_path / "out")
    result = attack(read_published(folder))
    pinned = result.ranges[("network", "sessions_not_addressed")]
    assert (pinned.low, pinned.high) == pytest.approx((9, 9))


def test_network_row_is_inside_complementary_suppression():
    """Three sites with 3, 4 and 2 "not addressed" sessions and everything else large: the
    network's 9 would be its total minus its three other outcomes, unless another of them is
    hidden with it."""
    counts = _site_counts([("A", 100, 50, 0), ("B", 80, 60, 0), ("C", 90, 70, 0)])
    counts["sessions_not_addressed"] = [3, 4, 2]
    counts["sessions_total"] += counts["sessions_not_addressed"]
    d = report.disclose({"site_period_counts": counts}, {"suppression": "cms"})
    row = [d.get(("network", c)) for c in report.SESSION_COLUMNS]
    assert row[3] is HIDDEN and sum(v is HIDDEN for v in row) >= 2, row


@pytest.mark.parametrize("profile", ROUNDING)
def test_attack_on_many_small_sites(small_sites, tmp_path, profile):
    assert_attack_fails(run(small_sites, tmp_path / "out", profile))


@pytest.mark.parametrize("profile", ROUNDING)
def test_attack_on_a_hand_built_tiny_network(tmp_path, profile):
    extract = tiny_extract(tmp_path / "in", TINY_PLAN)
    assert_attack_fails(run(extract, tmp_path / "out", profile))


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["cms", "nhs"])
def test_attack_on_a_larger_network(more_sites, tmp_path, profile):
    assert_attack_fails(run(more_sites, tmp_path / "out", profile))


@pytest.mark.slow
def test_attack_on_the_sample(tmp_path):
    """The issue's case: the sample's network row (9 "not addressed" sessions) included."""
    assert_attack_fails(run(sample_data_dir(), tmp_path / "out"))


def test_attack_model_is_sound(small_sites, tmp_path):
    """Every relation the attacker uses holds: each true count lies in the range it finds."""
    classified = classify(small_sites, settings())
    try:
        truth = true_counts(report_frames(classified.engine))
    finally:
        classified.con.close()
    assert_attack_fails(run(small_sites, tmp_path / "out"), truth)


@pytest.mark.parametrize("profile", ["cms", "opensafely"])
def test_attack_on_a_month_with_its_trend_history(small_sites, tmp_path, profile):
    """A one-month audit publishes the 24 months before it and the quarters of that window
    (site_summary history_month and quarter rows, the site pages' charts and quarterly
    table): attacked together with the month, and every relation the attacker uses holds."""
    period = {"period_from": date(2025, 11, 1), "period_to": date(2025, 11, 30)}
    classified = classify(small_sites, settings(profile), **period)
    try:
        truth = true_counts(report_frames(classified.engine))
    finally:
        classified.con.close()
    assert any(k[2].startswith("H") for k in truth if k[0] == "site_period")
    assert any("-Q" in k[2] for k in truth if k[0] == "site_period")
    assert_attack_fails(run(small_sites, tmp_path / "out", profile, **period), truth)


def test_public_manifest_gives_a_reader_nothing_more(small_sites, tmp_path):
    """The public manifest (network attrition, by recommendation, data quality) is attacked
    together with the pages it is written with."""
    classified = classify(small_sites, settings("nhs"))
    try:
        frames = report_frames(classified.engine)
    finally:
        classified.con.close()
    out = tmp_path / "shareable"
    report.write_aggregate_outputs(out, frames, ReportContext(suppression="nhs", tool_version="x"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["published"]["network_out_of_population_by_reason"]
    assert ("network_in_population",) in read_published(
        out
    ).seen  # the attack reads the manifest too
    assert_attack_fails(out)


# ----------------------------------------------------------------------------- what is shown
def test_rates_derive_from_published_counts(tmp_path):
    folder = run(sample_data_dir(), tmp_path / "out", "nhs")
    with (folder / "site_summary.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["concordance"]]
    assert rows
    for r in rows:
        pin, pd_ = int(r["in_population_patients"]), int(r["discordant_patients"])
        assert float(r["concordance"]) == round(1 - pd_ / pin, 4)


def test_free_text_status_is_counted_not_named(tmp_path):
    hostile = "pt P000001 John Smith DOB 1988-07-15"
    extract = tiny_extract(tmp_path / "in", TINY_PLAN, status=hostile)
    folder = run(extract, tmp_path / "out")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "other status values" in index
    text = shareable_text(folder).lower()
    for fragment in ("john", "smith", "p000001", "1988"):
        assert fragment not in text


def test_status_labels_come_from_a_fixed_vocabulary():
    codes = report.pack_codes("bmj2025_spine")
    assert report._dq_label("status_value_counted", "paid", codes) == "paid"
    assert report._dq_label("status_value_counted", "pt_p000001_john_smith", codes) is None
    assert report._dq_label("retired_code_used_after_retirement", "M545", codes) == "M545"
    assert report._dq_label("unlisted_nervous_system_procedure_possible_drg_rf", "64999", codes)
    for code in ("P000001", "John Smith", "62321-50"):  # not the pack's, not the tool's
        assert report._dq_label("code_used_before_valid_from", code, codes) is None
    assert report._recon_label("not_counting_status", "void", {"void"}) == "void"
    assert report._recon_label("not_counting_status", "john_smith", {"void"}) is None
    assert report._recon_label("quarantined", "unparseable_date", set()) == "unparseable_date"


def test_input_file_names_are_not_on_the_index(tmp_path):
    folder = run(sample_data_dir() / "formats" / "fhir", tmp_path / "out")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "fhir extract: patients" in index
    for name in ("Patient.ndjson", "Condition.ndjson", "ExplanationOfBenefit.ndjson"):
        assert name not in index


def test_default_period_is_shown_as_months(tmp_path):
    folder = run(sample_data_dir(), tmp_path / "out")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "2019-04 to 2025-12 (all months with data)" in index
    text = shareable_text(folder)
    assert "2019-04-18" not in text  # the extract's first event date
    summary = pq.read_table(folder / "site_summary.parquet").to_pylist()
    whole = [r for r in summary if r["period_type"] == "all"]
    assert {r["period_start"] for r in whole} == {date(2019, 4, 1)}
    assert {r["period_end"] for r in whole} == {date(2025, 12, 31)}


def test_given_period_is_shown_as_given(tmp_path):
    folder = run(
        sample_data_dir(),
        tmp_path / "out",
        period_from=date(2025, 1, 1),
        period_to=date(2025, 6, 30),
    )
    assert "2025-01-01 to 2025-06-30" in (folder / "index.html").read_text(encoding="utf-8")


def test_public_manifest_holds_published_counts_only(tmp_path):
    frames = {
        "site_period_counts": _site_counts([("A", 3, 40, 2), ("B", 200, 20, 50)]),
        "site_outcome_counts": None,
        "recommendations": None,
    }
    context = {
        "tool_version": "0.1.0",
        "suppression": "cms",
        "settings": {"suppression": "cms", "non_counting_statuses": ["void"]},
        "input_format": "canonical",
        "generated_from": ["secret_export_2025.csv"],
        "period_start": "2024-01-17",
        "period_end": "2024-12-09",
        "reconciliation": {
            "procedures": {
                "input_rows": 1000,
                "counted": {"index_procedure": 985},
                "not_counting_status": {"void": 5},
                "quarantined": {"unparseable_date": 10},
                "accounted_rows": 1000,
                "balanced": True,
            }
        },
    }
    out = tmp_path / "shareable"
    report.write_aggregate_outputs(
        out, {k: v for k, v in frames.items() if v is not None}, ReportContext(**context)
    )
    text = (out / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    for secret in ("secret_export", "2024-01-17", "2024-12-09", "first_day", "balanced"):
        assert secret not in text
    assert manifest["suppression"] == {
        "profile": "cms",
        "threshold": 10,
        "rounding": 1,
        "rule": PROFILES["cms"].describe(),
    }
    assert manifest["period"]["shown_as"] == "2024-01 to 2024-12 (all months with data)"
    recon = {r["item"]: r["rows"] for r in manifest["published"]["reconciliation"]}
    assert recon["not counting status / void"] == "*"  # 5 rows: hidden, never exact
    assert recon["quarantined / unparseable date"] == "*"  # a complement: hidden too
    network = manifest["published"]["network"]
    index = (out / "index.html").read_text(encoding="utf-8")
    foot = re.search(r"<tfoot>(.*?)</tfoot>", index, re.S).group(1)
    cells = re.findall(r'<td class="num">(.*?)</td>', foot)
    on_page = [cells[0], cells[1], *cells[3:8]]  # the counts of the network row
    in_manifest = [network[c] for c in (*report.PATIENT_COLUMNS, *report.SESSION_COLUMNS)]
    for page_value, value in zip(on_page, in_manifest, strict=True):
        assert ("hid" in page_value) if value == "*" else page_value == f"{value:,}"


def _site_counts(rows: list[tuple[str, int, int, int]]):
    import pandas as pd

    records = []
    for sid, disc, oop, trial in rows:
        records.append(
            {
                "site_id": sid,
                "site_name": f"Site {sid}",
                "site_group": None,
                "period_type": "all",
                "period_start": date(2024, 1, 17),
                "period_end": date(2024, 12, 9),
                "in_population_patients": 100,
                "discordant_patients": min(disc, 20),
                "sessions_total": disc + oop + trial,
                "sessions_discordant": disc,
                "sessions_clinical_trial": trial,
                "sessions_not_addressed": 0,
                "sessions_out_of_population": oop,
                "allowed_amount_total": 0.0,
                "allowed_amount_discordant": 0.0,
            }
        )
    return pd.DataFrame(records)


# ----------------------------------------------------------------------------- no data
def _no_nat(folder: Path) -> None:
    assert "NaT" not in shareable_text(folder)
    assert "100.0%" not in shareable_text(folder)


def test_no_procedures_is_no_data_never_100_percent(tmp_path):
    extract = tmp_path / "in"
    extract.mkdir()
    for name in ("patients", "diagnoses", "sites", "coverage"):
        (extract / f"{name}.csv").write_bytes((sample_data_dir() / f"{name}.csv").read_bytes())
    header = (sample_data_dir() / "procedures.csv").read_text(encoding="utf-8").splitlines()[0]
    (extract / "procedures.csv").write_text(header + "\n", encoding="utf-8")
    folder = run(extract, tmp_path / "out")
    _no_nat(folder)
    assert "No data: no counting procedure session" in (folder / "index.html").read_text()
    summary = pq.read_table(folder / "site_summary.parquet").to_pylist()
    assert summary and all(r["concordance"] is None for r in summary)
    assert any(r["in_population_patients"] for r in summary)  # patients, yet no rate


def test_empty_extract_is_no_data_without_nat(tmp_path):
    extract = tmp_path / "in"
    extract.mkdir()
    (extract / "patients.csv").write_text("patient_id,birth_date\n")
    (extract / "diagnoses.csv").write_text("patient_id,event_date,code,source_id,site_id\n")
    (extract / "procedures.csv").write_text("patient_id,event_date,code,site_id,source_id\n")
    (extract / "sites.csv").write_bytes((sample_data_dir() / "sites.csv").read_bytes())
    folder = run(extract, tmp_path / "out")
    _no_nat(folder)
    assert "<dd>no data</dd>" in (folder / "index.html").read_text()  # the audit period
    summary = pq.read_table(folder / "site_summary.parquet").to_pylist()
    assert all(r["period_start"] is None and r["concordance"] is None for r in summary)


def test_period_after_the_last_event_is_no_data_without_nat(tmp_path):
    """A period past the extract's last event (but before the as-of date; --from after the
    as-of date is refused: tests/hostile/test_errors.py) holds no session: no data, no NaT."""
    folder = run(sample_data_dir(), tmp_path / "out", period_from=date(2026, 3, 1))
    _no_nat(folder)
    assert "2026-03-01 to no data" in (folder / "index.html").read_text()
    summary = pq.read_table(folder / "site_summary.parquet").to_pylist()
    period = [r for r in summary if r["period_type"] in ("all", "month")]
    assert period and all(r["period_end"] is None for r in period)
    # the 24 months before the period still give the trend (history months and quarters)
    trend = [r for r in summary if r["period_type"] in ("history_month", "quarter")]
    assert trend and all(r["period_end"] < date(2026, 3, 1) for r in trend)


# ----------------------------------------------------------------------------- validate
@pytest.mark.parametrize(
    "patient_id",
    ["Иван-Петров-42", "患者１２３", "مريض٣٤٥", "रोगी४२"],
    ids=["cyrillic", "cjk-fullwidth-digits", "arabic-indic-digits", "devanagari"],
)
def test_validate_masks_identifiers_in_any_script(tmp_path, capsys, patient_id):
    extract = tmp_path / "in"
    extract.mkdir()
    (extract / "patients.csv").write_text("patient_id,birth_date\nP1,1970-01-01\n")
    (extract / "diagnoses.csv").write_text(
        f"patient_id,event_date,code,source_id,site_id\n{patient_id},2024-01-05,M54.50,E1,S1\n",
        encoding="utf-8",
    )
    (extract / "procedures.csv").write_text("patient_id,event_date,code,site_id,source_id\n")
    main(["validate", str(extract), "--as-of", "2026-06-30"])
    printed = capsys.readouterr().out
    assert "unknown_patients" in printed  # the finding is reported ...
    shown = re.search(r"patient_id '([^']*)'", printed).group(1)
    assert set(shown) <= {"X", "9", "-"} and len(shown) == len(patient_id)  # ... as its shape
    assert not any(ch in printed for ch in patient_id if ch.isalnum() and not ch.isascii())
    assert _shown("patient_id", patient_id) == shown


# ----------------------------------------------------------------------------- already safe
HOSTILE_NAME = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


@pytest.fixture
def hostile_pages(tmp_path) -> tuple[str, str]:
    frames = {"site_period_counts": _site_counts([("A", 30, 40, 0)])}
    frames["site_period_counts"]["site_name"] = HOSTILE_NAME
    out = tmp_path / "shareable"
    report.write_aggregate_outputs(out, frames, ReportContext(suppression="cms"))
    return (out / "index.html").read_text(), (out / "sites" / "a.html").read_text()


ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


def test_hostile_site_name_is_escaped_in_the_body(hostile_pages):
    index, page = hostile_pages
    assert f">{ESCAPED}</a>" in index and f"<h1>{ESCAPED}</h1>" in page
    assert "<script" not in index + page and "<img" not in index + page


def test_hostile_site_name_is_escaped_in_attributes(hostile_pages):
    index, page = hostile_pages
    assert f'title="{ESCAPED} (A)"' in index
    assert f'aria-label="Discordant sessions per month, {ESCAPED}"' in page or "<svg" not in page


def test_hostile_site_name_is_escaped_in_the_title(hostile_pages):
    _, page = hostile_pages
    assert f"<title>{ESCAPED} &ndash; spine procedure audit</title>" in page


def test_site_summary_csv_is_formula_safe(tmp_path):
    frames = {"site_period_counts": _site_counts([("=HYPERLINK(1)", 30, 40, 0)])}
    frames["site_period_counts"]["site_name"] = "+cmd|' /C calc'!A0"
    frames["site_period_counts"]["site_group"] = "@SUM(A1)"
    out = tmp_path / "shareable"
    report.write_aggregate_outputs(out, frames, ReportContext(suppression="cms"))
    text = (out / "site_summary.csv").read_text()
    assert "'=HYPERLINK(1)" in text and "'+cmd" in text and "'@SUM(A1)" in text
    row = next(csv.DictReader(text.splitlines()))
    assert row["sessions_total"] == "70"  # numbers stay numbers


# ----------------------------------------------------------------------------- issue 12 outputs
FORMULAS = ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1")


def test_provider_ids_with_formulas_stay_text(tmp_path):
    """Provider and claim ids as a hostile extract writes them: written as text everywhere the
    internal outputs hold them (CSV with a leading ', the workbook with write_string and the
    quote prefix: no cell is a formula)."""
    from tests.helpers import write_extract
    from tests.hostile.attack import read_xlsx

    lines = [
        f'P{i},2023-06-0{i + 1},64483,S1,"{f.replace(chr(34), chr(34) * 2)}",'
        f'"{f.replace(chr(34), chr(34) * 2)}","{f.replace(chr(34), chr(34) * 2)}",10.00'
        for i, f in enumerate(FORMULAS)
    ]
    extract = write_extract(
        tmp_path / "in",
        patients="patient_id | birth_date\n"
        + "\n".join(f"P{i} | 1970-01-01" for i in range(len(FORMULAS))),
        diagnoses="patient_id | event_date | code | source_id | site_id\n"
        + "\n".join(
            f"P{i} | 2023-{month}-0{i + 1} | M54.16 | {month}{i} | S1"
            for i in range(len(FORMULAS))
            for month in ("01", "06")
        ),
    )
    (extract / "procedures.csv").write_text(
        "patient_id,event_date,code,site_id,source_id,provider_id,billing_provider_id,"
        "allowed_amount\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run_audit(
        extract, out, load_settings(suppression="none", case_list=True, as_of_date="2026-01-01")
    )
    providers = (out / "internal" / "providers.csv").read_text(encoding="utf-8")
    cases = (out / "internal" / "case_list.csv").read_text(encoding="utf-8")
    ids = {
        r["provider_id"] for r in pq.read_table(out / "internal" / "providers.parquet").to_pylist()
    }
    assert {f.strip() for f in FORMULAS} <= ids  # the ids themselves, untouched in Parquet
    for text in (providers, cases):
        for row in csv.reader(text.splitlines()[1:]):
            for cell in row:
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or cell == "", cell
    book = read_xlsx(out / "internal" / "spine-audit-internal.xlsx")  # raises on a formula
    texts = {v for rows in book.values() for row in rows for v in row if isinstance(v, str)}
    assert '=HYPERLINK("http://x","y")' in texts and "@SUM(A1)" in texts
    with zipfile.ZipFile(out / "internal" / "spine-audit-internal.xlsx") as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.endswith(".xml"))
    shareable = read_xlsx(out / "shareable" / "spine-audit.xlsx")
    cells = {str(v) for rows in shareable.values() for row in rows for v in row}
    assert not cells & set(FORMULAS)  # provider and claim ids are never in the shareable one


def test_shareable_workbook_is_attacked_with_the_pages(small_sites, tmp_path):
    """The shareable workbook holds the pages' published values: the attack reads it (every
    count the same cell as on the pages) and still narrows nothing hidden."""
    out = run(small_sites, tmp_path / "out")
    assert (out / "spine-audit.xlsx").is_file()
    pub = read_published(out)
    assert any("xlsx" in w for w in pub.where.values()) or any(k[0] == "possible" for k in pub.seen)
    assert not pub.problems
    assert_attack_fails(out)


def test_hostile_site_name_in_the_workbook_is_text(tmp_path):
    from tests.hostile.attack import read_xlsx

    frames = {"site_period_counts": _site_counts([("=HYPERLINK(1)", 30, 40, 0)])}
    frames["site_period_counts"]["site_name"] = "+cmd|' /C calc'!A0"
    out = tmp_path / "shareable"
    report.write_aggregate_outputs(out, frames, ReportContext(suppression="cms"))
    sites = read_xlsx(out / "spine-audit.xlsx")["Sites"]
    assert sites[4][0] == "=HYPERLINK(1)" and sites[4][1] == "+cmd|' /C calc'!A0"
