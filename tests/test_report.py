"""Reporting layer: site_summary files, HTML pages, charts, slugs and safe rendering."""

from __future__ import annotations

import json
import random
import re
import time
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from audit.context import ReportContext
from audit.disclosure import HIDDEN
from audit.pack import load_pack, resolve_pack
from audit.report import (
    SESSION_COLUMNS,
    SUMMARY_COLUMNS,
    csv_safe,
    disclose,
    safe_output_path,
    site_slugs,
    slugify,
    write_aggregate_outputs,
)
from audit.steps import read_sql
from tests.helpers import chart_data

REC_ROWS = [
    ("AX-RFA", "AXIAL", "FACET_RFA"),
    ("AX-RFA", "AXIAL", "SI_RFA"),
    ("AX-EPI", "AXIAL", "EPIDURAL"),
    ("AX-JNT", "AXIAL", "FACET_INJ"),
    ("AX-JNT", "AXIAL", "SI_INJ"),
    ("AX-IM", "AXIAL", "TRIGGER_POINT"),
    ("RAD-DRG", "RADICULAR", "DRG_RF"),
    ("RAD-EPI", "RADICULAR", "EPIDURAL"),
]
REASONS = [
    (1, "age_under_18"),
    (2, "age_unknown"),
    (3, "no_spine_indication"),
    (4, "cancer"),
    (5, "inflammatory_arthropathy"),
    (6, "other_specific_cause"),
    (7, "acute"),
    (7, "insufficient_history"),
]


def recommendations() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"recommendation_id": r, "pain_type": p, "family": f, "summary": f"Do not offer {f}"}
            for r, p, f in REC_ROWS
        ]
    )


def context(**overrides) -> dict:
    ctx = {
        "tool_version": "0.1.0",
        "pack": {
            "name": "bmj2025_spine",
            "version": "2025.1.0",
            "title": "Commonly used interventional procedures for non-cancer chronic spine pain",
            "citation": "Busse JW, et al. BMJ 2025;388:e079970",
        },
        "settings": {"lookback_days": 730, "chronic_days": 90, "other_specific_cause": True},
        "period_from": "2024-01-01",
        "period_to": "2024-12-31",
        "suppression": {"profile": "cms", "threshold": 10, "rounding": 1},
        "diagnoses_have_site_ids": True,
        "data_quality": [
            {"check": "unlisted 64999", "code": "64999", "count": 3, "note": "possible DRG RF"}
        ],
        "reconciliation": {
            "procedures": {
                "input_rows": 1000,
                "counted": {"(blank)": 985},
                "not_counting_status": {"void": 5},
                "quarantined": {"icd9_in_icd10_field": 10},
                "accounted_rows": 1000,
                "balanced": True,
            },
            "patients": {"input_rows": 400, "counted": {"(blank)": 400}, "balanced": True},
        },
        "generated_from": ["patients.csv", "procedures.csv", "diagnoses.csv"],
    }
    ctx.update(overrides)
    return ctx


def site_row(site_id: str, name: str | None = None, **counts) -> dict:
    """One whole-period site_period_counts row; sessions_total defaults to the outcome sum."""
    row = {
        "site_id": site_id,
        "site_name": name if name is not None else f"Site {site_id}",
        "site_group": None,
        "period_type": "all",
        "period_start": date(2024, 1, 1),
        "period_end": date(2024, 12, 31),
        "in_population_patients": 100,
        "discordant_patients": 20,
        "sessions_discordant": 30,
        "sessions_clinical_trial": 0,
        "sessions_not_addressed": 20,
        "sessions_out_of_population": 50,
        "allowed_amount_total": 10000.0,
        "allowed_amount_discordant": 3000.0,
    }
    row.update(counts)
    row.setdefault(
        "sessions_total",
        row["sessions_discordant"]
        + row["sessions_clinical_trial"]
        + row["sessions_not_addressed"]
        + row["sessions_out_of_population"],
    )
    return row


