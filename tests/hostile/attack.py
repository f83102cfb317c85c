"""The recovery attack: what a reader can work out about hidden counts from the published
outputs alone (issue 10, deliverable 6).

The attacker reads only what a reader of the shareable outputs sees - ``site_summary.csv``
and ``.parquet``, the visible text of ``index.html`` and of every ``sites/*.html`` (tables,
cards, chart labels) and the public ``manifest.json`` - and builds, independently of
``audit/report.py``, every additive relation those numbers obey and every valid inequality.
Then it solves, by linear programming (scipy's HiGHS), for the minimum and maximum of every
hidden cell. A hidden cell must keep at least as many possible values as the suppression
range 1..threshold has: ``max - min + 1 >= threshold``; anything narrower (or a pinned value)
is a disclosure.

The model of a published value (privacy.md):

* a shown count ``v`` under rounding base ``b`` and threshold ``t`` stands for the true values
  ``v - b//2 .. v - b//2 + b - 1``, or ``t + 1 .. v - b//2 + b - 1`` for the smallest
  publishable value (``0`` stands for exactly 0); with ``b = 1`` it is exact;
* a hidden count is any value ``>= 0``: a primary cell is 1..t, but a reader cannot tell a
  primary cell from a complementary one, which may hold any value, zero included;
* a row that is absent (a month with no row at a site, a recommendation row omitted) is 0
  when the page says that absent means zero.

Relations (equalities): each row's sessions (all = discordant + clinical trial + not
addressed + out of population), the network row included; each session column over a site's
months and its whole-period value; each count column over the sites and the network row; the
attrition steps of each site page (each ``=`` row is the step above it minus the ``-`` rows
between); by recommendation: discordant sessions = sum of the rows, clinical-trial sessions =
sum of the rows (plus "no recommendation"); each reconciliation table (rows read = every
item = rows accounted for); the trend: a quarter's sessions = the sum of its months (history
months before the period and the period's months), and without history months the whole
period's = the sum of its quarters; the network's quarters (the index's trend table and the
public manifest's ``network_quarters``): each count = the sum over the sites of that quarter's
cell, and without history the network's whole-period sessions = the sum of its quarters (a
network rate shown must derive from its counts; the site pages' network line only where they are
shown); the network attrition of the index (as the site pages');
every cell shown in several places is one variable.
Inequalities: counts >= 0; discordant patients <= in-population patients and <= discordant
sessions (same row); a recommendation's patients <= its sessions, and >= 1 when it has a
session; a site's discordant patients <= the sum of its recommendation rows' patients; a
whole-period patient count >= each month's and <= their sum; a month row exists only when
something happened (sessions + in-population patients >= 1); status values counted <=
procedure rows counted; a month's patients <= its quarter's, a quarter's denominator <= the
sum of its months'; a trend row (history month, quarter) exists only when something happened;
patients with a counting session <= counting sessions, >= the site's discordant patients and
each recommendation row's patients. The network band (median and deciles of published rates)
holds no count: it is derived from the site rows the attacker already reads.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csc_matrix, csr_matrix, vstack
from scipy.sparse.csgraph import connected_components

Key = Hashable
HIDDEN = "*"
SESSION_COLS = (
    "sessions_total",
    "sessions_discordant",
    "sessions_clinical_trial",
    "sessions_not_addressed",
    "sessions_out_of_population",
)
PATIENT_COLS = ("in_population_patients", "discordant_patients")
PARTS = SESSION_COLS[1:]
PROBES = 10


class AttackModelError(AssertionError):
    """The published outputs do not have the shape the attacker knows: a new table or column
    the model does not cover must be added to it, never silently skipped."""


# ----------------------------------------------------------------------------- a tiny DOM
_VOID = {"meta", "br", "img", "link", "input", "hr", "col", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        out = []
        for c in self.children:
            out.append(c if isinstance(c, str) else " " if c.tag == "br" else c.text())
        return "".join(out)

    def clean(self) -> str:
        return re.sub(r"\s+", " ", self.text()).strip()

    def iter(self, tag: str | None = None) -> Iterable[Node]:
        for c in self.children:
            if isinstance(c, Node):
                if tag is None or c.tag == tag:
                    yield c
                yield from c.iter(tag)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


def _sections(root: Node) -> list[tuple[str, Node]]:
    """Each table with the text of the nearest heading (h2/h3) before it, in document order."""
    out: list[tuple[str, Node]] = []
    heading = ""

    def walk(node: Node) -> None:
        nonlocal heading
        for c in node.children:
            if not isinstance(c, Node):
                continue
            if c.tag in ("h2", "h3"):
                heading = c.clean()
            elif c.tag == "table":
                out.append((heading, c))
            else:
                walk(c)

    walk(root)
    return out


def _header_paths(table: Node) -> list[tuple[str, ...]]:
    """Column labels of a table head with row/col spans expanded: one path per column."""
    thead = next(table.iter("thead"), None)
    if thead is None:
        return []
    grid: dict[tuple[int, int], str] = {}
    for r, tr in enumerate(thead.iter("tr")):
        c = 0
        for th in [x for x in tr.children if isinstance(x, Node) and x.tag in ("th", "td")]:
            while (r, c) in grid:
                c += 1
            rs, cs = int(th.attrs.get("rowspan", 1)), int(th.attrs.get("colspan", 1))
            for i in range(rs):
                for j in range(cs):
                    grid[(r + i, c + j)] = th.clean()
            c += cs
    ncols = 1 + max((c for _, c in grid), default=-1)
    nrows = 1 + max((r for r, _ in grid), default=-1)
    paths = []
    for c in range(ncols):
        path: list[str] = []
        for r in range(nrows):
            label = grid.get((r, c), "")
            if not path or path[-1] != label:
                path.append(label)
        paths.append(tuple(path))
    return paths


def _cells(tr: Node) -> list[Node]:
    return [x for x in tr.children if isinstance(x, Node) and x.tag in ("td", "th")]


def _rows(table: Node, part: str) -> list[Node]:
    section = next(table.iter(part), None)
    return [] if section is None else list(section.iter("tr"))


def parse_count(text: str) -> int | str | None:
    """A count as a reader sees it: an int, HIDDEN, or None (dash, no data, empty)."""
    text = text.strip()
    if text == "*":
        return HIDDEN
    if re.fullmatch(r"\d{1,3}(,\d{3})*|\d+", text):
        return int(text.replace(",", ""))
    return None


# ----------------------------------------------------------------------------- the model
@dataclass
class Published:
    """Everything the attacker knows: observations of cells, relations, inequalities."""

    profile: str = ""
    threshold: int = 0
    rounding: int = 1
    seen: dict[Key, list[int | str]] = field(default_factory=lambda: defaultdict(list))
    sums: list[tuple[Key, list[Key]]] = field(default_factory=list)  # total = sum(parts)
    # sum(coef * x) <= rhs
    upper: list[tuple[list[tuple[float, Key]], float]] = field(default_factory=list)
    where: dict[Key, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # leaks found while reading

    def see(self, key: Key, value: int | str | None, where: str) -> None:
        if value is None:
            return
        self.seen[key].append(value)
        self.where.setdefault(key, where)

    def add_sum(self, total: Key, parts: Sequence[Key]) -> None:
        self.sums.append((total, list(parts)))

    def at_most(self, terms: list[tuple[float, Key]], rhs: float) -> None:
        self.upper.append((terms, rhs))

    def interval(self, key: Key) -> tuple[float, float | None] | None:
        """What the reader knows of one cell on its own: (low, high); None when hidden
        everywhere it appears (it is then a variable >= 0)."""
        shown = [v for v in self.seen.get(key, []) if v != HIDDEN]
        if not shown:
            return None
        low, high = 0.0, None
        for v in shown:
            lo, hi = self.stands_for(int(v))
            low = max(low, lo)
            high = hi if high is None else min(high, hi)
        return low, high

    def stands_for(self, v: int) -> tuple[float, float]:
        """The true values a shown count stands for: rounded to the nearest multiple of the
        base (halves up), never below the first multiple above the threshold (which so
        stands for every count from threshold + 1 up to it)."""
        if v == 0 or self.rounding <= 1:
            return float(v), float(v)
        b, t = self.rounding, self.threshold
        smallest = -(-(t + 1) // b) * b
        low = t + 1 if v == smallest else v - b // 2
        return float(low), float(v - b // 2 + b - 1)

    def hidden_keys(self) -> list[Key]:
        return sorted(
            (k for k, vs in self.seen.items() if vs and all(v == HIDDEN for v in vs)), key=str
        )


# ----------------------------------------------------------------------------- reading
def _shareable(folder: Path) -> Path:
    folder = Path(folder)
    return folder / "shareable" if (folder / "shareable" / "index.html").is_file() else folder


def read_published(folder: Path) -> Published:
    """Read every shareable output of one run into a :class:`Published` model."""
    folder = _shareable(folder)
    pub = Published()
    sites = _read_summary_csv(folder / "site_summary.csv", pub)
    _read_summary_parquet(folder / "site_summary.parquet", pub)
    pages = _read_index(folder / "index.html", pub, sites)
    for sid, href in pages.items():
        _read_site_page(folder / href, pub, sid)
    manifest = folder / "manifest.json"
    if manifest.is_file():
        _read_public_manifest(manifest, pub, sorted(sites))
    workbook = folder / "spine-audit.xlsx"
    if workbook.is_file():
        _read_workbook(workbook, pub)
    return pub


def _period_key(period_type: str, start: str) -> str:
    """How the attacker names a period: ``all``; ``2025-11`` (a month of the audit period);
    ``H2024-05`` (a month of the trend history before it); ``2025-Q4`` (a quarter)."""
    if period_type == "all":
        return "all"
    if period_type == "history_month":
        return "H" + start[:7]
    if period_type == "quarter":
        return f"{start[:4]}-Q{(int(start[5:7]) - 1) // 3 + 1}"
    if period_type == "month":
        return start[:7]
    raise AttackModelError(f"site_summary: unknown period_type {period_type!r}")


def _quarter_of_month(month: str) -> str:
    """The quarter key of a month key (``2025-11`` or ``H2025-11`` -> ``2025-Q4``)."""
    month = month.removeprefix("H")
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def _sp(sid: str, period: str, col: str) -> Key:
    return ("site_period", sid, period, col)


def _read_summary_csv(path: Path, pub: Published) -> dict[str, str]:
    """The site summary; returns site id -> name. Adds row, month and network relations."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names: dict[str, str] = {}
    months: dict[str, list[str]] = defaultdict(list)
    trend: dict[str, list[str]] = defaultdict(list)  # history months and quarters
    for r in rows:
        pub.profile = r["suppression_profile"]
        pub.threshold = int(r["suppression_threshold"])
        pub.rounding = int(r["suppression_rounding"])
        sid = r["site_id"]
        names[sid] = r["site_name"]
        period = _period_key(r["period_type"], r["period_start"])
        if r["period_type"] == "month":
            months[sid].append(period)
        elif period != "all":
            trend[sid].append(period)
        for col in (*PATIENT_COLS, *SESSION_COLS):
            text = r[col]
            value = HIDDEN if text == "" else int(text)
            pub.see(_sp(sid, period, col), value, f"site_summary.csv {sid} {period} {col}")
        _derived_rate_check(pub, r, sid, period)
    for sid in names:
        _trend_relations(pub, sid, months[sid], trend[sid])
        for period in ["all", *months[sid], *trend[sid]]:
            pub.add_sum(_sp(sid, period, SESSION_COLS[0]), [_sp(sid, period, c) for c in PARTS])
            pd_ = _sp(sid, period, "discordant_patients")
            pin = _sp(sid, period, "in_population_patients")
            d = _sp(sid, period, "sessions_discordant")
            pub.at_most([(1, pd_), (-1, pin)], 0)
            pub.at_most([(1, pd_), (-1, d)], 0)
        for col in SESSION_COLS:
            if months[sid]:
                pub.add_sum(_sp(sid, "all", col), [_sp(sid, m, col) for m in months[sid]])
        for m in months[sid]:  # a month row exists only when something happened there
            pub.at_most(
                [(-1, _sp(sid, m, "sessions_total")), (-1, _sp(sid, m, PATIENT_COLS[0]))], -1
            )
        for col in PATIENT_COLS:
            # A patient in the whole-period denominator has an in-population visit in some
            # month; a discordant patient's visit and session may fall in different months,
            # so only the denominator is at most the sum of its months.
            if months[sid] and col == "in_population_patients":
                pub.at_most(
                    [(1, _sp(sid, "all", col))] + [(-1, _sp(sid, m, col)) for m in months[sid]],
                    0,
                )
            for m in months[sid]:
                pub.at_most([(1, _sp(sid, m, col)), (-1, _sp(sid, "all", col))], 0)
    for col in (*PATIENT_COLS, *SESSION_COLS):
        pub.add_sum(("network", col), [_sp(sid, "all", col) for sid in names])
    pub.add_sum(("network", SESSION_COLS[0]), [("network", c) for c in PARTS])
    return names


