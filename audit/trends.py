"""Trends that survive suppression: quarters, the months before a short audit, the network band.

Why a module of its own: a one-month audit shows mostly ``*`` when read month by month; a
quarter holds three months of counts, and the 24 months before the period (the trend history,
``site_trend_counts``) put the month in context. Everything here is either a published cell
(the history months and quarters of each site, which go through the one disclosure pass of
:func:`audit.report.disclose` with their additive relations, :func:`trend_relations`) or a
figure derived from published values only (the network median and 10th-90th percentile band
of :func:`network_band`: OpenPrescribing's convention), so it can never show more than the
tables do.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Protocol

import numpy as np

from audit.disclosure import HIDDEN, Profile

# a band is drawn only when at least this many sites publish a value for the period: with
# fewer, the percentiles are a few sites' own figures
BAND_MIN_SITES = 5
SESSION_COLUMNS = (
    "sessions_total",
    "sessions_discordant",
    "sessions_clinical_trial",
    "sessions_not_addressed",
    "sessions_out_of_population",
)
PATIENT_COLUMNS = ("in_population_patients", "discordant_patients")


class TrendRow(Protocol):
    """One site x period row (audit.report._Row)."""

    period_type: str
    period_start: date | None
    period_end: date | None
    counts: dict[str, int]
    key: tuple[str, str, str]


class TrendSite(Protocol):
    """One site (audit.report._Site)."""

    site_id: str
    all_row: Any
    months: list[Any]
    history: list[Any]
    quarters: list[Any]


def quarter_of(day: date) -> date:
    """First day of the calendar quarter holding ``day``."""
    return date(day.year, day.month - (day.month - 1) % 3, 1)


def start_of(row: TrendRow) -> date:
    """The first day of a quarter row's calendar quarter (its period_start may be later: the
    trend window cuts it)."""
    if row.period_start is None:
        raise ValueError("a quarter row without a start")
    return quarter_of(row.period_start)


def quarter_label(row: TrendRow) -> str:
    """``2025-Q4``, with the months it covers when the trend window cuts it."""
    start, end = row.period_start, row.period_end
    if start is None:
        return ""
    label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if end is not None and (start.month % 3 != 1 or start.day != 1 or not _quarter_end(end)):
        label += f" ({start:%b}\u2013{end:%b})" if start.month != end.month else f" ({start:%b})"
    return label


def _quarter_end(day: date) -> bool:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return day.month % 3 == 0 and date.fromordinal(day.toordinal() + 1) == following


def trend_relations(
    sites: Sequence[TrendSite],
    cell: Callable[[TrendRow, str], Hashable],
    patient_level: bool,
    groups: list[list[Hashable]],
    at_most: list[tuple[Hashable, Hashable]],
    at_least: dict[Hashable, int],
    kept_totals: list[list[Hashable]],
) -> None:
    """What a reader knows about the history months and quarters of each site, added to the
    relations of the disclosure pass: a quarter's sessions of each outcome are the sum of its
    months (history and audit months alike); without history, the whole period's sessions are
    the sum of its quarters (``kept_totals``: a group whose total, the site's headline figure,
    is hidden as a complement only when no quarter will do); a month's patients are at most
    its quarter's; a trend row exists only when something happened in it. (Each row's total
    = its four outcomes, and patients under sessions, are added with every other row.)"""
    for site in sites:
        months = [*site.history, *site.months]
        for q in site.quarters:
            inside = [
                m for m in months if m.period_start and quarter_of(m.period_start) == start_of(q)
            ]
            for col in SESSION_COLUMNS if inside else ():
                groups.append([cell(q, col), *(cell(m, col) for m in inside)])
            for col in PATIENT_COLUMNS if patient_level else ():
                at_most.extend((cell(m, col), cell(q, col)) for m in inside)
        if site.all_row is not None and not site.history and site.quarters:
            for col in SESSION_COLUMNS:
                kept_totals.append(
                    [cell(site.all_row, col), *(cell(q, col) for q in site.quarters)]
                )
            for col in PATIENT_COLUMNS if patient_level else ():
                at_most.extend((cell(q, col), cell(site.all_row, col)) for q in site.quarters)
        for row in [*site.history, *site.quarters]:
            if not patient_level or row.counts["in_population_patients"] == 0:
                at_least[cell(row, "sessions_total")] = 1
            elif row.counts["sessions_total"] == 0:
                at_least[cell(row, "in_population_patients")] = 1


def network_quarter_key(start: date, col: str) -> tuple[str, str, str]:
    """The disclosure cell of one count of the network in one quarter."""
    return ("network_quarter", start.isoformat(), col)


def network_quarter_cells(
    sites: Sequence[TrendSite],
    cell: Callable[[TrendRow, str], Hashable],
    cols: Sequence[str],
    values: dict[Hashable, int],
    groups: list[list[Hashable]],
    below: list[tuple[Hashable, Hashable]],
    differences: list[tuple[Hashable, Hashable, list[tuple[Hashable, Hashable]]]],
) -> dict[date, list[TrendRow]]:
    """The network's quarterly series as cells of the disclosure pass. Its sessions are tied
    as the network row's are: each = the sum over the sites of that quarter's cell; its
    total = its four outcomes; each outcome at most the total over the sites (paired
    columns); where the trend window is the audit period (no history months at any site),
    the network's whole-period sessions = the sum of its quarters. Its patients (summed over
    sites, as the network row's) are cells too, but in no group: they never make the pass
    hide a site's figure; :func:`network_quarter_patients` decides after the pass whether
    they may be shown. A site without a row for a quarter had nothing in it: it adds zero.
    Returns the site rows of each quarter."""
    by_start: dict[date, list[TrendRow]] = {}
    for site in sites:
        for q in site.quarters:
            by_start.setdefault(start_of(q), []).append(q)
    starts = sorted(by_start)
    for start in starts:
        rows = by_start[start]
        for col in cols:
            key = network_quarter_key(start, col)
            values[key] = sum(r.counts[col] for r in rows)
            if col in SESSION_COLUMNS:
                groups.append([key, *(cell(r, col) for r in rows)])
        groups.append([network_quarter_key(start, c) for c in SESSION_COLUMNS])
        if "discordant_patients" in cols:  # a floor for the network's discordant sessions
            below.append(
                (
                    network_quarter_key(start, "discordant_patients"),
                    network_quarter_key(start, "sessions_discordant"),
                )
            )
        for small, large in [(c, "sessions_total") for c in SESSION_COLUMNS[1:]]:
            differences.append(
                (
                    network_quarter_key(start, small),
                    network_quarter_key(start, large),
                    [(cell(r, small), cell(r, large)) for r in rows],
                )
            )
    if starts and any(s.all_row is not None for s in sites) and not any(s.history for s in sites):
        for col in SESSION_COLUMNS:
            groups.append([("network", col), *(network_quarter_key(q, col) for q in starts)])
    return {q: by_start[q] for q in starts}


def network_quarter_patients(
    quarters: Mapping[date, Sequence[TrendRow]],
    cell: Callable[[TrendRow, str], Hashable],
    published: dict[Hashable, int | None],
    at_most: Sequence[tuple[Hashable, Hashable]],
    profile: Profile,
    whole: Sequence[TrendSite] = (),
) -> None:
    """The network's patients per quarter, as published after the pass: hidden where the
    pass hid them; the sum of the sites' figures where all are shown; else shown only when
    every hidden site cell keeps a range at least as wide as 1..threshold against the upper
    bounds a reader has (hiding more only widens what a reader can work out). Why the extra
    check: the pass bounds a hidden cell from below but not from above, and a site's shown
    patients cap its hidden discordant patients (a hand-built five-site network of
    tests/hostile was pinned so). ``whole``: the sites, where the trend window is the audit
    period (else empty): the network's whole period less a quarter is then the sum over the
    sites of (whole - quarter), each >= 0, and must leave its hidden terms room too."""
    need = max(profile.threshold, 1)
    larger: dict[Hashable, list[Hashable]] = {}
    for a, b in at_most:
        larger.setdefault(a, []).append(b)

    def shown(key: Hashable) -> tuple[int, int] | None:
        value = published.get(key)
        if value is None:
            return None
        v = int(value)
        if v == 0 or profile.rounding <= 1:
            return v, v
        low = v - profile.rounding // 2
        high = low + profile.rounding - 1
        return (profile.threshold + 1 if v == profile.smallest_published else low), high

    caps: dict[Hashable, float] = {}

    def cap(key: Hashable, depth: int = 0) -> float:
        if key in caps:
            return caps[key]
        seen = shown(key)
        if seen is not None:
            return seen[1]
        best = float("inf")
        for b in larger.get(key, ()) if depth < 8 else ():
            best = min(best, cap(b, depth + 1))
        caps[key] = best
        return best

    for start, rows in quarters.items():
        for col in PATIENT_COLUMNS:
            key = network_quarter_key(start, col)
            parts = [cell(r, col) for r in rows]
            total = shown(key)
            hidden = [p for p in parts if published.get(p) is None]
            if total is None or not hidden:
                published[key] = (
                    None
                    if total is None
                    else sum(int(published[p] or 0) for p in parts)
                    if profile.rounding > 1
                    else total[0]
                )
                continue
            upper = {p: cap(p) for p in parts}
            # a hidden site cell is at least 1 as far as this check goes (a trend row exists
            # only when something happened in it: a reader may know as much)
            least = {p: (shown(p) or (1, 1))[0] for p in parts}
            room = True
            for p in hidden:  # the sum pins p between the total less the others' bounds
                lower = max(total[0] - sum(upper[o] for o in parts if o != p), least[p])
                high = min(upper[p], total[1] - sum(least[o] for o in parts if o != p))
                if high - lower + 1 < need:
                    room = False
            if room and whole:
                net = shown(("network", col))
                if net is not None:
                    # the network's whole period less this quarter: the sum over the sites
                    # of (whole - quarter), each >= 0; its hidden terms need room too
                    in_q = {r.key[0]: r for r in rows}
                    slack = net[1] - total[0]
                    some_hidden = False
                    for site in whole:
                        a = shown(cell(site.all_row, col))
                        row = in_q.get(site.site_id)
                        b = (0, 0) if row is None else shown(cell(row, col))
                        if a is None or b is None:
                            some_hidden = True
                        else:
                            slack -= a[0] - b[1]
                    if some_hidden and slack < need:
                        room = False
            if not room:
                published[key] = None
        # paired columns: in-population patients less discordant patients, and discordant
        # sessions less discordant patients, are sums over the sites of differences >= 0
        d_key = network_quarter_key(start, "discordant_patients")
        for large in ("in_population_patients", "sessions_discordant"):
            a_total, b_total = shown(d_key), shown(network_quarter_key(start, large))
            if a_total is None or b_total is None:
                continue
            slack = b_total[1] - a_total[0]
            some_hidden = False
            for r in rows:
                a, b = shown(cell(r, "discordant_patients")), shown(cell(r, large))
                if a is not None and b is not None:
                    slack -= b[0] - a[1]
                # a row with one of its pair shown: the slack pins the other to within it
                # (a row with both hidden leans on its own groups, as the network row's do)
                some_hidden = some_hidden or (a is None) != (b is None)
            if some_hidden and slack < need:
                published[d_key] = None


@dataclass(frozen=True)
class Band:
    """The network's published site values of one period: median and 10th-90th percentiles
    (None when fewer than BAND_MIN_SITES sites publish a value)."""

    sites: int  # sites publishing a value for the period
    median: float | None
    low: float | None
    high: float | None
    # sites whose value for the period is hidden: any one withholds the band (a band of the
    # rest would lean towards 100%: a site with no discordant patient shows its 100%, a site
    # with 1 to threshold of them is hidden)
    hidden: int = 0


def band_of(values: Sequence[float], min_sites: int = BAND_MIN_SITES) -> Band:
    """Median and 10th-90th percentile (linear interpolation between the sorted published
    values, numpy's default) of the published site values of one period."""
    n = len(values)
    if n < max(min_sites, 1):
        return Band(n, None, None, None)
    low, median, high = (float(x) for x in np.percentile(np.array(values), [10, 50, 90]))
    return Band(n, round(median, 4), round(low, 4), round(high, 4))


def network_band(
    quarters: Sequence[date],
    published: Mapping[date, Sequence[Any]],
    min_sites: int = BAND_MIN_SITES,
) -> dict[date, Band]:
    """The band of each quarter, from the concordance each site publishes for it (a tuple
    (rate, low, high); no-data values are left out: never a raw count). A quarter where any
    site's value is hidden gets no band: suppression hides small numbers of discordant patients
    but shows zeros (100%), so the published values of such a quarter are a biased sample of
    the sites (measured on a generated 14-site network: a band median of 100.0% against 92.7%
    over all sites). ``published`` holds a value per site, ``HIDDEN`` for a hidden one."""
    out = {}
    for q in quarters:
        values = published.get(q, ())
        rates = [v[0] for v in values if isinstance(v, tuple)]
        hidden = sum(1 for v in values if v is HIDDEN)
        band = band_of(rates, min_sites)
        if hidden:
            band = Band(band.sites, None, None, None)
        out[q] = replace(band, hidden=hidden)
    return out


def trend_quarters(sites: Sequence[TrendSite]) -> list[date]:
    """Every quarter start of the trend window, first to last, gaps filled."""
    starts = sorted({start_of(q) for s in sites for q in s.quarters})
    if not starts:
        return []
    out, day = [], starts[0]
    while day <= starts[-1]:
        out.append(day)
        index = day.year * 12 + day.month - 1 + 3
        day = date(index // 12, index % 12 + 1, 1)
    return out


def _rate_text(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, float) else ""


def site_trend_view(
    site: TrendSite,
    quarters: Sequence[date],
    bands: Mapping[date, Band],
    view: Callable[[Any], dict[str, Any]],
) -> list[dict[str, Any]]:
    """The quarterly table of a site page: one row per quarter of the trend window (a
    quarter without a row had nothing in it: its counts are zero, its concordance no data),
    its published counts and concordance, and the network band of that quarter."""
    by_start = {start_of(q): q for q in site.quarters}
    out = []
    for start in quarters:
        row = by_start.get(start)
        shown = view(row) if row is not None else None
        band = bands.get(start)
        out.append(
            {
                "label": quarter_label(row) if row is not None else _plain_quarter(start),
                "row": shown,
                "band": band if band is not None and band.median is not None else None,
                "band_text": (
                    f"{_rate_text(band.median)} ({_rate_text(band.low)}\u2013"
                    f"{_rate_text(band.high)})"
                    if band is not None and band.median is not None
                    else ""
                ),
            }
        )
    return out


def _plain_quarter(start: date) -> str:
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def network_trend_view(
    quarters: Sequence[date],
    bands: Mapping[date, Band],
    chart: Callable[..., Any],
    counts: Mapping[date, Mapping[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """The index's network trend: per quarter, the network's own published counts and
    concordance (``counts``: the view of each network-quarter row, cells of the disclosure
    pass; a quarter without one had nothing in it), how many sites publish a concordance and
    the band of those values, and its chart (``chart``: audit.charts.rate_chart): the
    network's line in front of the band."""
    if not quarters:
        return None
    counts = counts or {}
    labels = [_plain_quarter(q) for q in quarters]
    rows = []
    for q, label in zip(quarters, labels, strict=True):
        b = bands.get(q, Band(0, None, None, None))
        rows.append(
            {
                "label": label,
                "row": counts.get(q),
                "sites": b.sites,
                "hidden": b.hidden,
                "median": _rate_text(b.median),
                "low": _rate_text(b.low),
                "high": _rate_text(b.high),
            }
        )
    network = [
        (b.low, b.median, b.high)
        if (b := bands.get(q)) is not None
        and b.median is not None
        and b.low is not None
        and b.high is not None
        else None
        for q in quarters
    ]
    points = [r["row"]["concordance"] if r["row"] is not None else None for r in rows]
    drawn = any(n is not None for n in network) or any(isinstance(p, tuple) for p in points)
    return {
        "rows": rows,
        "chart": chart(
            labels,
            points,
            title="Network concordance per quarter, with the spread of the sites",
            unit="network concordance",
            per="quarter",
            network=network,
        )
        if drawn
        else None,
        "hidden": any(
            r["row"] is not None
            and any(r["row"][c] is HIDDEN for c in (*PATIENT_COLUMNS, *SESSION_COLUMNS[:2]))
            for r in rows
        ),
        "min_sites": BAND_MIN_SITES,
    }
