"""Trends that survive suppression (docs/monthly.md, "Trends"): a dated audit is read against
the 24 months before it (history months, classified by the same rules, never in
sessions.parquet), quarters over that window, and the network band from published values.

Extracts are inline tables; every session is an epidural (62323) with M54.50 (AXIAL) on its
claim and a spine diagnosis 90 days to a year before, so each is discordant (AX-EPI)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from audit import report
from audit.disclosure import HIDDEN
from audit.pipeline import history_start
from audit.trends import Band, band_of, network_band, quarter_label
from tests.helpers import chart_data, classified, write_extract

PATIENTS = """
    patient_id | birth_date
    P1         | 1970-05-01
    P2         | 1965-01-01
"""
DIAGNOSES = """
    patient_id | event_date | code   | source_id | site_id
    P1         | 2023-06-01 | M54.50 | H1        | S1       # chronic evidence for each session
    P2         | 2024-01-05 | M54.50 | H2        | S1
    P1         | 2025-06-20 | M54.50 | H3        | S1
    P1         | 2023-09-15 | M54.50 | C0        | S1       # before the trend history
    P1         | 2023-10-02 | M54.50 | C1        | S1       # first day of the history: Q4 2023
    P2         | 2024-05-06 | M54.50 | C2        | S1       # history, Q2 2024
    P1         | 2025-10-20 | M54.50 | C3        | S1       # history, Q4 2025 (October)
    P2         | 2025-11-12 | M54.50 | C4        | S1       # the audit month
"""
PROCEDURES = """
    patient_id | event_date | code  | site_id | source_id
    P1         | 2023-09-15 | 62323 | S1      | C0
    P1         | 2023-10-02 | 62323 | S1      | C1
    P2         | 2024-05-06 | 62323 | S1      | C2
    P1         | 2025-10-20 | 62323 | S1      | C3
    P2         | 2025-11-12 | 62323 | S1      | C4
"""
MONTH = {"period_from": date(2025, 11, 1), "period_to": date(2025, 11, 30)}


@pytest.fixture
def month_run(tmp_path):
    folder = write_extract(
        tmp_path / "extract", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )
    with classified(folder, **MONTH) as run:
        yield run


def test_history_starts_24_months_before_on_a_quarters_first_day():
    assert history_start(date(2025, 11, 1)) == date(2023, 10, 1)
    assert history_start(date(2025, 1, 15)) == date(2023, 1, 1)
    assert history_start(None) is None


def test_a_month_audit_keeps_its_sessions_and_counts_its_history(month_run):
    """sessions.parquet holds the month only; the history's sessions are classified by the
    same rules and counted in history months and quarters; nothing before the history."""
    assert [s["session_date"] for s in month_run.sessions()] == [date(2025, 11, 12)]
    rows = month_run.rows(
        "site_trend_counts",
        order_by="period_type, period_start",
    )
    got = [  # rows with sessions (the diagnoses' visits give rows of their own)
        (r["period_type"], r["period_start"], r["period_end"], r["sessions_discordant"])
        for r in rows
        if r["sessions_total"]
    ]
    assert got == [
        ("history_month", date(2023, 10, 1), date(2023, 10, 31), 1),
        ("history_month", date(2024, 5, 1), date(2024, 5, 31), 1),
        ("history_month", date(2025, 10, 1), date(2025, 10, 31), 1),
        ("quarter", date(2023, 10, 1), date(2023, 12, 31), 1),
        ("quarter", date(2024, 4, 1), date(2024, 6, 30), 1),
        # the quarter of the audit month: October (history) and November, cut at --to
        ("quarter", date(2025, 10, 1), date(2025, 11, 30), 2),
    ]
    quarter = rows[-1]
    assert quarter["period_start"] == date(2025, 10, 1)
    assert (quarter["in_population_patients"], quarter["discordant_patients"]) == (2, 2)
    period = month_run.rows("site_period_counts", where="period_type = 'all'")
    assert [(r["sessions_total"], r["in_population_patients"]) for r in period] == [(1, 1)]


def test_without_from_there_is_no_history_and_quarters_tile_the_period(tmp_path):
    folder = write_extract(
        tmp_path / "extract", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )
    with classified(folder) as run:
        rows = run.rows("site_trend_counts", order_by="period_type, period_start")
        months = run.rows("site_period_counts", where="period_type = 'month'")
    assert {r["period_type"] for r in rows} == {"quarter"}
    assert sum(r["sessions_total"] for r in rows) == sum(m["sessions_total"] for m in months) == 5
    # the first quarter starts at the first month with data, not at an exact patient date
    assert rows[0]["period_start"] == date(2023, 9, 1)


# ----------------------------------------------------------------------------- disclosure
def _frames(quarter_sessions: list[int], sites: int = 1) -> dict[str, pd.DataFrame]:
    """Hand-built frames: per site, one whole-period row of 600 sessions (half discordant),
    one audit month per quarter with the quarter's sessions (no history)."""
    counts, trend = [], []
    for i in range(sites):
        sid = f"S{i + 1}"
        base = dict(site_id=sid, site_name=sid, site_group=None)
        total = sum(quarter_sessions)
        counts.append(
            dict(
                base,
                period_type="all",
                period_start=date(2024, 1, 1),
                period_end=date(2024, 12, 31),
                **_row(total, 300 + 40 * i),
            )
        )
        for q, n in enumerate(quarter_sessions):
            start = date(2024, 3 * q + 1, 1)
            end = date(2024, 3 * q + 1, 28)
            counts.append(
                dict(
                    base,
                    period_type="month",
                    period_start=start,
                    period_end=end,
                    **_row(n, 100 + 10 * i),
                )
            )
            trend.append(
                dict(
                    site_id=sid,
                    period_type="quarter",
                    period_start=start,
                    period_end=end,
                    **_row(n, 100 + 10 * i),
                )
            )
    return {"site_period_counts": pd.DataFrame(counts), "site_trend_counts": pd.DataFrame(trend)}