def _trend_relations(pub: Published, sid: str, months: list[str], trend: list[str]) -> None:
    """History months and quarters: a quarter's sessions are the sum of its months (history
    and audit months); without history months the whole period's are the sum of its quarters;
    a month's patients are at most its quarter's, and a quarter's denominator at most the sum
    of its months'; a trend row exists only when something happened in it."""
    history = [p for p in trend if p.startswith("H")]
    quarters = [p for p in trend if "-Q" in p]
    for q in quarters:
        inside = [m for m in [*history, *months] if _quarter_of_month(m) == q]
        for col in SESSION_COLS:
            if inside:
                pub.add_sum(_sp(sid, q, col), [_sp(sid, m, col) for m in inside])
        for col in PATIENT_COLS:
            for m in inside:
                pub.at_most([(1, _sp(sid, m, col)), (-1, _sp(sid, q, col))], 0)
        if inside:
            col = "in_population_patients"
            pub.at_most([(1, _sp(sid, q, col))] + [(-1, _sp(sid, m, col)) for m in inside], 0)
    if quarters and not history:
        for col in SESSION_COLS:
            pub.add_sum(_sp(sid, "all", col), [_sp(sid, q, col) for q in quarters])
        for col in PATIENT_COLS:
            for q in quarters:
                pub.at_most([(1, _sp(sid, q, col)), (-1, _sp(sid, "all", col))], 0)
    for p in trend:
        pub.at_most([(-1, _sp(sid, p, "sessions_total")), (-1, _sp(sid, p, PATIENT_COLS[0]))], -1)


def _derived_rate_check(pub: Published, r: dict[str, str], sid: str, period: str) -> None:
    """A rate may be shown only when both its counts are, and must be computed from them."""
    rate, pin, pd_ = r["concordance"], r["in_population_patients"], r["discordant_patients"]
    if rate == "":
        return
    if pin == "" or pd_ == "":
        pub.problems.append(f"site_summary.csv {sid} {period}: rate shown with a hidden count")
    elif int(pin) == 0 or round(1 - int(pd_) / int(pin), 4) != float(rate):
        pub.problems.append(f"site_summary.csv {sid} {period}: rate {rate} is not 1 - {pd_}/{pin}")