def with_attrition(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The frames with the site_attrition the engine would give: the real SQL step, run on
    these frames and the shipped pack."""
    con = duckdb.connect()
    load_pack(con, resolve_pack("bmj2025_spine"))
    counts = frames["site_period_counts"]
    con.register("site_period_counts", counts)
    outcomes = frames.get("site_outcome_counts")
    if outcomes is None or not len(outcomes.columns):
        con.execute(
            "CREATE TABLE site_outcome_counts (site_id VARCHAR, period_type VARCHAR, "
            "outcome VARCHAR, reason VARCHAR, sessions BIGINT)"
        )
    else:
        con.register("site_outcome_counts", outcomes)
    return {**frames, "site_attrition": con.execute(read_sql("site_attrition")).df()}


def frames_of(rows: list[dict], outcomes: list[dict] | None = None) -> dict[str, pd.DataFrame]:
    return with_attrition(
        {
            "site_period_counts": pd.DataFrame(rows),
            "site_outcome_counts": pd.DataFrame(outcomes or []),
            "recommendations": recommendations(),
        }
    )


def synthetic(n_sites: int, months: int = 12, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Internally consistent frames: months add up to the whole period, outcomes to sessions."""
    rng = random.Random(seed)
    spc, outc = [], []
    for i in range(n_sites):
        sid = f"S{i:05d}"
        totals: dict[tuple, list[int]] = {}
        month_rows = []
        for m in range(months):
            start = date(2024 + m // 12, m % 12 + 1, 1)
            end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
            end = date.fromordinal(end.toordinal() - 1)
            scale = rng.choice([0, 1, 3, 8, 20, 60])
            cells: dict[tuple, int] = {}
            for rule, reason in REASONS:
                cells[("out_of_population", rule, reason, None, "EPIDURAL")] = rng.randint(0, scale)
            for rec, _, fam in REC_ROWS:
                cells[("discordant", 9, None, rec, fam)] = rng.randint(0, scale)
                cells[("clinical_trial", 8, None, rec, fam)] = rng.randint(0, 1)
            cells[("not_addressed", 10, None, None, "FACET_INJ")] = rng.randint(0, scale)
            by_outcome = {o: 0 for o in ("discordant", "clinical_trial", "not_addressed")}
            by_outcome["out_of_population"] = 0
            for k, v in cells.items():
                by_outcome[k[0]] += v
                totals.setdefault(k, [0, 0])
                totals[k][0] += v
            d_pat = min(by_outcome["discordant"], rng.randint(0, 2 * scale + 1))
            in_pop = d_pat + rng.randint(0, 3 * scale + 1)
            month_rows.append(
                {
                    "site_id": sid,
                    "site_name": f"Clinic {i}",
                    "site_group": f"Region {i % 5}",
                    "period_type": "month",
                    "period_start": start,
                    "period_end": end,
                    "in_population_patients": in_pop,
                    "discordant_patients": d_pat,
                    "sessions_total": sum(by_outcome.values()),
                    "sessions_discordant": by_outcome["discordant"],
                    "sessions_clinical_trial": by_outcome["clinical_trial"],
                    "sessions_not_addressed": by_outcome["not_addressed"],
                    "sessions_out_of_population": by_outcome["out_of_population"],
                    "allowed_amount_total": 123.45 * sum(by_outcome.values()),
                    "allowed_amount_discordant": 210.5 * by_outcome["discordant"],
                }
            )
        all_row = {k: month_rows[0][k] for k in ("site_id", "site_name", "site_group")} | {
            "period_type": "all",
            "period_start": month_rows[0]["period_start"],
            "period_end": month_rows[-1]["period_end"],
        }
        for col in month_rows[0]:
            if col.startswith(("sessions_", "allowed_")):
                all_row[col] = sum(r[col] for r in month_rows)
        all_row["in_population_patients"] = max(r["in_population_patients"] for r in month_rows)
        all_row["discordant_patients"] = max(r["discordant_patients"] for r in month_rows)
        spc.append(all_row)
        spc.extend(month_rows)
        for (outcome, rule, reason, rec, fam), (sessions, _) in totals.items():
            if sessions:
                outc.append(
                    {
                        "site_id": sid,
                        "period_type": "all",
                        "period_start": all_row["period_start"],
                        "rule_order": rule,
                        "outcome": outcome,
                        "reason": reason,
                        "recommendation": rec,
                        "family": fam,
                        "sessions": sessions,
                        "patients": max(1, sessions // 2),
                        "allowed_amount": 210.5 * sessions,
                    }
                )
    return with_attrition(
        {
            "site_period_counts": pd.DataFrame(spc),
            "site_outcome_counts": pd.DataFrame(outc),
            "recommendations": recommendations(),
        }
    )


def write(tmp_path: Path, frames, ctx=None, name="out") -> Path:
    out = tmp_path / name
    write_aggregate_outputs(out, frames, ReportContext(**(ctx or context())))
    return out


def summary_of(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "site_summary.parquet")


# ----------------------------------------------------------------------------- site summary
def test_site_summary_columns_types_and_order(tmp_path):
    rows = [site_row("B"), site_row("A", sessions_discordant=4, discordant_patients=3)]
    out = write(tmp_path, frames_of(rows))
    df = summary_of(out)
    assert list(df.columns) == SUMMARY_COLUMNS
    assert list(df["site_id"]) == ["A", "B"]
    assert str(df["sessions_total"].dtype) == "Int64"
    assert str(df["concordance"].dtype) in ("Float64", "float64")
    assert not any("patient_id" in c for c in df.columns)
    assert set(df["suppression_profile"]) == {"cms"}
    assert set(df["suppression_threshold"]) == {10}
    csv_text = (out / "site_summary.csv").read_text()
    assert csv_text.splitlines()[0] == ",".join(SUMMARY_COLUMNS)


def test_hidden_counts_are_null_in_parquet_and_empty_in_csv(tmp_path):
    rows = [
        site_row("A", sessions_discordant=4, discordant_patients=3),
        site_row("B", sessions_discordant=200, discordant_patients=50),
        site_row("C", sessions_discordant=300, discordant_patients=60),
    ]
    out = write(tmp_path, frames_of(rows))
    df = summary_of(out).set_index("site_id")
    assert df.loc["A", "sessions_discordant"] is pd.NA
    assert df.loc["A", "allowed_amount_discordant"] is pd.NA  # amount of a hidden count
    assert df.loc["A", "cells_suppressed"] >= 2  # primary and its complement in the row
    line = next(
        x for x in (out / "site_summary.csv").read_text().splitlines() if x.startswith("A,")
    )
    cells = dict(zip(SUMMARY_COLUMNS, line.split(","), strict=True))
    assert cells["sessions_discordant"] == "" and cells["discordant_patients"] == ""
    assert cells["sessions_total"] != ""


def test_rate_hidden_with_its_numerator(tmp_path):
    rows = [
        site_row("A", discordant_patients=4),
        site_row("B"),
        site_row("C", discordant_patients=40),
    ]
    out = write(tmp_path, frames_of(rows))
    df = summary_of(out).set_index("site_id")
    for col in ("concordance", "concordance_ci_low", "concordance_ci_high"):
        assert df.loc["A", col] is pd.NA  # its numerator is small
        assert df.loc["B", col] is pd.NA  # its numerator is the complement across sites
        assert df.loc["C", col] is not pd.NA
    assert df.loc["C", "concordance"] == pytest.approx(0.6)
    site_a = (out / "sites" / "a.html").read_text()
    assert 'Concordance (95% CI)</div><div class="v"><span class="hid"' in site_a


def test_network_total_minus_published_sites_does_not_reveal_a_small_site(tmp_path):
    rows = [
        site_row("A", sessions_discordant=3, discordant_patients=2, sessions_not_addressed=40),
        site_row("B", sessions_discordant=200),
        site_row("C", sessions_discordant=120),
        site_row("D", sessions_discordant=500),
    ]
    d = disclose(frames_of(rows), context())
    column = [d.get(("site_period", s, "all", "2024-01-01", "sessions_discordant")) for s in "ABCD"]
    network = d.get(("network", "sessions_discordant"))
    assert network == 823  # the network total is published ...
    assert column[0] is HIDDEN  # ... so the small site needs company in its column
    assert sum(v is HIDDEN for v in column) == 2
    # and each row that lost a complement has a second hidden cell of its own
    for s in "ABCD":
        row = [d.get(("site_period", s, "all", "2024-01-01", c)) for c in SESSION_COLUMNS]
        assert sum(v is HIDDEN for v in row) != 1
    out = write(tmp_path, frames_of(rows))
    index = (out / "index.html").read_text()
    assert "Network total" in index and ">823<" in index


def test_month_series_and_whole_period_value_are_protected_together(tmp_path):
    frames = synthetic(3, months=6)
    d = disclose(frames, context())
    cols = SESSION_COLUMNS
    spc = frames["site_period_counts"]
    for sid in spc["site_id"].unique():
        rows = spc[spc["site_id"] == sid]
        for col in cols:
            keys = [
                ("site_period", sid, r.period_type, r.period_start.isoformat(), col)
                for r in rows.itertuples()
            ]
            n_hidden = sum(d.get(k) is HIDDEN for k in keys)
            assert n_hidden != 1, (sid, col)


def test_zero_denominator_is_no_data_not_100_percent(tmp_path):
    rows = [
        site_row(
            "A",
            in_population_patients=0,
            discordant_patients=0,
            sessions_discordant=0,
            sessions_out_of_population=80,
        )
    ]
    out = write(tmp_path, frames_of(rows))
    df = summary_of(out)
    assert df["concordance"].isna().all()
    for page in (out / "index.html", out / "sites" / "a.html"):
        html = page.read_text()
        assert "100.0%" not in html
        assert "no data" in html


def test_empty_audit_renders_no_data(tmp_path):
    empty = {
        "site_period_counts": pd.DataFrame(columns=list(site_row("x"))),
        "site_outcome_counts": pd.DataFrame(),
        "recommendations": recommendations(),
    }
    out = write(tmp_path, empty)
    html = (out / "index.html").read_text()
    figures = html.split("<main")[1].split('<section id="glossary"')[0]  # not the glossary's 95%
    assert "No data" in html and "%" not in figures
    df = summary_of(out)
    assert len(df) == 0 and list(df.columns) == SUMMARY_COLUMNS
    assert (out / "site_summary.csv").read_text() == ",".join(SUMMARY_COLUMNS) + "\n"
    assert not (out / "sites").exists()


def test_without_site_ids_on_diagnoses_only_session_figures(tmp_path):
    out = write(tmp_path, frames_of([site_row("A")]), context(diagnoses_have_site_ids=False))
    df = summary_of(out)
    assert df["in_population_patients"].isna().all() and df["concordance"].isna().all()
    assert df["sessions_total"].notna().all()
    html = (out / "index.html").read_text()
    assert "cannot be computed" in html and "Concordance (95% CI)" not in html


def test_profile_none_says_internal_use_only(tmp_path):
    ctx = context(suppression={"profile": "none", "threshold": 0, "rounding": 1})
    out = write(tmp_path, frames_of([site_row("A", sessions_discordant=3)]), ctx)
    for page in (out / "index.html", out / "sites" / "a.html"):
        assert "internal QI use only" in page.read_text()
    assert summary_of(out)["sessions_discordant"].tolist() == [3]


def test_profile_falls_back_to_the_settings_value(tmp_path):
    ctx = context(settings={"suppression": "opensafely"})
    del ctx["suppression"]
    out = write(tmp_path, frames_of([site_row("A"), site_row("B", sessions_discordant=33)]), ctx)
    df = summary_of(out)
    assert set(df["suppression_profile"]) == {"opensafely"}
    assert df["sessions_discordant"].tolist() == [30, 35]


def test_data_quality_counts_go_through_the_profile(tmp_path):
    ctx = context(
        data_quality=[
            {"check": "retired_code_used", "domain": "diagnosis", "code": "M545", "rows": 22},
            {"check": "unlisted_64999", "domain": "procedure", "code": "64999", "rows": 2},
        ]
    )
    out = write(tmp_path, frames_of([site_row("A")]), ctx)
    html = (out / "index.html").read_text()
    section = html.split('<h2 id="quality">Data quality</h2>')[1].split("<h2")[0]
    assert "retired code used" in section and ">22<" in section
    assert ">2<" not in section  # hidden: 2 rows
    # a small quarantined count hides the other details of that table, not its total
    assert ">1,000<" in section and ">985<" not in section and ">400<" in section


def test_rounding_profile_publishes_multiples_of_5(tmp_path):
    ctx = context(suppression={"profile": "nhs"})
    out = write(tmp_path, synthetic(5, months=3), ctx)
    df = summary_of(out)
    for col in ("sessions_total", "sessions_discordant", "in_population_patients"):
        shown = df[col].dropna()
        assert (shown % 5 == 0).all() and not ((shown > 0) & (shown <= 7)).any()
    assert set(df["suppression_rounding"]) == {5}


# ----------------------------------------------------------------------------- pages
HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_site_names_are_escaped_everywhere(tmp_path, name):
    month = site_row(
        "A",
        name=name,
        site_group=name,
        period_type="month",
        period_start=date(2024, 3, 1),
        period_end=date(2024, 3, 31),
    )
    frames = frames_of([site_row("A", name=name, site_group=name), month, site_row("B")])
    out = write(tmp_path, frames)
    index = (out / "index.html").read_text()
    page = (out / "sites" / "a.html").read_text()
    for html in (index, page):
        assert "<script" not in html and "<img" not in html and "onerror=alert(1)>" not in html
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace('"', "&#34;")
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert escaped in title
    assert f'title="{escaped} (A)"' in index  # attribute
    assert f">{escaped}</a>" in index  # body
    assert f'aria-label="Discordant sessions per month, {escaped}"' in page  # chart text


def test_pages_are_offline(tmp_path):
    out = write(tmp_path, synthetic(2, months=3))
    for page in [out / "index.html", *sorted((out / "sites").glob("*.html"))]:
        html = page.read_text()
        assert "<script" not in html and "<link" not in html and "@import" not in html
        assert " src=" not in html and "url(" not in html
        refs = re.findall(r"https?://[^\s\"'<>]+", html)
        # the SVG namespace, and the guideline as a link a reader may follow (never loaded)
        assert set(refs) <= {
            "http://www.w3.org/2000/svg",
            "https://doi.org/10.1136/bmj-2024-079970",
        }
        assert html.count("https://doi.org") == html.count('href="https://doi.org')


def test_site_page_tables_and_chart(tmp_path):
    out = write(tmp_path, synthetic(1, months=12))
    html = (out / "sites" / "s00000.html").read_text()
    for rec in ("AX-RFA", "AX-EPI", "AX-JNT", "AX-IM", "RAD-DRG", "RAD-EPI"):
        assert f'<th scope="row">{rec}</th>' in html
    steps = re.findall(r"out of population: ([a-z0-9 ]+)", html)
    assert steps[0] == "under 18 on the session date"
    assert steps[-1] == "insufficient history to judge chronicity"
    assert html.index("In the guideline population") < html.index("clinical trial (modifier")
    assert html.index("not addressed by") < html.index("Discordant with a strong")
    assert html.count("<svg") == 3  # monthly sessions and concordance, attrition waterfall
    assert "index.html" in html


def test_hidden_month_is_a_gap_with_a_note(tmp_path):
    rows = [site_row("A", sessions_discordant=300)]
    month = site_row(
        "A",
        sessions_discordant=5,
        period_type="month",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 1, 31),
    )
    month2 = site_row(
        "A",
        sessions_discordant=295,
        period_type="month",
        period_start=date(2024, 2, 1),
        period_end=date(2024, 2, 29),
    )
    out = write(tmp_path, frames_of(rows + [month, month2]))
    html = (out / "sites" / "a.html").read_text()
    assert "2024-01: discordant sessions hidden" in html
    assert "2024-02: discordant sessions hidden" in html  # the complement month
    assert "gaps, not zeros" in html
    assert "2024-01: 5 " not in html and "2024-02: 295" not in html
    # the chart's data table: the same months, hidden ones as *, never the value
    table = chart_data(html, "Discordant sessions")
    assert table == {"2024-01": "*", "2024-02": "*"}


def test_every_site_chart_has_its_data_table_below_its_caption(tmp_path):
    """Each chart of a site page is a figure captioned above ("Figure N."), followed by a data
    table of the very values it draws (bar titles and table cells agree, hidden as *)."""
    out = write(tmp_path, synthetic(3, months=12))
    html = (out / "sites" / "s00000.html").read_text()
    figures = re.findall(r"<figure[^>]*>(.*?)</figure>\s*<(?:details|table)", html, re.S)
    assert len(figures) == html.count("<svg") == 3  # monthly sessions and concordance, attrition
    for n, body in enumerate(figures, 1):
        assert body.lstrip().startswith(f"<figcaption><strong>Figure {n}.</strong>")
        assert body.index("</figcaption>") < body.index("<svg")
    monthly_svg = html.split("<svg")[1].split("</svg>")[0]
    bars = dict(
        re.findall(r"<title>(\d{4}-\d{2}): ([\d,]+) discordant sessions</title>", monthly_svg)
    )
    hidden = re.findall(r"<title>(\d{4}-\d{2}): discordant sessions hidden</title>", monthly_svg)
    table = chart_data(html, "Discordant sessions")
    assert table == {**bars, **dict.fromkeys(hidden, "*")}
    assert len(table) == 12
    rates = chart_data(html, "Concordance")
    assert set(rates) == set(table)
    points = re.findall(r"<title>(\d{4}-\d{2}): ([\d.]+%) \(", html.split("<svg")[2])
    assert points and all(rates[m] == rate for m, rate in points)


# ----------------------------------------------------------------------------- files
def test_slugs_are_safe_and_unique():
    assert slugify("../../x") == "x"
    assert slugify("/etc/passwd") == "etc-passwd"
    assert slugify("a\x00b") == "a-b"
    slugs = site_slugs(["A B", "a-b", "X", "x", "..", "con", "Clinic 7"])
    assert len(set(slugs.values())) == 7
    assert all(re.fullmatch(r"[a-z0-9-]+", s) for s in slugs.values())
    assert slugs["Clinic 7"] == "clinic-7"
    assert slugs["A B"] != "a-b" and slugs["A B"].startswith("a-b-")
    assert slugs[".."].startswith("site-") and slugs["con"].startswith("con-")
    assert site_slugs(["A B", "a-b"]) == site_slugs(["a-b", "A B"])  # stable


@pytest.mark.parametrize(
    "bad", ["../../x", "/etc/passwd", "a\x00b", "sites/../../x", "C:\\x", "\\\\server\\share", ""]
)
def test_safe_output_path_rejects_escapes(tmp_path, bad):
    with pytest.raises(ValueError):
        safe_output_path(tmp_path, bad)


def test_hostile_site_ids_stay_inside_out_dir(tmp_path):
    rows = [site_row("../../evil"), site_row("/abs/path"), site_row("nul\x00byte")]
    out = tmp_path / "out"
    paths = write_aggregate_outputs(out, frames_of(rows), ReportContext(**context()))
    root = out.resolve()
    assert all(p.resolve().is_relative_to(root) for p in paths)
    assert not (tmp_path / "evil.html").exists()
    assert len(list((out / "sites").glob("*.html"))) == 3


def test_csv_formula_injection_is_neutralised(tmp_path):
    assert csv_safe("=1+1") == "'=1+1" and csv_safe("plain") == "plain"
    for lead in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_safe(lead + "x") == "'" + lead + "x"
    rows = [site_row('=HYPERLINK("http://x")', name="+cmd|' /C calc'!A0", site_group="@SUM(A1)")]
    out = write(tmp_path, frames_of(rows))
    text = (out / "site_summary.csv").read_text()
    assert "'=HYPERLINK" in text and "'+cmd" in text and "'@SUM" in text
    df = pd.read_csv(out / "site_summary.csv")
    assert pd.api.types.is_numeric_dtype(df["sessions_total"])
    assert pd.api.types.is_numeric_dtype(df["concordance"])


def test_outputs_are_byte_identical_across_runs(tmp_path):
    frames = synthetic(15, months=6)
    a = write(tmp_path, frames, name="a")
    b = write(tmp_path, synthetic(15, months=6), name="b")
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 20  # with spine-audit.xlsx
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_return_value_lists_written_files_in_order(tmp_path):
    out = tmp_path / "o"
    paths = write_aggregate_outputs(
        out, frames_of([site_row("B"), site_row("A")]), ReportContext(**context())
    )
    names = [p.relative_to(out.resolve()).as_posix() for p in paths]
    assert names == [
        "site_summary.parquet",
        "site_summary.csv",
        "index.html",
        "sites/a.html",
        "sites/b.html",
        "spine-audit.xlsx",
        "manifest.json",
    ]


def test_thousand_sites_render_in_seconds(tmp_path):
    """Counted in CPU seconds of this process, not wall time: the suite runs on every core
    (pytest -n auto) beside other work, and a busy machine must not fail a speed check."""
    frames = synthetic(1000, months=12, seed=3)
    start = time.process_time()
    paths = write_aggregate_outputs(tmp_path / "big", frames, ReportContext(**context()))
    elapsed = time.process_time() - start
    assert len(paths) == 1005  # with spine-audit.xlsx
    assert elapsed < 15, f"{elapsed:.1f} s of CPU"


# ----------------------------------------------------------------------------- network page
def test_index_has_the_funnel_plain_language_and_the_guideline_link(tmp_path):
    ctx = context(
        settings={"funnel_overdispersion": "additive"},
        data_quality=[{"check": "date_parse", "domain": "procedure", "code": "", "rows": 40}],
    )
    out = write(tmp_path, synthetic(30, months=2), ctx)
    html = (out / "index.html").read_text()
    funnel = html.split('<section id="funnel"')[1].split("</section>")[0]
    assert "How to read this" in funnel and "<svg" in funnel and 'class="funnel"' in funnel
    assert funnel.index("<figcaption") < funnel.index("<svg")  # captioned above
    assert "additive" in funnel or "exact binomial" in funnel
    # the guideline: in our words, with its link (pack.toml's citation_url)
    assert 'href="https://doi.org/10.1136/bmj-2024-079970"' in html
    assert "What the guideline recommends" in html and 'href="#glossary"' in html
    # quarantined rows are in internal/quarantine/, not the manifest
    assert "Dates that could not be read" in html  # a check by its name in words
    manifest = json.loads((out / "manifest.json").read_text())
    dq = manifest["published"]["data_quality"][0]
    assert (dq["check"], dq["check_id"]) == ("Dates that could not be read", "date_parse")
    assert manifest["published"]["funnel"]["overdispersion_setting"] == "additive"
    assert '<th scope="col"' in html and "<caption>" in html


def test_funnel_plots_only_sites_with_published_counts(tmp_path):
    out = write(tmp_path, synthetic(30, months=2))
    html = (out / "index.html").read_text()
    summary = summary_of(out)
    whole = summary[summary["period_type"] == "all"]
    shown = whole.dropna(subset=["in_population_patients", "discordant_patients"])
    shown = shown[shown["in_population_patients"] > 0]
    rows = html.split('<table class="funnel">')[1].split("</table>")[0].count("<tr class=")
    assert rows == len(shown) > 0
    manifest = json.loads((out / "manifest.json").read_text())["published"]["funnel"]
    assert manifest["sites_plotted"] == len(shown)
    assert (
        manifest["sites_left_out_hidden_counts"]
        == len(whole) - len(shown) - (manifest["sites_left_out_no_patients"])
    )