def _row(sessions: int, patients: int) -> dict[str, int]:
    disc = sessions // 2
    return dict(
        in_population_patients=patients,
        discordant_patients=min(disc, patients // 5),
        sessions_total=sessions,
        sessions_discordant=disc,
        sessions_clinical_trial=0,
        sessions_not_addressed=sessions - disc,
        sessions_out_of_population=0,
        allowed_amount_total=0,
        allowed_amount_discordant=0,
    )


def test_a_small_quarter_is_hidden_with_a_complement():
    """A quarter of 8 sessions (4 discordant) is hidden; the whole period is the sum of its
    quarters, so another quarter's cell is hidden with it (never the only one)."""
    d = report.disclose(_frames([8, 200, 200, 192]), {"suppression": "cms"})
    site = d.sites[0]
    discordant = [d.row_view(q)["sessions_discordant"] for q in site.quarters]
    assert discordant[0] is HIDDEN
    assert sum(v is HIDDEN for v in discordant) >= 2
    assert d.row_view(site.all_row)["sessions_discordant"] == 300


def test_quarters_are_rows_of_site_summary():
    d = report.disclose(_frames([150, 150, 150, 150]), {"suppression": "cms"})
    summary = report.build_site_summary(d)
    quarters = summary[summary["period_type"] == "quarter"]
    assert list(quarters["sessions_total"]) == [150] * 4
    assert list(quarters["period_start"]) == [date(2024, m, 1) for m in (1, 4, 7, 10)]


def test_band_is_the_median_and_deciles_of_published_values_only():
    values = [0.5, 0.6, 0.7, 0.8, 0.9]
    assert band_of(values) == Band(5, 0.7, 0.54, 0.86)
    assert band_of(values[:4]) == Band(4, None, None, None)  # fewer than five sites
    q = date(2024, 1, 1)
    shown = [(v, v - 0.1, v + 0.1) for v in values]
    assert network_band([q], {q: [*shown, None]})[q] == Band(5, 0.7, 0.54, 0.86)  # None: no data


def test_no_band_where_a_site_value_is_hidden():
    """Suppression hides 1..threshold discordant patients but shows 0 (100%): the values left
    in a quarter with a hidden one lean towards 100%, so that quarter gets no band."""
    q = date(2024, 1, 1)
    shown = [(v, v - 0.1, v + 0.1) for v in (1.0, 1.0, 1.0, 0.95, 0.9, 1.0)]
    band = network_band([q], {q: [*shown, HIDDEN, None, HIDDEN]})[q]
    assert band == Band(6, None, None, None, hidden=2)


def test_band_on_the_pages_comes_from_the_sites_published_quarters():
    d = report.disclose(_frames([150, 150, 150, 150], sites=6), {"suppression": "cms"})
    quarters = [date(2024, m, 1) for m in (1, 4, 7, 10)]
    bands = report.quarter_bands(d, quarters)
    rates = sorted(d.row_view(s.quarters[0])["concordance"][0] for s in d.sites)
    assert bands[quarters[0]].sites == 6
    assert bands[quarters[0]].median == pytest.approx((rates[2] + rates[3]) / 2, abs=1e-4)


def test_quarter_labels_say_where_the_window_cuts_them(month_run):
    frames = {
        "site_period_counts": pd.DataFrame(month_run.rows("site_period_counts")),
        "site_trend_counts": pd.DataFrame(month_run.rows("site_trend_counts")),
    }
    (site,) = report._read_frames(frames)[0]
    labels = [quarter_label(q) for q in site.quarters]
    # whole quarters are named alone; the last is cut at --to
    assert labels[0] == "2023-Q4" and labels[-1] == "2025-Q4 (Oct\u2013Nov)"
    assert all(" " not in label for label in labels[:-1])


def test_a_site_seen_only_in_the_history_has_no_page(month_run):
    """Its trend rows have no whole-period row to hang on: they are left out (a network
    without a site in the period is "no data", as before)."""
    trend = pd.DataFrame(month_run.rows("site_trend_counts"))
    trend["site_id"] = "ONLY_BEFORE"
    frames = {
        "site_period_counts": pd.DataFrame(month_run.rows("site_period_counts")),
        "site_trend_counts": trend,
    }
    sites, rows = report._read_frames(frames)[:2]
    assert [s.site_id for s in sites] == ["S1"]
    assert all(r.site_id == "S1" for r in rows)


def test_the_month_page_shows_the_history_and_the_quarters(tmp_path):
    from audit.config import load_settings
    from audit.run import run_audit

    folder = write_extract(
        tmp_path / "extract", patients=PATIENTS, diagnoses=DIAGNOSES, procedures=PROCEDURES
    )
    run_audit(folder, tmp_path / "out", load_settings(as_of_date=date(2026, 6, 30)), **MONTH)
    out = tmp_path / "out" / "shareable"
    page = next(Path(out / "sites").glob("*.html")).read_text(encoding="utf-8")
    assert "2024-05: discordant sessions hidden" in page  # a history month's bar, not cut
    assert "<h2>Quarterly trend</h2>" in page and "2025-Q4 (Oct\u2013Nov)" in page
    # the quarterly bars' data table: the same quarters and values as the bars' titles
    quarterly_svg = page.split('aria-label="Discordant sessions per quarter')[1].split("</svg>")[0]
    bars = re.findall(r"<title>(\d{4}-Q\d): ([\d,]+|discordant sessions hidden)", quarterly_svg)
    table = {
        q.split(" ")[0]: v for q, v in chart_data(page, "Discordant sessions", "Quarter").items()
    }
    shown = {q: ("*" if v.endswith("hidden") else v) for q, v in bars}
    assert table == shown and "2025-Q4" in table
    summary = pd.read_csv(out / "site_summary.csv")
    assert sorted(set(summary["period_type"])) == ["all", "history_month", "month", "quarter"]


NETWORK_COLUMNS = ("in_population_patients", "discordant_patients", "sessions_total")


def _small_patients(frames: dict[str, pd.DataFrame], sites: list[str], value: int) -> None:
    """Give these sites `value` discordant patients in the first quarter (and its month)."""
    for name in ("site_period_counts", "site_trend_counts"):
        f = frames[name]
        rows = f["site_id"].isin(sites) & (f["period_start"] == date(2024, 1, 1))
        rows &= f["period_type"] != "all"
        f.loc[rows, "discordant_patients"] = value


def test_network_quarter_is_the_sum_of_the_sites_quarters():
    """Nothing hidden: each count of a network quarter is the sum of the sites' published
    quarter figures (patients summed over sites, as the network row), its concordance is
    1 - discordant / in-population patients with a Wilson interval."""
    d = report.disclose(_frames([150, 150, 150, 150], sites=6), {"suppression": "cms"})
    assert d.network_quarters == [date(2024, m, 1) for m in (1, 4, 7, 10)]
    for q in d.network_quarters:
        view = d.network_quarter_view(q)
        for col in (*NETWORK_COLUMNS, "sessions_discordant"):
            parts = [d.row_view(s.quarters[d.network_quarters.index(q)])[col] for s in d.sites]
            assert view[col] == sum(parts)
        assert view["in_population_patients"] == sum(100 + 10 * i for i in range(6))  # 750
        assert view["discordant_patients"] == sum(min(75, (100 + 10 * i) // 5) for i in range(6))
        rate, low, high = view["concordance"]
        assert rate == pytest.approx(1 - view["discordant_patients"] / 750)
        assert low < rate < high


def test_one_hidden_site_quarter_hides_the_network_patients_of_that_quarter():
    """One site's 5 discordant patients are hidden: beside the other sites' shown figures a
    network sum would give them away, so the network's figure is hidden too; the network
    never makes the pass hide a site figure (the other sites' quarters stay shown)."""
    frames = _frames([150, 150, 150, 150], sites=6)
    _small_patients(frames, ["S1"], 5)
    d = report.disclose(frames, {"suppression": "cms"})
    first = [d.row_view(s.quarters[0])["discordant_patients"] for s in d.sites]
    assert first[0] is HIDDEN and all(v is not HIDDEN for v in first[1:])
    assert d.network_quarter_view(date(2024, 1, 1))["discordant_patients"] is HIDDEN
    assert d.network_quarter_view(date(2024, 1, 1))["concordance"] is HIDDEN
    assert d.network_quarter_view(date(2024, 4, 1))["discordant_patients"] == 150  # 20+..+30


def test_hidden_site_quarters_with_room_leave_the_network_value_true():
    """Three sites hide their 8 discordant patients: together they hold 24, so each keeps a
    range of at least 10 values (a reader caps them only by their 100-odd in-population
    patients and 75 discordant sessions): the network's figure is shown, the true sum over
    all sites. Two sites of 5 would leave each only 1..9: the network's figure is hidden."""
    frames = _frames([150, 150, 150, 150], sites=6)
    _small_patients(frames, ["S1", "S2", "S3"], 8)
    d = report.disclose(frames, {"suppression": "cms"})
    first = [d.row_view(s.quarters[0])["discordant_patients"] for s in d.sites]
    assert first[:3] == [HIDDEN] * 3 and HIDDEN not in first[3:]
    net = d.network_quarter_view(date(2024, 1, 1))
    assert net["discordant_patients"] == 3 * 8 + sum((100 + 10 * i) // 5 for i in range(3, 6))
    assert isinstance(net["concordance"], tuple)
    frames = _frames([150, 150, 150, 150], sites=6)
    _small_patients(frames, ["S1", "S2"], 5)
    d = report.disclose(frames, {"suppression": "cms"})
    assert d.network_quarter_view(date(2024, 1, 1))["discordant_patients"] is HIDDEN


def test_hidden_network_sessions_have_a_complement():
    """A quarter whose network sessions are few is hidden, and so is another quarter (the
    network's whole period is the sum of its quarters and is shown)."""
    d = report.disclose(_frames([4, 200, 200, 196], sites=2), {"suppression": "cms"})
    sessions = [d.network_quarter_view(q)["sessions_discordant"] for q in d.network_quarters]
    assert sessions[0] is HIDDEN and sum(v is HIDDEN for v in sessions) >= 2
    assert d.get(("network", "sessions_discordant")) == 600


def test_the_attack_cannot_narrow_the_network_quarters(tmp_path):
    """The reader's attack (tests/hostile/attack.py) reads the network's quarterly table of
    the index and the network line of the site pages with their relations, and narrows no
    hidden cell; the network's quarters are really there to be read."""
    from audit.config import load_settings
    from audit.generate import generate
    from audit.run import run_audit
    from tests.hostile.attack import attack, read_published

    generate(tmp_path / "in", 300, 8, seed=5, start=date(2024, 1, 1), end=date(2025, 12, 31))
    run_audit(tmp_path / "in", tmp_path / "out", load_settings(as_of_date=date(2026, 6, 30)))
    published = read_published(tmp_path / "out")
    network = [k for k in published.seen if k[0] == "network_quarter"]
    assert network and any(HIDDEN not in published.seen[k] for k in network)
    assert published.hidden_keys()
    result = attack(published)
    assert not published.problems, published.problems
    assert not result.leaks(), result.describe()