def _read_summary_parquet(path: Path, pub: Published) -> None:
    table = pq.read_table(path).to_pylist()
    for r in table:
        period = _period_key(r["period_type"], r["period_start"].isoformat())
        for col in (*PATIENT_COLS, *SESSION_COLS):
            value = HIDDEN if r[col] is None else int(r[col])
            pub.see(_sp(r["site_id"], period, col), value, f"site_summary.parquet {col}")


_INDEX_COLUMNS = {
    ("Patients (measure 3.6)", "In population"): "in_population_patients",
    ("Patients (measure 3.6)", "Discordant"): "discordant_patients",
    ("Sessions by outcome (measure 3.5)", "All"): "sessions_total",
    ("Sessions by outcome (measure 3.5)", "Discordant"): "sessions_discordant",
    ("Sessions by outcome (measure 3.5)", "Clinical trial"): "sessions_clinical_trial",
    ("Sessions by outcome (measure 3.5)", "Not addressed"): "sessions_not_addressed",
    ("Sessions by outcome (measure 3.5)", "Out of population"): "sessions_out_of_population",
}
_NOT_COUNTS = {"Site", "Group", "Concordance (95% CI)", "Allowed amount, discordant"}
_INDEX_CARDS = {
    "Counting sessions": "sessions_total",
    "Discordant sessions": "sessions_discordant",
}
_SITE_CARDS = {
    "Counting sessions": "sessions_total",
    "Discordant sessions": "sessions_discordant",
    "In-population patients": "in_population_patients",
    "Discordant patients": "discordant_patients",
}
_RATE_CARDS = {"Concordance (pooled over sites)", "Concordance (95% CI)"}
_AMOUNT_CARDS = {"Allowed amount, discordant", "Sites"}


def _cards(root: Node, pub: Published, prefix: tuple, known: dict[str, str], where: str):
    for card in root.iter("div"):
        if "card" not in card.classes():
            continue
        k = next((d for d in card.iter("div") if "k" in d.classes()), None)
        v = next((d for d in card.iter("div") if "v" in d.classes()), None)
        if k is None or v is None:
            continue
        label = k.clean()
        if label in known:
            pub.see((*prefix, known[label]), parse_count(v.clean()), f"{where} card {label}")
        elif label not in _RATE_CARDS and label not in _AMOUNT_CARDS:
            raise AttackModelError(f"{where}: unknown card {label!r}")


def _read_index(path: Path, pub: Published, names: dict[str, str]) -> dict[str, str]:
    """The index page: sites table, network row, cards, data quality, reconciliation.
    Returns site id -> href of its page."""
    root = parse_html(path.read_text(encoding="utf-8"))
    _cards(root, pub, ("network",), _INDEX_CARDS, "index.html")
    hrefs: dict[str, str] = {}
    by_title = {f"{name} ({sid})": sid for sid, name in names.items()}
    for heading, table in _sections(root):
        paths = _header_paths(table)
        if heading == "Sites":
            for kind in ("tbody", "tfoot"):
                for tr in _rows(table, kind):
                    cells = _cells(tr)
                    if kind == "tbody":
                        link = next(cells[0].iter("a"))
                        sid = by_title[link.attrs["title"]]
                        hrefs[sid] = link.attrs["href"]
                        prefix: tuple = ("site_period", sid, "all")
                    else:
                        prefix = ("network",)
                    if len(cells) != len(paths):
                        continue  # "no whole-period figures"
                    for path_, cell in zip(paths, cells, strict=True):
                        col = _INDEX_COLUMNS.get(path_[-2:]) if len(path_) > 1 else None
                        if col is not None:
                            pub.see((*prefix, col), parse_count(cell.clean()), "index sites")
                        elif path_[-1] not in _NOT_COUNTS:
                            raise AttackModelError(f"index.html: unknown column {path_}")
        elif "funnel" in table.classes():  # the funnel plot's data table
            _read_funnel(table, paths, pub, by_title)
        elif heading == "Spend on discordant sessions":
            _read_network_spend(table, pub, sorted(names))
        elif heading == "Data quality":
            _read_quality(table, paths, pub)
        elif heading == "Reconciliation of input rows":
            _read_reconciliation(table, paths, pub)
        elif heading == "Settings used":
            continue
        elif heading == "Network: from all sessions to discordant sessions":
            _read_attrition(table, pub, None, "index.html network attrition")
        elif heading == "Network trend by quarter":
            _read_network_quarters(table, paths, pub, sorted(names))
        else:
            _read_unknown_table(path.name, heading, table, pub)
    return hrefs


_NETWORK_QUARTER_COLUMNS = {
    "In-population patients": "in_population_patients",
    "Discordant patients": "discordant_patients",
    "Sessions": "sessions_total",
    "Discordant sessions": "sessions_discordant",
}
_NETWORK_QUARTER_NOT_COUNTS = {
    "Quarter",
    "Concordance (95% CI)",
    "Sites with a value",
    "Sites: median (10th\u201390th)",
}


def _nq(quarter: str, col: str) -> Key:
    return ("network_quarter", quarter, col)


def _read_network_quarters(
    table: Node, paths: list[tuple[str, ...]], pub: Published, sites: Sequence[str]
) -> None:
    """The index's network per quarter: each count is the sum over the sites of that
    quarter's cell (a site page shows a quarter without a row as zeros); without history
    months the network's whole-period sessions are the sum of its quarters; a concordance
    shown must derive from the two patient counts beside it. (The band holds no count.)"""
    labels = [p[-1] for p in paths]
    quarters = []
    for tr in _rows(table, "tbody"):
        row = dict(zip(labels, [c.clean() for c in _cells(tr)], strict=True))
        q = row["Quarter"]
        if not re.fullmatch(r"\d{4}-Q[1-4]", q):
            raise AttackModelError(f"index.html: unknown network quarter {q!r}")
        quarters.append(q)
        for label, text in row.items():
            if label in _NETWORK_QUARTER_COLUMNS:
                col = _NETWORK_QUARTER_COLUMNS[label]
                pub.see(_nq(q, col), parse_count(text), "index network quarters")
            elif label not in _NETWORK_QUARTER_NOT_COUNTS:
                raise AttackModelError(f"index.html: unknown network quarter column {label!r}")
        for col in _NETWORK_QUARTER_COLUMNS.values():
            pub.add_sum(_nq(q, col), [_sp(sid, q, col) for sid in sites])
        pin, pd_ = (parse_count(row[k]) for k in ("In-population patients", "Discordant patients"))
        rate = re.match(r"([\d.]+)%", row["Concordance (95% CI)"])
        if rate and (not isinstance(pin, int) or not isinstance(pd_, int)):
            pub.problems.append(f"index network quarter {q}: rate shown with a hidden count")
        elif rate and (pin == 0 or abs(100 * (1 - pd_ / pin) - float(rate.group(1))) > 0.051):
            pub.problems.append(f"index network quarter {q}: rate is not 1 - {pd_}/{pin}")
    history = any(k[0] == "site_period" and str(k[2]).startswith("H") for k in pub.seen)
    if quarters and not history:
        for col in ("sessions_total", "sessions_discordant"):
            pub.add_sum(("network", col), [_nq(q, col) for q in quarters])


_FUNNEL_COLUMNS = {
    "In-population patients": "in_population_patients",
    "Discordant patients": "discordant_patients",
}
_FUNNEL_NOT_COUNTS = {"Site", "Flag", "Concordance", "95% limits", "99.8% limits"}


def _read_funnel(
    table: Node, paths: list[tuple[str, ...]], pub: Published, by_title: dict[str, str]
) -> None:
    """The funnel plot's data table: a site's whole-period patient counts again (the same
    cells as the Sites table), its rate (must derive from them) and limits (from the counts
    and the published network rate: nothing new)."""
    labels = [p[-1] for p in paths]
    unknown = set(labels) - set(_FUNNEL_COLUMNS) - _FUNNEL_NOT_COUNTS
    if unknown:
        raise AttackModelError(f"index.html: unknown funnel columns {sorted(unknown)}")
    for tr in _rows(table, "tbody"):
        cells = _cells(tr)
        sid = by_title[next(cells[0].iter("a")).attrs["title"]]
        row = dict(zip(labels, [c.clean() for c in cells], strict=True))
        counts = {}
        for label, col in _FUNNEL_COLUMNS.items():
            counts[col] = parse_count(row[label])
            if counts[col] == HIDDEN:
                pub.problems.append(f"index.html funnel: {sid} plotted with a hidden count")
            pub.see(_sp(sid, "all", col), counts[col], "index funnel")
        n, d = counts["in_population_patients"], counts["discordant_patients"]
        counted = isinstance(n, int) and isinstance(d, int) and n > 0
        if counted and row["Concordance"] != f"{(1 - d / n) * 100:.1f}%":
            pub.problems.append(f"index.html funnel: {sid} rate is not 1 - {d}/{n}")


def _see_possible(cell: Node, pub: Published, key: Key, where: str) -> None:
    """The possible cases of a row not measurable from procedure codes (span.possible)."""
    span = next((s for s in cell.iter("span") if "possible" in s.classes()), None)
    if span is None:
        raise AttackModelError(f"{where}: a not-measurable row without its possible cases")
    pub.see(key, parse_count(span.clean()), where)


def _read_network_spend(table: Node, pub: Published, sites: Sequence[str]) -> None:
    """The index's network spend by recommendation: each row's discordant sessions are the
    network cell of the public manifest (the sum of the site pages' rows); a row not
    measurable from procedure codes holds 0 sessions and the network's possible cases (the
    sum of the site pages' possible cases); the foot is the network's discordant sessions."""
    labels = [p[-1] for p in _header_paths(table)]
    keys = []
    for tr in _rows(table, "tbody"):
        cells = _cells(tr)
        rec = (cells[0].clean(), cells[1].clean())
        key = ("network_recommendation", *rec, "d")
        pub.add_sum(key, [("rec", sid, *rec, "d") for sid in sites])
        keys.append(key)
        if "unmeasurable" in tr.classes():
            pub.see(key, 0, "index spend (not measurable)")
            possible = ("network_possible", *rec)
            pub.add_sum(possible, [("possible", sid, *rec) for sid in sites])
            _see_possible(cells[-1], pub, possible, "index spend")
            continue
        row = dict(zip(labels, [c.clean() for c in cells], strict=True))
        pub.see(key, parse_count(row["Discordant sessions"]), "index spend")
    for tr in _rows(table, "tfoot"):
        cells = _cells(tr)
        pub.see(("network", "sessions_discordant"), parse_count(cells[-2].clean()), "index spend")
    pub.add_sum(("network", "sessions_discordant"), keys)


def _read_unknown_table(page: str, heading: str, table: Node, pub: Published) -> None:
    """A table the attacker does not model must hold no counts."""
    for tr in _rows(table, "tbody"):
        for cell in _cells(tr):
            if "num" in cell.classes() and parse_count(cell.clean()) not in (None,):
                raise AttackModelError(f"{page}: table {heading!r} holds counts not modelled")


def _read_quality(table: Node, paths: list[tuple[str, ...]], pub: Published) -> None:
    labels = [p[-1] for p in paths]
    for tr in _rows(table, "tbody"):
        cells = [c.clean() for c in _cells(tr)]
        row = dict(zip(labels, cells, strict=True))
        key = ("dq", row.get("Check"), row.get("Code"), row.get("Note"))
        pub.see(key, parse_count(row["Count"]), "index data quality")
    status = [k for k in pub.seen if k[0] == "dq" and k[1] == "status value counted"]
    if status:
        counted = [
            ("recon", "procedures", "counted / index procedure"),
            ("recon", "procedures", "counted / other procedure"),
        ]
        pub.at_most([(1, k) for k in status] + [(-1, k) for k in counted], 0)


def _read_reconciliation(table: Node, paths: list[tuple[str, ...]], pub: Published) -> None:
    labels = [p[-1] for p in paths]
    items: dict[str, list[Key]] = defaultdict(list)
    totals: dict[str, list[Key]] = defaultdict(list)
    for tr in _rows(table, "tbody"):
        row = dict(zip(labels, [c.clean() for c in _cells(tr)], strict=True))
        t, item = row["Input table"], row["Item"]
        key = ("recon", t, item)
        pub.see(key, parse_count(row["Rows"]), "index reconciliation")
        (totals if item in ("input rows", "accounted rows") else items)[t].append(key)
    for t, keys in totals.items():
        for total in keys:
            pub.add_sum(total, items[t])


_REC_COLUMNS = {
    "Discordant sessions": "d",
    "Patients": "p",
    "Clinical-trial sessions": "ct",
}


def _read_site_page(path: Path, pub: Published, sid: str) -> None:
    root = parse_html(path.read_text(encoding="utf-8"))
    where = f"sites/{path.name}"
    _cards(root, pub, ("site_period", sid, "all"), _SITE_CARDS, where)
    _read_charts(root, pub, sid)
    for heading, table in _sections(root):
        labels = [p[-1] for p in _header_paths(table)]
        if "chartdata" in table.classes():  # a chart's data table: the chart's cells again
            _read_chart_data(table, labels, pub, sid, where)
        elif heading == "By recommendation":
            d_keys, ct_keys, p_keys = [], [], []
            ct_norec = False
            for tr in _rows(table, "tbody"):
                cells = _cells(tr)
                if cells[0].attrs.get("colspan") == "3":  # trial, no recommendation covers it
                    key = ("trial_no_recommendation", sid)
                    pub.see(key, parse_count(cells[-1].clean()), where)
                    ct_keys.append(key)
                    ct_norec = True
                    continue
                if "unmeasurable" in tr.classes():  # not measurable: its counts are 0
                    rec = (cells[0].clean(), cells[1].clean())
                    for kind, keys in (("d", d_keys), ("ct", ct_keys), ("p", p_keys)):
                        key = ("rec", sid, *rec, kind)
                        pub.see(key, 0, f"{where} (not measurable)")
                        keys.append(key)
                    _see_possible(cells[-1], pub, ("possible", sid, *rec), where)
                    continue
                row = dict(zip(labels, [c.clean() for c in cells], strict=True))
                rec = (row["Recommendation"], row["Procedure family"])
                for label, kind in _REC_COLUMNS.items():
                    key = ("rec", sid, *rec, kind)
                    pub.see(key, parse_count(row[label]), where)
                    {"d": d_keys, "ct": ct_keys, "p": p_keys}[kind].append(key)
                d, p = ("rec", sid, *rec, "d"), ("rec", sid, *rec, "p")
                pub.at_most([(1, p), (-1, d)], 0)
                lo = pub.interval(d)
                if lo is not None and lo[0] >= 1:
                    pub.at_most([(-1, p)], -1)
            if not ct_norec:
                pub.see(("trial_no_recommendation", sid), 0, f"{where} (row omitted: zero)")
                ct_keys.append(("trial_no_recommendation", sid))
            pub.add_sum(_sp(sid, "all", "sessions_discordant"), d_keys)
            pub.add_sum(_sp(sid, "all", "sessions_clinical_trial"), ct_keys)
            pub.at_most(
                [(1, _sp(sid, "all", "discordant_patients"))] + [(-1, k) for k in p_keys], 0
            )
        elif heading == "From all sessions to discordant sessions":
            _read_attrition(table, pub, sid, where)
        elif heading == "Patients at the first step":
            _read_attrition_patients(table, pub, sid, where)
        elif heading == "Quarterly trend":
            _read_quarters(table, labels, pub, sid, where)
        else:
            _read_unknown_table(where, heading, table, pub)


_ATTRITION_PATIENTS = {"Patients with a counting session": "counting"}


def _read_attrition_patients(table: Node, pub: Published, sid: str, where: str) -> None:
    """Patients at the attrition's first step: at most the site's counting sessions, at
    least its discordant patients (measure 3.6) and each recommendation row's patients, at
    least one when it has a session."""
    for tr in _rows(table, "tbody"):
        cells = _cells(tr)
        label = cells[0].clean()
        if label not in _ATTRITION_PATIENTS:
            raise AttackModelError(f"{where}: unknown patient step {label!r}")
        pub.see(
            ("attr_patients", sid, _ATTRITION_PATIENTS[label]),
            parse_count(cells[-1].clean()),
            where,
        )
    counting = ("attr_patients", sid, "counting")
    pub.at_most([(1, counting), (-1, _sp(sid, "all", "sessions_total"))], 0)
    pub.at_most([(1, _sp(sid, "all", "discordant_patients")), (-1, counting)], 0)
    for key in [k for k in pub.seen if k[0] == "rec" and k[1] == sid and k[-1] == "p"]:
        pub.at_most([(1, key), (-1, counting)], 0)
    shown = pub.interval(_sp(sid, "all", "sessions_total"))
    if shown is not None and shown[0] >= 1:
        pub.at_most([(-1, counting)], -1)


_QUARTER_COLUMNS = {
    "In-population patients": "in_population_patients",
    "Discordant patients": "discordant_patients",
    "Sessions": "sessions_total",
    "Discordant sessions": "sessions_discordant",
}


def _read_quarters(table: Node, labels: list[str], pub: Published, sid: str, where: str) -> None:
    """The quarterly table of a site page: a quarter without a row in site_summary is shown
    as zeros (nothing happened in it)."""
    for tr in _rows(table, "tbody"):
        row = dict(zip(labels, [c.clean() for c in _cells(tr)], strict=True))
        q = row["Quarter"].split(" ")[0]
        if not re.fullmatch(r"\d{4}-Q[1-4]", q):
            raise AttackModelError(f"{where}: unknown quarter {row['Quarter']!r}")
        for label, text in row.items():
            if label in _QUARTER_COLUMNS:
                pub.see(_sp(sid, q, _QUARTER_COLUMNS[label]), parse_count(text), where)
            elif label not in ("Quarter", "Concordance", "Network median (10th–90th)"):
                raise AttackModelError(f"{where}: unknown quarterly column {label!r}")


_ATTRITION = {
    "All counting sessions": "sessions_total",
    "In the guideline population": "in_population",
    "clinical trial (modifier Q0/Q1 or Z00.6)": "sessions_clinical_trial",
    "not addressed by a recommendation": "sessions_not_addressed",
    "Discordant with a strong recommendation against": "sessions_discordant",
}


def _read_attrition(table: Node, pub: Published, sid: str | None, where: str) -> None:
    """One attrition table: a site's (``sid``) or the network's (``sid`` None: the cells of
    the network row and of the public manifest's network attrition)."""
    anchor: Key | None = None
    minus: list[Key] = []
    for tr in _rows(table, "tbody"):
        cells = _cells(tr)
        label = re.sub(r"^[\u2212=]\s*", "", cells[0].clean())
        kind = (tr.attrs.get("class") or "").strip()
        if label in _ATTRITION and sid is None:
            col = _ATTRITION[label]
            key: Key = ("network_in_population",) if col == "in_population" else ("network", col)
        elif label in _ATTRITION:
            col = _ATTRITION[label]
            key = ("in_population", sid) if col == "in_population" else _sp(sid, "all", col)
        elif label.startswith("out of population: "):
            key = ("reason", sid, label) if sid is not None else ("network_reason", label)
        else:
            raise AttackModelError(f"{where}: unknown attrition step {label!r}")
        pub.see(key, parse_count(cells[-1].clean()), where)
        if kind == "start":
            anchor, minus = key, []
        elif kind == "minus":
            minus.append(key)
        elif kind in ("subtotal", "end"):
            if anchor is None:
                raise AttackModelError(f"{where}: attrition without a start")
            pub.add_sum(anchor, [*minus, key])
            anchor, minus = key, []


_BAR = re.compile(
    r"^(\d{4}-(?:\d{2}|Q[1-4])): (?:([\d,]+) discordant sessions|discordant sessions hidden)$"
)
_NETWORK_POINT = re.compile(r"^Network, (\d{4}-Q[1-4]): [\d.]+%$")
_POINT = re.compile(r"^(\d{4}-(?:\d{2}|Q[1-4])): (?:concordance hidden|[\d.]+% \(.*\))$")


def _chart_period(pub: Published, sid: str, label: str) -> str:
    """A chart's month is the audit period's month where site_summary has one, else the
    history month of that name where it has one (a month with neither is a zero)."""
    if "-Q" in label or _sp(sid, label, "sessions_total") in pub.seen:
        return label
    if _sp(sid, "H" + label, "sessions_total") in pub.seen:
        return "H" + label
    return label


_CHART_DATA_NOT_COUNTS = {"Concordance", "95% interval", "Network median (10th\u201390th)"}


def _read_chart_data(table: Node, labels: list[str], pub: Published, sid: str, where: str) -> None:
    """A chart's data table on a site page (table.chartdata): per month or quarter, the
    discordant sessions its bars draw (the same cells as the bars' titles, :func:`_read_charts`)
    or the concordance and interval its points draw (a rate: a problem if shown while its
    counts are hidden), and the network band (percentiles of published rates: no count)."""
    unknown = set(labels[1:]) - {"Discordant sessions"} - _CHART_DATA_NOT_COUNTS
    if not labels or labels[0] not in ("Month", "Quarter") or unknown:
        raise AttackModelError(f"{where}: unknown chart data columns {labels}")
    for tr in _rows(table, "tbody"):
        row = dict(zip(labels, [c.clean() for c in _cells(tr)], strict=True))
        m = re.match(r"\d{4}-(?:\d{2}|Q[1-4])", row[labels[0]])
        if m is None:
            raise AttackModelError(f"{where}: unknown chart period {row[labels[0]]!r}")
        period = _chart_period(pub, sid, m.group(0))
        if "Discordant sessions" in row:
            value = parse_count(row["Discordant sessions"])
            pub.see(_sp(sid, period, "sessions_discordant"), value, f"{where} chart data")
        if re.fullmatch(r"[\d.]+%", row.get("Concordance", "")):
            for col in PATIENT_COLS:
                if all(v == HIDDEN for v in pub.seen.get(_sp(sid, period, col), [HIDDEN])):
                    pub.problems.append(f"{where} chart data {period}: rate shown, count hidden")


def _read_charts(root: Node, pub: Published, sid: str) -> None:
    for svg in root.iter("svg"):
        for title in svg.iter("title"):
            text = title.clean()
            m = _BAR.match(text)
            if m:
                value = HIDDEN if m.group(2) is None else int(m.group(2).replace(",", ""))
                period = _chart_period(pub, sid, m.group(1))
                pub.see(_sp(sid, period, "sessions_discordant"), value, f"chart {sid}")
                continue
            m = _NETWORK_POINT.match(text)
            if m:  # the network's line: a rate the index's network quarter counts give
                for col in PATIENT_COLS:
                    if all(v == HIDDEN for v in pub.seen.get(_nq(m.group(1), col), [HIDDEN])):
                        pub.problems.append(f"chart {sid}: network rate {m.group(1)}, count hidden")
                continue
            m = _POINT.match(text)
            if m and "hidden" not in text:
                month = _chart_period(pub, sid, m.group(1))
                for col in PATIENT_COLS:
                    if all(v == HIDDEN for v in pub.seen.get(_sp(sid, month, col), [HIDDEN])):
                        pub.problems.append(f"chart {sid} {month}: rate shown, count hidden")


def _read_public_manifest(path: Path, pub: Published, sites: Sequence[str]) -> None:
    """The public manifest (docs/outputs.md): network figures, network attrition and rows by
    recommendation, data quality and reconciliation, each the same cell as on the pages or
    the sum over the sites of cells the site pages show. A manifest without a ``published``
    block is not a shareable one and is not read."""
    data = json.loads(path.read_text(encoding="utf-8"))
    published = data.get("published")
    if published is None:
        return
    where = "manifest.json"

    def value(v: Any) -> int | str | None:
        return HIDDEN if v == "*" else (None if v is None else int(v))

    def over_sites(key: Key, cell: Any) -> Key:
        pub.add_sum(key, [cell(sid) for sid in sites])
        return key

    for col, v in (published.get("network") or {}).items():
        pub.see(("network", col), value(v), where)
    if "network_out_of_population_by_reason" not in published:
        _read_manifest_quality(published, pub)
        return
    reasons = []
    for item in published["network_out_of_population_by_reason"]:
        label = item["label"]
        key = over_sites(("network_reason", label), lambda sid, label=label: ("reason", sid, label))
        pub.see(key, value(item["sessions"]), where)
        reasons.append(key)
    pub.add_sum(("network", "sessions_out_of_population"), reasons)
    inpop = over_sites(("network_in_population",), lambda sid: ("in_population", sid))
    pub.see(inpop, value(published["network_in_population_sessions"]), where)
    pub.add_sum(("network", "sessions_total"), [("network", "sessions_out_of_population"), inpop])
    pub.add_sum(inpop, [("network", c) for c in SESSION_COLS[1:4]])
    d_keys, ct_keys = [], []
    for item in published["network_by_recommendation"]:
        rec, fam = item["recommendation"], item["family_label"]
        for kind, field_, keys in (
            ("d", "discordant_sessions", d_keys),
            ("ct", "clinical_trial_sessions", ct_keys),
        ):
            key = over_sites(
                ("network_recommendation", rec, fam, kind),
                lambda sid, rec=rec, fam=fam, kind=kind: ("rec", sid, rec, fam, kind),
            )
            pub.see(key, value(item[field_]), where)
            keys.append(key)
    norec = over_sites(
        ("network_trial_no_recommendation",), lambda sid: ("trial_no_recommendation", sid)
    )
    pub.see(norec, value(published["network_clinical_trial_no_recommendation"]), where)
    pub.add_sum(("network", "sessions_discordant"), d_keys)
    pub.add_sum(("network", "sessions_clinical_trial"), [norec, *ct_keys])
    for item in published.get("network_quarters") or []:  # the index's network trend table
        q = item["quarter"]
        for col in (*PATIENT_COLS, *SESSION_COLS[:2]):
            if col in item:
                pub.see(_nq(q, col), value(item[col]), where)
                pub.add_sum(_nq(q, col), [_sp(sid, q, col) for sid in sites])
    for item in published.get("network_not_measurable") or []:
        rec = (item["recommendation"], item["family_label"])
        key = over_sites(("network_possible", *rec), lambda sid, rec=rec: ("possible", sid, *rec))
        pub.see(key, value(item["possible_cases"]), where)
    _read_manifest_quality(published, pub)


def _read_manifest_quality(published: dict[str, Any], pub: Published) -> None:
    for c in published.get("data_quality") or []:
        count = c["count"]
        key = ("dq", c["check"], c["code"], c["note"])
        pub.see(key, HIDDEN if count == "*" else count, "manifest.json")
    for r in published.get("reconciliation") or []:
        rows = r["rows"]
        pub.see(("recon", r["table"], r["item"]), HIDDEN if rows == "*" else rows, "manifest.json")


# ----------------------------------------------------------------------------- the workbook
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _xml(data: bytes) -> ET.Element:
    # S314: the workbook is one the tool under test wrote, read by the test itself
    return ET.fromstring(data)  # noqa: S314


def read_xlsx(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet of a workbook as rows of values (text, number, bool or None), read from
    its XML as any spreadsheet would (no spreadsheet library: the attacker trusts none)."""
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        strings = []
        if "xl/sharedStrings.xml" in names:
            for si in _xml(z.read("xl/sharedStrings.xml")).findall("m:si", _NS):
                strings.append("".join(x.text or "" for x in si.iter(f"{{{_NS['m']}}}t")))
        rels = {
            r.attrib["Id"]: r.attrib["Target"]
            for r in _xml(z.read("xl/_rels/workbook.xml.rels")).findall("p:Relationship", _NS)
        }
        sheets: dict[str, list[list[Any]]] = {}
        book = _xml(z.read("xl/workbook.xml"))
        for sheet in book.find("m:sheets", _NS) or []:
            target = rels[sheet.attrib[f"{{{_NS['r']}}}id"]].lstrip("/")
            target = target if target.startswith("xl/") else f"xl/{target}"
            rows: list[list[Any]] = []
            for row in _xml(z.read(target)).iter(f"{{{_NS['m']}}}row"):
                r = int(row.attrib["r"]) - 1
                while len(rows) <= r:
                    rows.append([])
                for c in row.findall("m:c", _NS):
                    col = 0
                    for ch in re.match(r"[A-Z]+", c.attrib["r"]).group(0):
                        col = col * 26 + ord(ch) - 64
                    v = c.find("m:v", _NS)
                    kind = c.attrib.get("t")
                    if c.find("m:f", _NS) is not None:
                        raise AttackModelError(f"{path.name}: a formula in {c.attrib['r']}")
                    value: Any = None
                    if v is not None and v.text is not None:
                        if kind == "s":
                            value = _unescape(strings[int(v.text)])
                        elif kind == "b":
                            value = v.text == "1"
                        elif kind in ("str", "inlineStr"):
                            value = v.text
                        else:
                            value = float(v.text)
                    cells = rows[r]
                    while len(cells) < col:
                        cells.append(None)
                    cells[col - 1] = value
            sheets[sheet.attrib["name"]] = rows
    return sheets


def _unescape(text: str) -> str:
    """OOXML's escape of control characters in text (``_x000D_`` is a carriage return)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def _wb_count(value: Any) -> int | str | None:
    if value == HIDDEN:
        return HIDDEN
    if isinstance(value, float) and value == int(value):
        return int(value)
    return None


def _read_workbook(path: Path, pub: Published) -> None:
    """The shareable workbook: each count is the same cell as on the pages or in the
    manifest (a different value or a hidden one shown is a disclosure the attack sees)."""
    where = path.name
    for name, rows in read_xlsx(path).items():
        if name == "About":
            continue
        header = [str(h) for h in rows[3]] if len(rows) > 3 else []
        records = [
            dict(zip(header, r + [None] * (len(header) - len(r)), strict=True)) for r in rows[4:]
        ]
        if name in ("Sites", "Months", "Quarters"):
            for r in records:
                period = _period_key(str(r["period_type"]), str(r["period_start"]))
                for col in (*PATIENT_COLS, *SESSION_COLS):
                    pub.see(_sp(r["site_id"], period, col), _wb_count(r[col]), where)
        elif name == "Families":
            for r in records:
                rec = (r["site_id"], r["recommendation"], r["family"])
                if r["measurable"]:
                    pub.see(("possible", *rec), _wb_count(r["possible_cases"]), where)
                    for kind in ("d", "p", "ct"):
                        pub.see(("rec", *rec, kind), 0, where)
                    continue
                for kind, col in (
                    ("d", "discordant_sessions"),
                    ("p", "discordant_patients"),
                    ("ct", "clinical_trial_sessions"),
                ):
                    pub.see(("rec", *rec, kind), _wb_count(r[col]), where)
        elif name == "Spend":
            for r in records:
                if r["recommendation"] == "all":
                    key: Key = ("network", "sessions_discordant")
                    pub.see(key, _wb_count(r["discordant_sessions"]), where)
                    continue
                rec = (r["recommendation"], r["family"])
                if r["measurable"]:
                    pub.see(("network_possible", *rec), _wb_count(r["possible_cases"]), where)
                    pub.see(("network_recommendation", *rec, "d"), 0, where)
                    continue
                pub.see(
                    ("network_recommendation", *rec, "d"),
                    _wb_count(r["discordant_sessions"]),
                    where,
                )
        elif name == "Data quality":
            for r in records:
                if r["kind"] == "check":
                    key = ("dq", r["check or table"], r["code or item"], r["note"] or "")
                else:
                    key = ("recon", r["check or table"], r["code or item"])
                pub.see(key, _wb_count(r["count"]), where)
        else:
            raise AttackModelError(f"{where}: unknown sheet {name!r}")


# ----------------------------------------------------------------------------- solving
@dataclass
class Range:
    """What a reader can work out about one hidden cell: ``low..high`` (high is inf when
    unbounded). A bound is *exact* when the LP optimised it; otherwise it is the spread of
    the points already found, which already proves the range at least this wide."""

    key: Key
    low: float
    high: float
    exact_low: bool = False
    exact_high: bool = False

    @property
    def values(self) -> float:
        return self.high - self.low + 1


@dataclass
class Attack:
    published: Published
    ranges: dict[Key, Range]
    lps: int

    def leaks(self) -> list[Range]:
        """Hidden cells a reader narrows below the suppression range (or pins)."""
        t = max(self.published.threshold, 1)
        return sorted(
            (r for r in self.ranges.values() if r.values < t - 1e-6), key=lambda r: str(r.key)
        )

    def describe(self, limit: int = 12) -> str:
        lines = [
            f"{r.key}: {r.low:g}..{r.high:g}" + (" (pinned)" if r.high - r.low < 1e-6 else "")
            for r in self.leaks()[:limit]
        ]
        more = len(self.leaks()) - limit
        return "\n".join(lines + ([f"... and {more} more"] if more > 0 else []))


def attack(pub: Published, seed: int = 0, exact: bool = False) -> Attack:
    """Min and max of every hidden cell over everything the reader knows (LP, HiGHS).

    By default a cell whose range is already proven at least as wide as the suppression range
    (two feasible points far enough apart) is not optimised further; ``exact`` optimises
    every bound (slower: for checking the model itself)."""
    keys = sorted(
        {k for k in pub.seen}
        | {k for t, ps in pub.sums for k in (t, *ps)}
        | {k for terms, _ in pub.upper for _, k in terms},
        key=str,
    )
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    low = np.zeros(n)
    high = np.full(n, np.inf)
    for k in keys:
        iv = pub.interval(k)
        if iv is not None:
            low[index[k]] = iv[0]
            high[index[k]] = np.inf if iv[1] is None else iv[1]
        elif k not in pub.seen:  # never shown: an absent row is zero
            high[index[k]] = 0.0
    if np.any(low > high + 1e-9):
        bad = [keys[i] for i in np.flatnonzero(low > high + 1e-9)][:5]
        raise AttackModelError(f"published values contradict each other: {bad}")

    eq_rows, eq_cols, eq_vals = [], [], []
    for r, (total, parts) in enumerate(pub.sums):
        coef: dict[int, float] = defaultdict(float)
        coef[index[total]] += 1
        for p in parts:
            coef[index[p]] -= 1
        for c, v in coef.items():
            if v:
                eq_rows.append(r)
                eq_cols.append(c)
                eq_vals.append(v)
    a_eq = csr_matrix(coo_matrix((eq_vals, (eq_rows, eq_cols)), shape=(len(pub.sums), n)))
    b_eq = np.zeros(len(pub.sums))
    ub_rows, ub_cols, ub_vals = [], [], []
    b_ub = np.zeros(len(pub.upper))
    for r, (terms, rhs) in enumerate(pub.upper):
        coef = defaultdict(float)
        for v, k in terms:
            coef[index[k]] += v
        for c, v in coef.items():
            if v:
                ub_rows.append(r)
                ub_cols.append(c)
                ub_vals.append(v)
        b_ub[r] = rhs
    a_ub = csr_matrix(coo_matrix((ub_vals, (ub_rows, ub_cols)), shape=(len(pub.upper), n)))

    fixed = np.isclose(low, high)
    free = ~fixed
    # components over the free variables, linked by the constraints they share
    link = [a_eq[:, free], a_ub[:, free]]
    nf = int(free.sum())
    free_idx = np.flatnonzero(free)
    adjacency = None
    for m in link:
        m = (m != 0).astype(np.int8)
        g = (m.T @ m).tocsr()
        adjacency = g if adjacency is None else adjacency + g
    if adjacency is None or nf == 0:
        return Attack(pub, {}, 0)
    _, labels = connected_components(adjacency, directed=False)
    hidden = np.zeros(n, dtype=bool)
    hidden[[index[k] for k in pub.hidden_keys()]] = True
    ranges: dict[Key, Range] = {}
    rng = np.random.default_rng(seed)
    lps = 0
    t = max(pub.threshold, 1)
    top = 10 * float(np.max(low, initial=0.0)) + 1000
    for comp in np.unique(labels):
        members = free_idx[labels == comp]
        is_target = hidden[members]
        if not is_target.any():
            continue
        lp = _ComponentLP(*_subproblem(members, low, high, a_eq, b_eq, a_ub, b_ub))
        for j, found in _component_ranges(lp, is_target, t, top, rng, exact).items():
            key = keys[members[j]]
            ranges[key] = Range(key, *found)
        lps += lp.solves
    return Attack(pub, ranges, lps)


def _component_ranges(
    lp: _ComponentLP,
    is_target: np.ndarray,
    t: int,
    top: float,
    rng: np.random.Generator,
    exact: bool,
) -> dict[int, tuple[float, float, bool, bool]]:
    """(low, high, low exact, high exact) of each hidden cell of one component.

    Cheap proofs first: two points far apart in a cell prove its range wide. Pushing the
    hidden cells of the component down, then up (capped, so the LP stays bounded: a capped
    point is still a point the reader cannot rule out), then a few random directions, settles
    many cells. Each remaining cell is optimised, in two sweeps (all maxima, then the minima
    still needed) so that consecutive objectives are alike and each solve starts near the
    last optimum.
    """
    n = len(is_target)
    seen_lo = np.full(n, np.inf)
    seen_hi = np.full(n, -np.inf)

    def solve(c: np.ndarray, cap: float | None = None) -> np.ndarray | None:
        x = lp.minimize(c, cap)
        if x is not None:
            np.minimum(seen_lo, x, out=seen_lo)
            np.maximum(seen_hi, x, out=seen_hi)
        return x

    weights = is_target.astype(float)
    for c in (weights, -weights):
        solve(c, top)
    for _ in range(PROBES):
        solve(rng.choice([-1.0, 1.0], n) * weights, top)
    exact_lo: dict[int, float] = {}
    exact_hi: dict[int, float] = {}
    c = np.zeros(n)
    for j in np.flatnonzero(is_target):
        if seen_hi[j] - seen_lo[j] + 1 >= t and not exact:
            continue
        c[j] = -1
        x = solve(c)
        c[j] = 0
        exact_hi[j] = x[j] if x is not None else np.inf  # unbounded above
    for j in np.flatnonzero(is_target):
        if j not in exact_hi or (exact_hi[j] - seen_lo[j] + 1 >= t and not exact):
            continue
        c[j] = 1
        x = solve(c)
        c[j] = 0
        exact_lo[j] = x[j]
    return {
        int(j): (
            float(exact_lo.get(j, seen_lo[j])),
            float(exact_hi.get(j, seen_hi[j])),
            j in exact_lo,
            j in exact_hi,
        )
        for j in np.flatnonzero(is_target)
    }


def _subproblem(members, low, high, a_eq, b_eq, a_ub, b_ub):
    """The LP restricted to one component: fixed cells move to the right-hand side.
    Returns (A, row_lower, row_upper, col_lower, col_upper) with A in CSC form."""
    cols = np.asarray(members)
    rest = np.setdiff1d(np.arange(len(low)), cols)
    x_fixed = np.where(np.isfinite(low), low, 0.0)
    blocks, lower, upper = [], [], []
    for a, b, is_eq in ((a_eq, b_eq, True), (a_ub, b_ub, False)):
        rows = np.unique(a[:, cols].nonzero()[0])
        if len(rows) == 0:
            continue
        a_rows = a[rows]
        rhs = b[rows] - a_rows[:, rest] @ x_fixed[rest]
        blocks.append(a_rows[:, cols])
        upper.append(rhs)
        lower.append(rhs if is_eq else np.full(len(rows), -np.inf))
    matrix = csc_matrix(vstack(blocks)) if blocks else csc_matrix((0, len(cols)))
    row_lo = np.concatenate(lower) if lower else np.zeros(0)
    row_hi = np.concatenate(upper) if upper else np.zeros(0)
    return matrix, row_lo, row_hi, low[cols].copy(), high[cols].copy()


class _ComponentLP:
    """One component's LP, loaded once; each call changes only the objective.

    HiGHS is driven through the binding scipy ships (``scipy.optimize._highspy``), so that a
    new objective starts from the last optimal basis: thousands of small re-solves take
    seconds instead of minutes. Where that binding is missing (another scipy), every call
    goes through ``scipy.optimize.linprog(method="highs")``: the same solver, slower.
    """

    def __init__(self, a, row_lo, row_hi, col_lo, col_hi) -> None:
        self.a, self.row_lo, self.row_hi = a, row_lo, row_hi
        self.col_lo, self.col_hi = col_lo, col_hi
        self.capped_with: float | None = None
        self.solves = 0
        self.highs = _load_highs(a, row_lo, row_hi, col_lo, col_hi)

    def minimize(self, c: np.ndarray, cap: float | None = None) -> np.ndarray | None:
        """The optimal point, or None when unbounded; raises when infeasible."""
        self.solves += 1
        n = len(c)
        col_hi = self.col_hi if cap is None else np.minimum(self.col_hi, cap)
        if self.highs is not None:
            core, h = self.highs
            if cap != self.capped_with:
                h.changeColsBounds(n, np.arange(n, dtype=np.int32), self.col_lo, _inf(col_hi))
                self.capped_with = cap
            h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(c, float))
            h.run()
            status = h.getModelStatus()
            if status == core.HighsModelStatus.kOptimal:
                return np.array(h.getSolution().col_value)
            if status in (core.HighsModelStatus.kUnbounded,):
                return None
            if status == core.HighsModelStatus.kInfeasible:
                raise AttackModelError("the published values admit no solution: model error")
            h.clearSolver()  # e.g. unbounded-or-infeasible: decide from scratch
            h.run()
            status = h.getModelStatus()
            if status == core.HighsModelStatus.kOptimal:
                return np.array(h.getSolution().col_value)
            if status == core.HighsModelStatus.kInfeasible:
                raise AttackModelError("the published values admit no solution: model error")
            return None
        eq = np.isclose(self.row_lo, self.row_hi)
        kwargs: dict[str, Any] = {
            "bounds": [
                (lo, None if np.isinf(hi) else hi)
                for lo, hi in zip(self.col_lo, col_hi, strict=True)
            ]
        }
        if eq.any():
            kwargs["A_eq"], kwargs["b_eq"] = self.a[eq], self.row_hi[eq]
        if (~eq).any():
            kwargs["A_ub"], kwargs["b_ub"] = self.a[~eq], self.row_hi[~eq]
        res = linprog(c, method="highs", **kwargs)
        if res.status == 2:
            raise AttackModelError("the published values admit no solution: model error")
        return res.x if res.status == 0 else None


def _inf(values: np.ndarray) -> np.ndarray:
    return np.where(np.isinf(values), 1e30 * np.sign(values), values)


def _load_highs(a, row_lo, row_hi, col_lo, col_hi):
    try:
        from scipy.optimize._highspy import _core as core

        h = core._Highs()
        lp = core.HighsLp()
    except (ImportError, AttributeError):
        return None
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")  # keeps the basis between objectives (warm start)
    h.setOptionValue("solver", "simplex")
    n_row, n_col = a.shape
    lp.num_col_, lp.num_row_ = n_col, n_row
    lp.col_cost_ = np.zeros(n_col)
    lp.col_lower_, lp.col_upper_ = _inf(col_lo), _inf(col_hi)
    lp.row_lower_, lp.row_upper_ = _inf(row_lo), _inf(row_hi)
    lp.a_matrix_.format_ = core.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_col, n_row
    if h.passModel(lp) != core.HighsStatus.kOk:
        return None
    return core, h


def run_attack(folder: Path) -> Attack:
    """Read one run's shareable outputs and attack them."""
    return attack(read_published(folder))


__all__ = [
    "Attack",
    "AttackModelError",
    "Published",
    "Range",
    "attack",
    "read_published",
    "true_counts",
    "unsound",
]


def true_counts(frames: dict[str, Any]) -> dict[Key, int]:
    """The unsuppressed site x period and network counts of a run, keyed as the attacker keys
    them: to check that the attacker's model is sound (every true value lies in its range)."""
    counts = frames["site_period_counts"]
    trend = frames.get("site_trend_counts")
    records = counts.to_dict("records") + ([] if trend is None else trend.to_dict("records"))
    out: dict[Key, int] = {}
    net: dict[str, int] = defaultdict(int)
    net_quarters: dict[Key, int] = defaultdict(int)
    for r in records:
        start = r["period_start"]
        if r["period_type"] == "all":
            period = "all"
        elif start is None or start != start:  # NaT / NaN
            continue
        else:
            period = _period_key(str(r["period_type"]), f"{start:%Y-%m-%d}")
        for col in (*PATIENT_COLS, *SESSION_COLS):
            out[_sp(str(r["site_id"]), period, col)] = int(r[col])
            if period == "all":
                net[col] += int(r[col])
            elif r["period_type"] == "quarter":
                net_quarters[_nq(period, col)] += int(r[col])
    out.update({("network", col): v for col, v in net.items()})
    out.update(net_quarters)
    return out


def unsound(result: Attack, truth: dict[Key, int]) -> list[str]:
    """Hidden cells whose true value lies outside the range the attacker found (a wrong
    relation in the model): must be empty."""
    bad = []
    for key, r in result.ranges.items():
        if key not in truth:
            continue
        if (r.exact_low and truth[key] < r.low - 1e-6) or (
            r.exact_high and truth[key] > r.high + 1e-6
        ):
            bad.append(f"{key}: true {truth[key]}, range {r.low:g}..{r.high:g}")
    return bad
