"""Aggregate outputs: site_summary.parquet/.csv, index.html and one page per site.

Why one module: every number a reader sees goes through one disclosure pass
(:func:`disclose`), so the index, the site pages, the charts and the site summary print the
same published value for the same cell, and complementary suppression holds across all of them
(a network total minus the published sites, a whole-period figure minus the published months,
an attrition step minus the published reasons). Templates only format what this module hands
them; they never compute.

Input frames (unsuppressed, from the SQL engine): ``site_period_counts``,
``site_outcome_counts``, ``recommendations``; see :func:`write_aggregate_outputs`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, pass_context
from markupsafe import Markup

from audit.attrition import (
    PATIENT_STEPS,
    network_steps,
    patient_cells,
    patient_counts,
    waterfall,
)
from audit.charts import bar_chart, rate_chart
from audit.config import Settings
from audit.context import ReportContext
from audit.csvfile import csv_safe
from audit.disclosure import (
    HIDDEN,
    Profile,
    concordance,
    is_number,
    resolve_profile,
    suppress_cells,
)
from audit.errors import PackError
from audit.network import check_label, funnel_manifest, funnel_view
from audit.pack import resolve_pack
from audit.payer import Unmeasurable, disclose_possible_cases, unmeasurable_rows
from audit.resources import data_dir, reports_dir, sql_dir
from audit.trends import (
    BAND_MIN_SITES,
    Band,
    network_band,
    network_quarter_cells,
    network_quarter_key,
    network_quarter_patients,
    network_trend_view,
    site_trend_view,
    start_of,
    trend_quarters,
    trend_relations,
)
from audit.workbook import HIDDEN_TEXT, Sheet, write_workbook

PATIENT_COLUMNS = ["in_population_patients", "discordant_patients"]
SESSION_COLUMNS = [
    "sessions_total",
    "sessions_discordant",
    "sessions_clinical_trial",
    "sessions_not_addressed",
    "sessions_out_of_population",
]
SUMMARY_COLUMNS = [
    "site_id",
    "site_name",
    "site_group",
    "period_type",
    "period_start",
    "period_end",
    "in_population_patients",
    "discordant_patients",
    "concordance",
    "concordance_ci_low",
    "concordance_ci_high",
    *SESSION_COLUMNS,
    "allowed_amount_discordant",
    "currency",
    "suppression_profile",
    "cells_suppressed",
    "suppression_threshold",
    "suppression_rounding",
]
SUMMARY_SCHEMA = pa.schema(
    [
        ("site_id", pa.string()),
        ("site_name", pa.string()),
        ("site_group", pa.string()),
        ("period_type", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("in_population_patients", pa.int64()),
        ("discordant_patients", pa.int64()),
        ("concordance", pa.float64()),
        ("concordance_ci_low", pa.float64()),
        ("concordance_ci_high", pa.float64()),
        *[(c, pa.int64()) for c in SESSION_COLUMNS],
        ("allowed_amount_discordant", pa.float64()),
        ("currency", pa.string()),
        ("suppression_profile", pa.string()),
        ("cells_suppressed", pa.int64()),
        ("suppression_threshold", pa.int64()),
        ("suppression_rounding", pa.int64()),
    ]
)
RATE_DECIMALS = 4
AMOUNT_DECIMALS = 2

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in range(10)
}


# ----------------------------------------------------------------------------- templates, files
@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment: autoescape on everywhere, undefined names are errors."""
    env = Environment(
        loader=FileSystemLoader(str(reports_dir())),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(count=fmt_count, amount=_amount_filter, conc=fmt_concordance, ci=fmt_ci)
    return env


@pass_context
def _amount_filter(ctx: Any, value: Any) -> Markup | str:
    """``| amount`` in the templates: :func:`fmt_amount` with the run's currency after every
    amount shown (the context's ``currency``; none when a page is rendered without one)."""
    shown = fmt_amount(value)
    currency = ctx.get("currency")
    if currency and is_number(value):
        return f"{shown} {currency}"
    return shown


def _template(name: str) -> Template:
    return environment().get_template(name)


def slugify(site_id: str) -> str:
    """Lower-case ``[a-z0-9-]`` form of an id (may be empty); see :func:`site_slugs`."""
    text = unicodedata.normalize("NFKD", str(site_id)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:60].strip("-")


def _short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def site_slugs(site_ids: Iterable[str]) -> dict[str, str]:
    """File-name slug per site id: unique, stable, safe on every file system.

    A stable hash of the id is appended only when needed: the plain slug is empty, a reserved
    device name, or shared by another id (``"A B"`` and ``"a-b"``, ``"X"`` and ``"x"``).
    """
    ids = sorted(set(map(str, site_ids)))
    bases = {sid: slugify(sid) for sid in ids}
    seen: dict[str, int] = {}
    for b in bases.values():
        seen[b] = seen.get(b, 0) + 1
    slugs: dict[str, str] = {}
    for sid in ids:
        b = bases[sid]
        if not b or b in _WINDOWS_RESERVED or seen[b] > 1:
            b = f"{b or 'site'}-{_short_hash(sid)}"
        slugs[sid] = b
    if len(set(slugs.values())) != len(slugs):  # pathological: a hash met a plain slug
        slugs = {sid: f"{bases[sid] or 'site'}-{_short_hash(sid, 16)}" for sid in ids}
    return slugs


def safe_output_path(out_dir: Path, relative: str) -> Path:
    """``out_dir / relative``, refusing anything that could land outside ``out_dir``.

    Why: file names derive from ids in the input; ``..``, absolute paths (POSIX or Windows)
    and NUL bytes are rejected, and the resolved path must stay inside the resolved folder.
    """
    if not isinstance(relative, str) or not relative or "\x00" in relative:
        raise ValueError(f"unsafe output path {relative!r}")
    posix, windows = PurePosixPath(relative), PureWindowsPath(relative)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or windows.root:
        raise ValueError(f"unsafe output path {relative!r}: absolute")
    if ".." in posix.parts or ".." in windows.parts:
        raise ValueError(f"unsafe output path {relative!r}: parent reference")
    root = Path(out_dir).resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or target == root:
        raise ValueError(f"unsafe output path {relative!r}: outside {root}")
    return target


# ----------------------------------------------------------------------------- formatting
_HID = Markup('<span class="hid" title="hidden (disclosure control)">*</span>')
_NA = Markup('<span class="na" title="not available">&ndash;</span>')
_NODATA = Markup('<span class="na" title="no patients in the denominator">no data</span>')


def fmt_count(value: Any) -> Markup | str:
    """Published count with thousands separators; ``*`` hidden; dash when not available."""
    if value is HIDDEN:
        return _HID
    if not is_number(value):
        return _NA
    return f"{int(value):,}"


def fmt_amount(value: Any) -> Markup | str:
    """Published amount, two decimals with thousands separators."""
    if value is HIDDEN:
        return _HID
    if not is_number(value):
        return _NA
    return f"{float(value):,.2f}"


def fmt_concordance(value: Any) -> Markup | str:
    """Concordance rate as a percentage; ``no data`` when there is no denominator."""
    if value is HIDDEN:
        return _HID
    if not isinstance(value, tuple):
        return _NODATA
    return f"{value[0]:.1%}"


def fmt_ci(value: Any) -> str:
    """The 95% interval of a concordance tuple, empty otherwise."""
    if not isinstance(value, tuple):
        return ""
    return f"({value[1] * 100:.1f}\u2013{value[2] * 100:.1f})"


# ----------------------------------------------------------------------------- inputs
def _as_date(value: Any) -> date | None:
    """A date, or None for a missing one (pandas' NaT is a date subclass: caught first)."""
    if value is None or value is pd.NaT:
        return None
    if not isinstance(value, date) and pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def _month_start(day: date | None) -> date | None:
    return None if day is None else day.replace(day=1)


def _month_end(day: date | None) -> date | None:
    if day is None:
        return None
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, built from whole columns: DataFrame.to_dict("records") boxes every cell
    one by one and took seconds for a 1,000-site network."""
    columns = [str(c) for c in frame.columns]
    data = []
    for c in frame.columns:
        values = frame[c].tolist()
        if isinstance(frame[c].dtype, pd.api.extensions.ExtensionDtype):
            values = [None if v is pd.NA else v for v in values]  # as to_dict gives them
        data.append(values)
    return [dict(zip(columns, values, strict=True)) for values in zip(*data, strict=True)]


def _int(value: Any) -> int:
    if type(value) is int:  # the common case, without pandas' NA test
        return value
    return 0 if value is None or pd.isna(value) else int(value)


def _amount(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), AMOUNT_DECIMALS) + 0.0  # +0.0 turns -0.0 into 0.0


@dataclass
class _Row:
    """One site x period row of site_period_counts, normalised."""

    site_id: str
    period_type: str
    period_start: date | None
    period_end: date | None
    counts: dict[str, int]
    amount_discordant: float | None
    # (site_id, period_type, ISO period start): computed once, it keys every cell of the row
    key: tuple[str, str, str] = field(init=False)

    def __post_init__(self) -> None:
        start = self.period_start.isoformat() if self.period_start else ""
        self.key = (self.site_id, self.period_type, start)


@dataclass
class _Site:
    site_id: str
    name: str
    group: str | None
    slug: str = ""
    all_row: _Row | None = None
    months: list[_Row] = field(default_factory=list)
    history: list[_Row] = field(default_factory=list)  # trend months before the audit period
    quarters: list[_Row] = field(default_factory=list)  # quarters of the trend window


def _read_frames(
    frames: Mapping[str, pd.DataFrame], context: Mapping[str, Any] | None = None
) -> tuple[list[_Site], list[_Row], pd.DataFrame, pd.DataFrame]:
    """Sites and rows of the engine's frames. Where the audit period was not given (no
    --from / --to), the whole-period rows start and end on month boundaries: the first and
    last event dates of an extract are exact patient dates and are never published."""
    context = context or {}
    widen_start = not context.get("period_from")
    widen_end = not context.get("period_to")
    counts = frames.get("site_period_counts")
    counts = pd.DataFrame() if counts is None else counts
    outcomes = frames.get("site_outcome_counts")
    outcomes = pd.DataFrame() if outcomes is None else outcomes
    recs = frames.get("recommendations")
    recs = pd.DataFrame() if recs is None else recs

    rows: list[_Row] = []
    sites: dict[str, _Site] = {}
    trend = frames.get("site_trend_counts")
    trend_records = [] if trend is None or not len(trend) else _records(trend)
    period_sites = {str(x) for x in counts["site_id"]} if "site_id" in counts else set()
    for rec in _records(counts) + trend_records:
        sid = str(rec["site_id"])
        if sid not in period_sites:  # a site seen only in the trend history: no page to show it
            continue
        period_type = str(rec["period_type"])
        start, end = _as_date(rec.get("period_start")), _as_date(rec.get("period_end"))
        if period_type == "all":
            start = _month_start(start) if widen_start else start
            end = _month_end(end) if widen_end else end
        row = _Row(
            site_id=sid,
            period_type=period_type,
            period_start=start,
            period_end=end,
            counts={c: _int(rec.get(c)) for c in (*PATIENT_COLUMNS, *SESSION_COLUMNS)},
            amount_discordant=_amount(rec.get("allowed_amount_discordant")),
        )
        rows.append(row)
        if sid not in sites:
            sites[sid] = _Site(
                sid, _text(rec.get("site_name")) or sid, _text(rec.get("site_group"))
            )
        if row.period_type == "all":
            if sites[sid].all_row is not None:
                raise ValueError(f"site_period_counts: two 'all' rows for site {sid!r}")
            sites[sid].all_row = row
        elif row.period_type == "month":
            sites[sid].months.append(row)
        elif row.period_type == "history_month":
            sites[sid].history.append(row)
        elif row.period_type == "quarter":
            sites[sid].quarters.append(row)
    keys = [r.key for r in rows]
    if len(set(keys)) != len(keys):
        raise ValueError("site_period_counts: duplicate site_id x period_type x period_start rows")
    rows.sort(key=lambda r: r.key)
    ordered = [sites[s] for s in sorted(sites)]
    slugs = site_slugs(sites)
    for site in ordered:
        site.slug = slugs[site.site_id]
        site.months.sort(key=lambda r: r.key)
        site.history.sort(key=lambda r: r.key)
        site.quarters.sort(key=lambda r: r.key)
    return ordered, rows, outcomes, recs


# ----------------------------------------------------------------------------- disclosure
@dataclass(frozen=True)
class _Step:
    """One attrition step of a site (a row of the site_attrition step)."""

    kind: str  # start, minus, subtotal or end
    rule: str  # the measure 3.5 rule number as shown, or ""
    outcome: str  # all, out_of_population, in_population, clinical_trial, ...
    reason: str | None  # the out-of-population reason of the step
    label: str
    sessions: int


def _attrition(frame: pd.DataFrame | None) -> dict[str, list[_Step]]:
    """The steps of each site, in step order, from the site_attrition frame (absent: none)."""
    steps: dict[str, list[_Step]] = {}
    if frame is None or not len(frame):
        return steps
    for r in _records(frame.sort_values(["site_id", "step"], kind="stable")):
        rule = r.get("rule")
        steps.setdefault(str(r["site_id"]), []).append(
            _Step(
                kind=str(r["kind"]),
                rule="" if rule is None or pd.isna(rule) else str(int(rule)),
                outcome=str(r["outcome"]),
                reason=_text(r.get("reason")),
                label=str(r["label"]),
                sessions=_int(r.get("sessions")),
            )
        )
    return steps


@dataclass
class Disclosed:
    """Published values of every aggregate cell, with the inputs needed to lay out pages."""

    profile: Profile
    patient_level: bool
    sites: list[_Site]
    rows: list[_Row]
    rec_rows: list[tuple[str, str, str]]  # (recommendation_id, family, summary)
    family_labels: dict[str, str]  # family -> its label in the pack
    # the attrition steps of each site with a whole-period row, as site_attrition gives them
    attrition: dict[str, list[_Step]]
    reasons: list[str]  # out-of-population reasons, in the order of the attrition steps
    reason_labels: dict[str, str]  # reason -> the label of its attrition step
    rec_amounts: dict[tuple[str, str, str], float | None]
    published: dict[Hashable, int | None]
    network_amount: float | None
    # no counting session anywhere (e.g. an extract without procedures): concordance is "no
    # data" on every row, never 100%: nothing was there to be concordant or discordant
    no_sessions: bool = False
    currency: str = Settings.currency  # of every amount (the currency setting)
    # quarter starts of the network's quarterly series (cells audit.trends.network_quarter_key)
    network_quarters: list[date] = field(default_factory=list)

    views: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def get(self, key: Hashable) -> int | None | Any:
        """Published count: an int, HIDDEN, or None when the cell does not exist."""
        if key not in self.published:
            return None
        value = self.published[key]
        return HIDDEN if value is None else value

    def row_view(self, row: _Row) -> dict[str, Any]:
        """Published view of one site x period row, computed once for every output."""
        view = self.views.get(row.key)
        if view is None:
            view = self.views[row.key] = _row_view(
                self, ("site_period", *row.key), row.amount_discordant
            )
        return view

    def network_quarter_view(self, start: date) -> dict[str, Any]:
        """Published view of the network in one quarter (no amount: spend is per site)."""
        return _row_view(self, network_quarter_key(start, "")[:2], None)


def profile_of(context: Mapping[str, Any]) -> Profile:
    """The profile of a run: ``context["suppression"]``, else ``settings["suppression"]``."""
    spec = context.get("suppression") or (context.get("settings") or {}).get("suppression")
    return resolve_profile(spec)


def _row_cols(patient_level: bool) -> list[str]:
    return [*PATIENT_COLUMNS, *SESSION_COLUMNS] if patient_level else list(SESSION_COLUMNS)


@dataclass
class _Tally:
    """Sessions, patients and allowed amount of one outcome-detail cell, summed over rows."""

    sessions: int = 0
    patients: int = 0
    amount: float | None = 0.0  # None once any contributing amount is missing


def _outcome_detail(
    outcomes: pd.DataFrame, site_ids: set[str], rec_rows: list[tuple[str, str, str]]
) -> dict[tuple[str, ...], _Tally]:
    """Whole-period outcome counts by recommendation, keyed as the cells of :func:`disclose`
    (the counts by reason come from the site_attrition step).

    Keys: ``("rec", site, rec, family, "d"|"ct")`` and
    ``("trial_no_recommendation", site)`` for trial sessions no recommendation covers. A
    recommendation x family missing from the pack table is appended to ``rec_rows`` so it is
    still shown.
    """
    tallies: dict[tuple[str, ...], _Tally] = {}
    if not len(outcomes):
        return tallies
    keep = (outcomes["period_type"] == "all") & outcomes["site_id"].astype(str).isin(site_ids)
    rec_keys = {(a, b) for a, b, _ in rec_rows}
    for r in _records(outcomes[keep]):
        sid, outcome = str(r["site_id"]), str(r["outcome"])
        rec_id, fam = _text(r.get("recommendation")), _text(r.get("family")) or ""
        if outcome in ("discordant", "clinical_trial") and rec_id:
            if (rec_id, fam) not in rec_keys:
                rec_keys.add((rec_id, fam))
                rec_rows.append((rec_id, fam, ""))
            key: tuple[str, ...] = (
                "rec",
                sid,
                rec_id,
                fam,
                "d" if outcome == "discordant" else "ct",
            )
        elif outcome == "clinical_trial":
            key = ("trial_no_recommendation", sid)
        else:
            continue
        tally = tallies.setdefault(key, _Tally())
        tally.sessions += _int(r.get("sessions"))
        tally.patients += _int(r.get("patients"))
        amount = _amount(r.get("allowed_amount"))
        tally.amount = None if amount is None or tally.amount is None else tally.amount + amount
    return tallies


def disclose(frames: Mapping[str, pd.DataFrame], context: Mapping[str, Any]) -> Disclosed:
    """Apply the suppression profile to every count that any aggregate output shows.

    Cells: each site x period count; the network total (sum over sites, whole period) of each
    count; per site (whole period) the sessions of each out-of-population reason, the
    in-population sessions, and by recommendation x family the discordant sessions,
    discordant patients and clinical-trial sessions. Groups (additive relations): each row's
    sessions (total = four outcomes); each count column over sites with its network total; each
    session column over a site's months with its whole-period value; out of population = sum
    of reasons; in population = trial + not addressed + discordant; total = out + in; site
    discordant (trial) sessions = sum over recommendation rows. Patient counts are distinct
    counts, not additive over months or recommendations, so only the network sum ties them.
    """
    profile = profile_of(context)
    patient_level = bool(context.get("diagnoses_have_site_ids", True))
    sites, rows, outcomes, recs = _read_frames(frames, context)
    cols = _row_cols(patient_level)
    rec_rows = [
        (str(r["recommendation_id"]), str(r["family"]), _text(r.get("summary")) or "")
        for r in (_records(recs) if len(recs) else [])
    ]
    family_labels = {
        str(r["family"]): label
        for r in (_records(recs) if len(recs) else [])
        if (label := _text(r.get("family_label")))
    }
    tallies = _outcome_detail(outcomes, {s.site_id for s in sites}, rec_rows)
    attrition = _attrition(frames.get("site_attrition"))
    reason_steps = {
        step.reason: step
        for steps in attrition.values()
        for step in steps
        if step.outcome == "out_of_population" and step.reason is not None
    }
    reason_sessions = {
        ("reason", sid, step.reason): step.sessions
        for sid, steps in attrition.items()
        for step in steps
        if step.outcome == "out_of_population"
    }

    values: dict[Hashable, int] = {}
    groups: list[list[Hashable]] = []

    def site_cell(row: _Row, col: str) -> tuple[str, ...]:
        return ("site_period", *row.key, col)

    at_most: list[tuple[Hashable, Hashable]] = []  # (a, b): a reader knows a <= b
    at_least: dict[Hashable, int] = {}
    below: list[tuple[Hashable, Hashable]] = []
    differences: list[tuple[Hashable, Hashable, list[tuple[Hashable, Hashable]]]] = []
    for row in rows:
        for col in cols:
            values[site_cell(row, col)] = row.counts[col]
        groups.append([site_cell(row, c) for c in SESSION_COLUMNS])
        if patient_level:
            at_most += [
                (site_cell(row, "discordant_patients"), site_cell(row, "sessions_discordant")),
                (site_cell(row, "discordant_patients"), site_cell(row, "in_population_patients")),
            ]
    whole = [(s, s.all_row) for s in sites if s.all_row is not None]
    for site, all_row in whole:
        for col in SESSION_COLUMNS if site.months else []:
            groups.append([site_cell(all_row, col), *(site_cell(m, col) for m in site.months)])
        for col in PATIENT_COLUMNS if patient_level else []:
            at_most += [(site_cell(m, col), site_cell(all_row, col)) for m in site.months]
        for m in site.months:  # a month row exists only when something happened in it
            if not patient_level or m.counts["in_population_patients"] == 0:
                at_least[site_cell(m, "sessions_total")] = 1
            elif m.counts["sessions_total"] == 0:
                at_least[site_cell(m, "in_population_patients")] = 1
    kept_totals: list[list[Hashable]] = []
    trend_relations(sites, site_cell, patient_level, groups, at_most, at_least, kept_totals)
    for col in cols if whole else []:
        values[("network", col)] = sum(r.counts[col] for _, r in whole)
        groups.append([("network", col), *(site_cell(r, col) for _, r in whole)])
    if whole:  # the network row is a row too: its total is the sum of its four outcomes
        groups.append([("network", c) for c in SESSION_COLUMNS])
        if patient_level:  # a lower bound for the network's sessions and denominator
            below += [
                (("network", "discordant_patients"), ("network", "sessions_discordant")),
                (("network", "discordant_patients"), ("network", "in_population_patients")),
            ]
    network_quarters = (
        network_quarter_cells(sites, site_cell, cols, values, groups, below, differences)
        if whole
        else {}
    )
    pairs_of_columns = [(c, "sessions_total") for c in SESSION_COLUMNS[1:]]
    if patient_level:
        pairs_of_columns += [
            ("discordant_patients", "sessions_discordant"),
            ("discordant_patients", "in_population_patients"),
        ]
    for small, large in pairs_of_columns if whole else []:
        # over the sites, each outcome is at most the total, discordant patients at most
        # discordant sessions and the denominator: the network's differences bound them
        pairs = [(site_cell(r, small), site_cell(r, large)) for _, r in whole]
        differences.append((("network", small), ("network", large), pairs))

    reasons = list(reason_steps)
    rec_amounts: dict[tuple[str, str, str], float | None] = {}
    for site, all_row in whole:
        sid = site.site_id
        reason_keys = [("reason", sid, r) for r in reasons]
        values.update({k: reason_sessions.get(k, 0) for k in reason_keys})
        in_pop_parts = [
            site_cell(all_row, c)
            for c in ("sessions_clinical_trial", "sessions_not_addressed", "sessions_discordant")
        ]
        values[("in_population", sid)] = sum(values[k] for k in in_pop_parts)
        oop = site_cell(all_row, "sessions_out_of_population")
        groups += [
            [oop, *reason_keys],
            [("in_population", sid), *in_pop_parts],
            [site_cell(all_row, "sessions_total"), oop, ("in_population", sid)],
        ]
        values[("trial_no_recommendation", sid)] = tallies.get(
            ("trial_no_recommendation", sid), _Tally()
        ).sessions
        d_keys, ct_keys = [], [("trial_no_recommendation", sid)]
        for rec_id, fam, _ in rec_rows:
            disc = tallies.get(("rec", sid, rec_id, fam, "d"), _Tally())
            values[("rec", sid, rec_id, fam, "d")] = disc.sessions
            values[("rec", sid, rec_id, fam, "p")] = disc.patients
            values[("rec", sid, rec_id, fam, "ct")] = tallies.get(
                ("rec", sid, rec_id, fam, "ct"), _Tally()
            ).sessions
            rec_amounts[(sid, rec_id, fam)] = (
                None if disc.amount is None else round(disc.amount, AMOUNT_DECIMALS)
            )
            d_keys.append(("rec", sid, rec_id, fam, "d"))
            at_most.append((("rec", sid, rec_id, fam, "p"), ("rec", sid, rec_id, fam, "d")))
            ct_keys.append(("rec", sid, rec_id, fam, "ct"))
        groups += [
            [site_cell(all_row, "sessions_discordant"), *d_keys],
            [site_cell(all_row, "sessions_clinical_trial"), *ct_keys],
        ]
        if patient_level:  # its discordant patients are among its rows' patients
            p_keys = [("rec", sid, rec_id, fam, "p") for rec_id, fam, _ in rec_rows]
            rec_pairs = list(zip(p_keys, d_keys, strict=True))
            differences.append(
                (
                    site_cell(all_row, "discordant_patients"),
                    site_cell(all_row, "sessions_discordant"),
                    rec_pairs,
                )
            )
    if whole:
        _network_detail(values, groups, [s.site_id for s, _ in whole], reasons, rec_rows)
    all_rows = {s.site_id: r for s, r in whole}
    patient_cells(
        patient_counts(frames.get("site_attrition_patients")),
        [s.site_id for s, _ in whole],
        lambda sid, col: site_cell(all_rows[sid], col),
        {
            s.site_id: [("rec", s.site_id, rec_id, fam, "p") for rec_id, fam, _ in rec_rows]
            for s, _ in whole
        },
        patient_level,
        values,
        below,
    )

    amounts = [r.amount_discordant for _, r in whole]
    network_amount = (
        None
        if not amounts or any(a is None for a in amounts)
        else round(sum(a for a in amounts if a is not None), AMOUNT_DECIMALS)
    )
    published = suppress_cells(
        values,
        [g for g in groups if _adds_up(values, g)],
        profile,
        at_most,
        differences,
        at_least,
        below,
        keep=[k for k in values if k[0] == "network"],  # the headline figures
        keep_total=[g for g in kept_totals if _adds_up(values, g)],
    )
    if patient_level:
        network_quarter_patients(
            network_quarters,
            site_cell,
            published,
            at_most,
            profile,
            [s for s, _ in whole] if not any(s.history for s in sites) else [],
        )
    return Disclosed(
        profile=profile,
        patient_level=patient_level,
        sites=sites,
        rows=rows,
        rec_rows=rec_rows,
        family_labels=family_labels,
        attrition=attrition,
        reasons=reasons,
        reason_labels={r: step.label for r, step in reason_steps.items()},
        rec_amounts=rec_amounts,
        published=published,
        network_amount=network_amount,
        network_quarters=list(network_quarters),
        no_sessions=all(r.counts["sessions_total"] == 0 for _, r in whole),
        currency=currency_of(context),
    )


def _adds_up(values: Mapping[Hashable, int], group: Sequence[Hashable]) -> bool:
    """True when the largest cell of a group is the sum of the others: only then can a
    reader use it (frames built by hand, e.g. without outcome detail, may not add up)."""
    cells = [values[k] for k in dict.fromkeys(group) if k in values]
    return not cells or 2 * max(cells) == sum(cells)


def _network_detail(
    values: dict[Hashable, int],
    groups: list[list[Hashable]],
    site_ids: list[str],
    reasons: list[str],
    rec_rows: list[tuple[str, str, str]],
) -> None:
    """Network cells of the attrition and of the table by recommendation (the public
    manifest's network figures): each the sum over the sites, tied to the network row."""

    def over_sites(key: tuple, cell: Callable[[str], tuple]) -> tuple:
        values[key] = sum(values[cell(sid)] for sid in site_ids)
        groups.append([key, *(cell(sid) for sid in site_ids)])
        return key

    net_reasons = [
        over_sites(("network_reason", r), lambda s, r=r: ("reason", s, r)) for r in reasons
    ]
    inpop = over_sites(("network_in_population",), lambda s: ("in_population", s))
    net_d, net_ct = (
        [],
        [
            over_sites(
                ("network_trial_no_recommendation",), lambda s: ("trial_no_recommendation", s)
            )
        ],
    )
    for rec_id, fam, _ in rec_rows:
        for kind, keys in (("d", net_d), ("ct", net_ct)):
            keys.append(
                over_sites(
                    ("network_recommendation", rec_id, fam, kind),
                    lambda s, rec_id=rec_id, fam=fam, kind=kind: ("rec", s, rec_id, fam, kind),
                )
            )
    net = {c: ("network", c) for c in SESSION_COLUMNS}
    groups += [
        [net["sessions_out_of_population"], *net_reasons],
        [inpop, net["sessions_clinical_trial"], net["sessions_not_addressed"]]
        + [net["sessions_discordant"]],
        [net["sessions_total"], net["sessions_out_of_population"], inpop],
        [net["sessions_discordant"], *net_d],
        [net["sessions_clinical_trial"], *net_ct],
    ]


# ----------------------------------------------------------------------------- views
def _row_view(d: Disclosed, prefix: tuple[Hashable, ...], amount: float | None) -> dict[str, Any]:
    """Published counts, concordance and amount of one site/period row (or the network)."""
    view: dict[str, Any] = {c: d.get((*prefix, c)) for c in (*PATIENT_COLUMNS, *SESSION_COLUMNS)}
    if d.patient_level and not d.no_sessions:
        view["concordance"] = concordance(
            view["discordant_patients"], view["in_population_patients"]
        )
    else:
        view["concordance"] = None
    disc = view["sessions_discordant"]
    view["allowed_amount_discordant"] = (
        HIDDEN if disc is HIDDEN else (amount if disc is not None else None)
    )
    view["cells_suppressed"] = sum(view[c] is HIDDEN for c in (*PATIENT_COLUMNS, *SESSION_COLUMNS))
    return view


def build_site_summary(d: Disclosed) -> pd.DataFrame:
    """site_summary as a frame: published counts (``<NA>`` when hidden), typed columns."""
    names = {s.site_id: s for s in d.sites}
    records = []
    for row in d.rows:
        view = d.row_view(row)
        conc = view["concordance"]
        rate = conc if isinstance(conc, tuple) else (None, None, None)
        site = names[row.site_id]
        rec: dict[str, Any] = {
            "site_id": row.site_id,
            "site_name": site.name,
            "site_group": site.group,
            "period_type": row.period_type,
            "period_start": row.period_start,
            "period_end": row.period_end,
        }
        for c in (*PATIENT_COLUMNS, *SESSION_COLUMNS):
            rec[c] = view[c] if is_number(view[c]) else None
        rec["concordance"], rec["concordance_ci_low"], rec["concordance_ci_high"] = (
            None if x is None else round(float(x), RATE_DECIMALS) for x in rate
        )
        amount = view["allowed_amount_discordant"]
        rec["allowed_amount_discordant"] = amount if is_number(amount) else None
        rec["currency"] = d.currency
        rec["suppression_profile"] = d.profile.name
        rec["cells_suppressed"] = view["cells_suppressed"]
        rec["suppression_threshold"] = d.profile.threshold
        rec["suppression_rounding"] = d.profile.rounding
        records.append(rec)
    dtypes = {
        f.name: (
            "Int64"
            if pa.types.is_integer(f.type)
            else "Float64"
            if pa.types.is_floating(f.type)
            else "object"
        )
        for f in SUMMARY_SCHEMA
    }
    frame = pd.DataFrame(
        {c: pd.Series([r[c] for r in records], dtype=dtypes[c]) for c in SUMMARY_COLUMNS}
    )
    return frame


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(frame, schema=SUMMARY_SCHEMA, preserve_index=False)
    pq.write_table(table, path, compression="zstd")


def _csv_text(frame: pd.DataFrame) -> str:
    """The site summary as CSV text: blanks for missing values, fixed decimals, formula-safe
    text. Each column is formatted whole (one function per column, chosen once), then the
    columns are zipped into lines."""
    kinds = {f.name: f.type for f in SUMMARY_SCHEMA}

    def formatter(c: str) -> Callable[[Any], str]:
        t = kinds[c]
        if pa.types.is_string(t):
            return lambda v: csv_safe(str(v))
        if pa.types.is_date(t):
            return lambda v: v.isoformat()
        if pa.types.is_integer(t):
            return lambda v: str(int(v))
        decimals = AMOUNT_DECIMALS if c == "allowed_amount_discordant" else RATE_DECIMALS
        return lambda v: f"{float(v):.{decimals}f}"

    def missing(v: Any) -> bool:
        return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))

    columns = []
    for c in SUMMARY_COLUMNS:
        fmt = formatter(c)
        columns.append(["" if missing(v) else fmt(v) for v in frame[c].tolist()])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    writer.writerows(zip(*columns, strict=True))
    return buf.getvalue()


def _network_trends(
    d: Disclosed, quarters: Sequence[date], bands: Mapping[date, Band]
) -> dict[str, Any]:
    """The index's network trend band and network attrition (audit/trends.py,
    audit/attrition.py): published values only."""
    first = next((steps for steps in d.attrition.values() if steps), [])
    steps = network_steps(first, d.get)
    return {
        "trend": network_trend_view(
            quarters,
            bands,
            rate_chart,
            {q: d.network_quarter_view(q) for q in d.network_quarters},
        )
        if d.patient_level
        else None,
        "attrition": steps,
        "attrition_chart": waterfall(
            steps, title="From all counting sessions to discordant sessions, network"
        ),
    }


def quarter_bands(d: Disclosed, quarters: Sequence[date]) -> dict[date, Band]:
    """The network band of each quarter from the concordance the sites publish for it."""
    published: dict[date, list[Any]] = {}
    if d.patient_level and not d.no_sessions:
        for site in d.sites:
            for q in site.quarters:
                published.setdefault(start_of(q), []).append(d.row_view(q)["concordance"])
    return network_band(quarters, published)


def network_quarter_rates(d: Disclosed) -> dict[date, float]:
    """The network's published concordance per quarter (the site pages' second line)."""
    out = {}
    for q in d.network_quarters if d.patient_level and not d.no_sessions else ():
        conc = d.network_quarter_view(q)["concordance"]
        if isinstance(conc, tuple):
            out[q] = conc[0]
    return out


def _month_starts(sites: Sequence[_Site]) -> list[date]:
    """Every calendar month from the first to the last month row of the network."""
    starts = [m.period_start for s in sites for m in (*s.history, *s.months) if m.period_start]
    if not starts:
        return []
    first, last = min(starts), max(starts)
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _period_label(context: Mapping[str, Any], sites: Sequence[_Site]) -> str:
    """The audit period as a reader sees it: the dates given with --from / --to, else months
    (the extract's first and last event dates are exact patient dates: never shown)."""
    given_from, given_to = context.get("period_from"), context.get("period_to")
    starts = [s.all_row.period_start for s in sites if s.all_row and s.all_row.period_start]
    ends = [s.all_row.period_end for s in sites if s.all_row and s.all_row.period_end]
    first = f"{min(starts):%Y-%m}" if starts else None
    last = f"{max(ends):%Y-%m}" if ends else None
    if not given_from and not given_to:
        if not first or not last:
            return "no data"
        return f"{first} to {last} (all months with data)"
    start = str(given_from) if given_from else first and f"{first} (first month with data)"
    end = str(given_to) if given_to else last and f"{last} (last month with data)"
    return f"{start or 'no data'} to {end or 'no data'}"


INPUT_FORMATS = ("canonical", "claims", "omop", "fhir")
FILE_FORMATS = ("csv", "parquet", "ndjson")


def _inputs_label(context: Mapping[str, Any]) -> str:
    """What was read, in the tool's own words: the input format and the canonical tables
    (never the user's file names: they stay in the internal manifest)."""
    tables = [str(t) for t in (context.get("reconciliation") or {}) if str(t) in _TABLES]
    fmt = str(context.get("input_format") or "")
    kinds = sorted({str(f) for f in context.get("input_file_formats") or []} & set(FILE_FORMATS))
    if not tables:
        return ""
    text = f"{fmt} extract: " if fmt in INPUT_FORMATS else ""
    text += ", ".join(tables)
    return text + (f" (from {', '.join(kinds)} files)" if kinds else "")


_TABLES = ("patients", "diagnoses", "procedures", "sites", "coverage")


# where a procedure's site came from, in words (OMOP: audit.adapters.omop.site_sources)
SITE_SOURCE_LABELS: dict[str, str] = {
    "visit_care_site": "the visit's care site",
    "provider_care_site": "the provider's care site",
    "provider": "the provider itself (chosen fallback)",
    "not_recorded": "one site '(site not recorded)' (chosen fallback)",
    "none": "no site (quarantined)",
}


def site_sources_text(site_sources: dict[str, dict[str, int]] | None) -> str | None:
    """Which sources gave the procedures' sites, in the order they are tried; no counts (a
    count here would escape disclosure control). None when the input format has one rule."""
    used = (site_sources or {}).get("procedures") or {}
    labels = [SITE_SOURCE_LABELS.get(source, source) for source, n in used.items() if n]
    return "; ".join(labels) or None


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "not set"
    if isinstance(value, list | tuple):
        return ", ".join(_setting_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.extend(_flatten(f"{prefix} / {k}" if prefix else str(k), v))
        return out
    return [(prefix, value)]


_RECON_TOTALS = {"input_rows", "accounted_rows"}
# Status values (as normalised: lower case, blanks and hyphens as "_") that may be shown by
# name on shareable pages: the usual claim and FHIR statuses. Any other value is shown only
# inside the counted category "other status values" (it may hold anything, a name included).
COUNTING_STATUSES = frozenset(
    {
        "paid",
        "pended",
        "pending",
        "adjusted",
        "approved",
        "accepted",
        "processed",
        "final",
        "finalized",
        "complete",
        "completed",
        "active",
        "billed",
        "submitted",
        "open",
        "closed",
        "in_progress",
        "stopped",
        "unknown",
        "partial",
        "queued",
        "suspended",
    }
)
OTHER_STATUSES = "other status values"
OTHER_VALUES = "other values"


@lru_cache(maxsize=1)
def tool_vocabulary() -> frozenset[str]:
    """Every word the tool itself can put in a label: the string literals of its SQL (reasons,
    dispositions, check and domain names), the names of its data-quality checks and the code
    systems it knows."""
    words: set[str] = set()
    root = sql_dir()
    for path in sorted(root.rglob("*.sql")):
        text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        words.update(re.findall(r"'([a-z][a-z0-9_]*)'", text))
        words.add(path.stem)
    with (data_dir() / "code_systems.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            words.update(v for k, v in row.items() if k in ("code_system", "match_system") and v)
    return frozenset(words)


def _normal_code(code: str) -> str:
    return re.sub(r"[.\s]", "", code).upper()


@lru_cache(maxsize=8)
def pack_codes(pack: str) -> frozenset[str]:
    """Every code the guideline pack names (any CSV column ``code``), normalised: the codes a
    data-quality row may show. An unknown pack names none."""
    try:
        folder = resolve_pack(pack).path
    except PackError:
        return frozenset()
    codes: set[str] = set()
    for path in sorted(folder.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("code"):
                    codes.add(_normal_code(row["code"]))
    return frozenset(codes)


def _dq_label(check: str, code: str, codes: frozenset[str] = frozenset()) -> str | None:
    """The code of a data-quality row as it may be shown, or None: then the row joins its
    check's counted category. Statuses from an allow-list; other codes must be the pack's
    (``codes``: retired, early and unlisted codes are joined to its value sets) or the
    tool's own words (code systems, pattern names)."""
    if not code:
        return code
    if check == "status_value_counted":
        return code if code in COUNTING_STATUSES else None
    if code in tool_vocabulary() or _normal_code(code) in codes:
        return code
    return None


def _recon_label(disposition: str, detail: str, statuses: set[str]) -> str | None:
    """A reconciliation detail as it may be shown: the tool's reasons, the statuses of the
    settings (not counting) or an allowed status; None joins the counted category."""
    if disposition == "not_counting_status":
        return detail if detail in statuses or detail in COUNTING_STATUSES else None
    return detail if detail in tool_vocabulary() or detail == "(blank)" else None


def _is_count(value: Any) -> bool:
    return is_number(value) and float(value) == int(value) and int(value) >= 0


def _quality_views(context: Mapping[str, Any], profile: Profile) -> tuple[list, list]:
    """Data-quality checks and input reconciliation, with counts through the profile and
    labels only from a fixed vocabulary (values from the data are counted, never named).

    Checks are independent counts: primary suppression and rounding only, except the status
    values that counted, which are a breakdown of the procedure rows counted. A
    reconciliation table's figures are tied in ways this layer does not track (input =
    counted + not counting + quarantined, each the sum of its details), so when any of its
    figures is hidden, every non-zero figure of that table except its totals (``input_rows``,
    ``accounted_rows``) is hidden too. The status values that counted sum (with blank
    statuses) to the procedure rows counted: when one is hidden, every non-zero one is; when
    the procedures table hides anything, they are hidden too; when all of them together hold
    less than the threshold, the procedures table is hidden as well. Flags (``balanced``) are
    not shown; the internal manifest keeps the exact reconciliation.
    """

    def one(v: Any) -> Any:
        if not _is_count(v):
            return None
        return HIDDEN if profile.hides(int(v)) else profile.round(int(v))

    settings = context.get("settings") or {}
    pack = str(settings.get("pack") or (context.get("pack") or {}).get("name") or "")
    codes = pack_codes(pack) if pack else frozenset()
    checks: list[dict[str, Any]] = []
    others: dict[str, dict[str, Any]] = {}
    for c in context.get("data_quality") or []:
        name = _text(c.get("check")) or ""
        code = _text(c.get("code")) or ""
        raw = c.get("count", c.get("rows"))
        row = {
            "check": check_label(name),
            "check_id": name,
            "code": code,
            "raw": int(raw) if _is_count(raw) else None,
            "note": _text(c.get("note")) or _text(c.get("domain")) or "",
            "status": name == "status_value_counted",
        }
        if _dq_label(name, code, codes) is None:
            key = name + "\x00" + row["note"]
            if key not in others:
                label = OTHER_STATUSES if row["status"] else OTHER_VALUES
                others[key] = {**row, "code": label, "raw": 0}
                checks.append(others[key])
            if row["raw"] is not None:
                others[key]["raw"] += row["raw"]
            continue
        checks.append(row)

    statuses = {str(x) for x in settings.get("non_counting_statuses") or []}
    recon_rows: list[dict[str, Any]] = []
    for table, info in (context.get("reconciliation") or {}).items():
        merged: dict[str, int] = {}
        for item, v in _flatten("", info):
            if not _is_count(v):
                continue
            disposition, _, detail = item.partition(" / ")
            if detail and _recon_label(disposition, detail, statuses) is None:
                item = f"{disposition} / other values"
            merged[item] = merged.get(item, 0) + int(v)
        for item, v in merged.items():
            recon_rows.append({"table": str(table), "item": item, "raw": v})

    status_rows = [c for c in checks if c["status"] and c["raw"]]
    procedures = [r for r in recon_rows if r["table"] == "procedures"]
    hide_tables: set[str] = set()
    for r in recon_rows:
        if profile.hides(r["raw"]):
            hide_tables.add(r["table"])
    hide_status = any(profile.hides(c["raw"]) for c in status_rows)
    if "procedures" in hide_tables:
        hide_status = True
    small = sum(c["raw"] for c in status_rows) < max(profile.threshold, 1)
    if hide_status and status_rows and procedures and small:
        hide_tables.add("procedures")

    for c in checks:
        c["count"] = one(c.pop("raw"))
        if c.pop("status") and hide_status and c["count"] not in (0, None):
            c["count"] = HIDDEN
    recon = []
    for r in recon_rows:
        shown = one(r["raw"])
        if r["table"] in hide_tables and r["item"] not in _RECON_TOTALS and r["raw"] != 0:
            shown = HIDDEN
        recon.append({"table": r["table"], "item": r["item"].replace("_", " "), "value": shown})
    return checks, recon


def _pack_name(context: Mapping[str, Any]) -> str:
    """The pack of a run: the settings' pack, else the manifest's, else the default one."""
    settings = context.get("settings") or {}
    pack = context.get("pack") or {}
    return str(settings.get("pack") or pack.get("name") or Settings.pack)


def _guideline(context: Mapping[str, Any]) -> dict[str, str]:
    """Titles, citation and link of the guideline and the audit, as the pack states them
    (``context["guideline"]``, else read from the run's pack)."""
    given = context.get("guideline")
    if given:
        return {k: _text(v) or "" for k, v in given.items()}
    try:
        return resolve_pack(_pack_name(context)).guideline()
    except PackError:
        return {}


def _page_common(context: Mapping[str, Any], d: Disclosed) -> dict[str, Any]:
    pack = dict(context.get("pack") or {})
    guideline = _guideline(context)
    # the manifest's pack block has no link: the guideline's (pack.toml citation_url) is used
    pack.setdefault("citation_url", guideline.get("citation_url"))
    return {
        "tool_version": str(context.get("tool_version") or ""),
        "guideline": guideline,
        "pack": {
            k: _text(pack.get(k)) or ""
            for k in ("name", "version", "title", "citation", "citation_url")
        },
        "period": _period_label(context, d.sites),
        "profile": d.profile,
        "legend": d.profile.legend(),
        "patient_level": d.patient_level,
        "currency": currency_of(context),
    }


def currency_of(context: Mapping[str, Any]) -> str:
    """The currency of a run's amounts (the ``currency`` setting; USD by default)."""
    return str((context.get("settings") or {}).get("currency") or Settings.currency)


def _site_view(
    d: Disclosed,
    site: _Site,
    months: list[date],
    unmeasurable: Mapping[tuple[str, str], Unmeasurable] | None = None,
    possible: Mapping[Hashable, Any] | None = None,
    quarters: Sequence[date] = (),
    bands: Mapping[date, Band] | None = None,
    network_rates: Mapping[date, float] | None = None,
) -> dict[str, Any]:
    sid = site.site_id
    all_row = site.all_row
    summary = d.row_view(all_row) if all_row else None
    # the months before the period (trend history) and the period's own; where --from cuts a
    # month in two, the chart shows the period's part (the history part is in site_summary)
    by_month = {m.period_start: m for m in site.history}
    by_month.update({m.period_start: m for m in site.months})
    labels, bars, rates = [], [], []
    for start in months:
        labels.append(f"{start:%Y-%m}")
        row = by_month.get(start)
        if row is None:  # no row: nothing happened at this site that month
            bars.append(0)
            rates.append(None)
            continue
        view = d.row_view(row)
        bars.append(view["sessions_discordant"])
        rates.append(view["concordance"])
    charts: dict[str, Any] = {"sessions": None, "concordance": None, "hidden": False}
    # the charts' data tables: the same published values, one row per month drawn
    charts["rows"] = [
        {"label": label, "sessions": bar, "concordance": rate}
        for label, bar, rate in zip(labels, bars, rates, strict=True)
    ]
    if labels:
        charts["sessions"] = bar_chart(
            labels,
            bars,
            title=f"Discordant sessions per month, {site.name}",
            unit="discordant sessions",
        )
        charts["hidden"] = any(v is HIDDEN for v in bars + rates)
        if d.patient_level:
            charts["concordance"] = rate_chart(
                labels,
                rates,
                title=f"Patient concordance per month, {site.name}",
                unit="concordance",
            )
    recs = []
    for rec_id, fam, summary_text in d.rec_rows:
        sessions = d.get(("rec", sid, rec_id, fam, "d"))
        amount = d.rec_amounts.get((sid, rec_id, fam))
        recs.append(
            {
                "unmeasurable": _unmeasurable_view(
                    d,
                    (sid,),
                    rec_id,
                    fam,
                    unmeasurable,
                    (possible or {}).get(("possible", sid, rec_id, fam)),
                ),
                "id": rec_id,
                "family": d.family_labels.get(fam, fam),
                "summary": summary_text,
                "sessions": sessions,
                "patients": d.get(("rec", sid, rec_id, fam, "p")),
                "amount": HIDDEN
                if sessions is HIDDEN
                else (amount if sessions is not None else None),
                "trial": d.get(("rec", sid, rec_id, fam, "ct")),
            }
        )
    trial_no_rec = d.get(("trial_no_recommendation", sid))
    attrition = []
    if summary is not None:
        for step in d.attrition.get(sid, []):
            if step.outcome == "out_of_population":
                value = d.get(("reason", sid, step.reason))
            elif step.outcome == "in_population":
                value = d.get(("in_population", sid))
            else:  # a count of the site's whole-period row
                value = summary[
                    "sessions_total" if step.outcome == "all" else f"sessions_{step.outcome}"
                ]
            attrition.append(
                {"kind": step.kind, "label": step.label, "rule": step.rule, "value": value}
            )
    attrition_patients = [
        {"label": label, "value": d.get(("attr_patients", sid, key))}
        for key, label in PATIENT_STEPS
        if summary is not None
    ]
    return {
        "site_id": sid,
        "name": site.name,
        "group": site.group,
        "slug": site.slug,
        "href": f"sites/{site.slug}.html",
        "summary": summary,
        "charts": charts,
        "recs": recs,
        # Shown only when some trial session had no recommendation (a zero is just omitted).
        "trial_no_rec": trial_no_rec if trial_no_rec is HIDDEN or trial_no_rec else None,
        "attrition": attrition,
        "attrition_chart": waterfall(
            attrition, title=f"From all counting sessions to discordant sessions, {site.name}"
        ),
        "attrition_patients": attrition_patients,
        "trend": _quarter_trend(d, site, quarters, bands or {}, network_rates),
        "history_months": sum(
            1
            for m in months
            if all_row is not None and all_row.period_start and m < all_row.period_start
        ),
    }


def _unmeasurable_view(
    d: Disclosed,
    where: tuple[str, ...],
    rec_id: str,
    fam: str,
    unmeasurable: Mapping[tuple[str, str], Unmeasurable] | None,
    possible: Any,
) -> dict[str, Any] | None:
    """An honest row: a recommendation the pack says no code can trigger, shown as not
    measurable with its possible cases, never as 0 | 0 | 0.00. Only while its published
    discordant and clinical-trial sessions are a true 0 (a published 0 is never rounded or a
    hidden count): should a pack's codes ever trigger it, its counts are shown instead."""
    row = (unmeasurable or {}).get((rec_id, fam))
    if row is None:
        return None
    if where == ("network",):
        d_key = ("network_recommendation", rec_id, fam, "d")
        ct_key = ("network_recommendation", rec_id, fam, "ct")
    else:
        d_key = ("rec", where[0], rec_id, fam, "d")
        ct_key = ("rec", where[0], rec_id, fam, "ct")
    if d.get(d_key) != 0 or d.get(ct_key) != 0:
        return None
    return {
        "label": row.label,
        "possible_case_label": row.possible_case_label,
        "meaning": row.meaning,
        "possible": possible,
    }


def _network_spend(
    d: Disclosed,
    unmeasurable: Mapping[tuple[str, str], Unmeasurable],
    possible: Mapping[Hashable, Any],
) -> list[dict[str, Any]]:
    """Network spend on discordant sessions by recommendation x family: the published network
    sessions of each row (the public manifest's cells) and the sum of the sites' allowed
    amounts, hidden with its sessions (privacy.md: an amount is shown only with its count)."""
    whole = [s.site_id for s in d.sites if s.all_row is not None]
    rows = []
    for rec_id, fam, summary_text in d.rec_rows:
        sessions = d.get(("network_recommendation", rec_id, fam, "d"))
        amounts = [d.rec_amounts.get((sid, rec_id, fam)) for sid in whole]
        amount = (
            None
            if any(a is None for a in amounts)
            else round(sum(a for a in amounts if a is not None), AMOUNT_DECIMALS)
        )
        rows.append(
            {
                "id": rec_id,
                "family": d.family_labels.get(fam, fam),
                "summary": summary_text,
                "sessions": sessions,
                "amount": HIDDEN
                if sessions is HIDDEN
                else (amount if sessions is not None else None),
                "unmeasurable": _unmeasurable_view(
                    d,
                    ("network",),
                    rec_id,
                    fam,
                    unmeasurable,
                    possible.get(("network_possible", rec_id, fam)),
                ),
            }
        )
    return rows


def _quarter_trend(
    d: Disclosed,
    site: _Site,
    quarters: Sequence[date],
    bands: Mapping[date, Band],
    network_rates: Mapping[date, float] | None = None,
) -> dict[str, Any] | None:
    """The quarterly trend of a site page: table rows and charts (published values only; the
    network band from the sites' published values, audit/trends.py; the network's own
    published rate per quarter, ``network_rates``, as a second line)."""
    network_rates = network_rates or {}
    if not quarters:
        return None
    rows = site_trend_view(site, quarters, bands, d.row_view)
    labels = [r["label"].split(" ")[0] for r in rows]
    sessions = [r["row"]["sessions_discordant"] if r["row"] else 0 for r in rows]
    charts = {
        "sessions": bar_chart(
            labels,
            sessions,
            title=f"Discordant sessions per quarter, {site.name}",
            unit="discordant sessions",
            per="quarter",
        ),
        "concordance": None,
    }
    if d.patient_level:
        rates = [r["row"]["concordance"] if r["row"] else None for r in rows]
        network = [
            (b.low, b.median, b.high) if (b := r["band"]) is not None else None for r in rows
        ]
        charts["concordance"] = rate_chart(
            labels,
            rates,
            title=f"Patient concordance per quarter, {site.name}",
            unit="concordance",
            per="quarter",
            network=network,
            network_line=[network_rates.get(q) for q in quarters],
        )
    hidden = any(v is HIDDEN for v in sessions) or any(
        r["row"] is not None and r["row"]["concordance"] is HIDDEN for r in rows
    )
    return {"rows": rows, "charts": charts, "hidden": hidden, "band_sites": BAND_MIN_SITES}


# ----------------------------------------------------------------------------- entry point
def write_aggregate_outputs(
    out_dir: Path,
    frames: dict[str, pd.DataFrame],
    run: ReportContext,
    late_checks: Callable[[], Sequence[Mapping[str, Any]]] | None = None,
    internal_workbook: tuple[Path, Sequence[Sheet]] | None = None,
) -> list[Path]:
    """Apply disclosure control, write site_summary.parquet + site_summary.csv, index.html,
    sites/<slug>.html and the workbook spine-audit.xlsx; return the paths written (relative
    order deterministic).

    ``internal_workbook`` (a path and the internal sheets: providers, case list) makes the
    internal workbook too: the shareable workbook's sheets followed by those.

    ``late_checks`` gives more data-quality rows (the gate's) for the index page: it is called
    once, after the site pages are written, so the caller can finish that work meanwhile.

    Why one call: every output must print the same published value for a cell, so they are
    produced from one :func:`disclose` pass. Files are written in place; the caller writes
    into a temporary folder and moves it into place, so a failure leaves nothing that looks
    complete. Nothing here reads a clock: the same inputs give byte-identical files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    context = run.as_mapping()
    d = disclose(frames, context)
    written: list[Path] = []

    summary = build_site_summary(d)
    path = safe_output_path(out_dir, "site_summary.parquet")
    _write_parquet(summary, path)
    written.append(path)
    path = safe_output_path(out_dir, "site_summary.csv")
    path.write_text(_csv_text(summary), encoding="utf-8", newline="")
    written.append(path)

    common = _page_common(context, d)
    months = _month_starts(d.sites)
    unmeasurable = unmeasurable_rows(frames.get("unmeasurable"))
    possible = disclose_possible_cases(
        frames.get("possible_cases"),
        [s.site_id for s in d.sites if s.all_row is not None],
        [k for k in unmeasurable if k in {(r, f) for r, f, _ in d.rec_rows}],
        d.profile,
    )
    quarters = trend_quarters(d.sites)
    bands = quarter_bands(d, quarters)
    network_rates = network_quarter_rates(d)
    site_views = [
        _site_view(d, s, months, unmeasurable, possible, quarters, bands, network_rates)
        for s in d.sites
    ]
    site_template = _template("site.html.j2")
    if site_views:
        safe_output_path(out_dir, "sites/x.html").parent.mkdir(exist_ok=True)
    site_pages = []
    for view in site_views:
        html = site_template.render(**common, root="../", site=view)
        path = safe_output_path(out_dir, view["href"])
        path.write_text(html, encoding="utf-8", newline="")
        site_pages.append(path)

    if late_checks is not None:
        more = list(late_checks())
        context = {**context, "data_quality": [*(context.get("data_quality") or []), *more]}
    checks, recon = _quality_views(context, d.profile)
    network = None
    if any(s.all_row is not None for s in d.sites):
        network = _row_view(d, ("network",), d.network_amount)
    settings = context.get("settings") or {}
    funnel = funnel_view(
        site_views,
        network,
        method=str(settings.get("funnel_overdispersion") or "none"),
        enabled=d.patient_level and not d.no_sessions,
    )
    network_spend = _network_spend(d, unmeasurable, possible) if network else []
    trends_network = _network_trends(d, quarters, bands) if network is not None else None
    index_html = _template("index.html.j2").render(
        **common,
        root="",
        sites=site_views,
        network=network,
        funnel=funnel,
        network_spend=network_spend,
        has_groups=any(s["group"] for s in site_views),
        settings=[(str(k), _setting_text(v)) for k, v in (context.get("settings") or {}).items()],
        inputs=_inputs_label(context),
        no_sessions=bool(site_views) and d.no_sessions,
        site_sources=site_sources_text(context.get("site_sources")),
        checks=checks,
        recon=recon,
        coding_warning=_text(context.get("coding_warning")),
        trends_network=trends_network,
    )
    path = safe_output_path(out_dir, "index.html")
    path.write_text(index_html, encoding="utf-8", newline="")
    written.append(path)
    written.extend(site_pages)
    sheets = workbook_sheets(d, summary, site_views, network, network_spend, checks, recon, common)
    path = safe_output_path(out_dir, WORKBOOK)
    title = f"{common['guideline'].get('audit_title') or 'spine-audit'}: audit by site"
    write_workbook(path, sheets, title)
    written.append(path)
    if internal_workbook is not None:
        internal_path, internal_sheets = internal_workbook
        about = replace(
            sheets[0],
            note="INTERNAL, NOT TO BE SHARED: the Providers sheet names providers and the "
            "Case list sheet (when asked) holds patient ids. The published figures are in "
            "shareable/spine-audit.xlsx.",
        )
        # the internal outputs only (the published sheets are in the shareable workbook):
        # one book to share and one to keep, and no second copy of every published cell
        internal_book = [about, *internal_sheets]
        write_workbook(internal_path, internal_book, f"{title} (internal)")
    path = safe_output_path(out_dir, PUBLIC_MANIFEST)
    outputs = sorted(p.relative_to(out_dir.resolve()).as_posix() for p in [*written, path])
    manifest = public_manifest(
        d, context, network, checks, recon, outputs, network_spend=network_spend
    )
    if funnel_manifest(funnel) is not None:
        manifest["published"]["funnel"] = funnel_manifest(funnel)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8", newline="")
    written.append(path)
    return written


PUBLIC_MANIFEST = "manifest.json"
WORKBOOK = "spine-audit.xlsx"


def _cell(value: Any) -> Any:
    """A published value for a workbook cell: ``*`` when hidden, None when not available."""
    if value is HIDDEN:
        return HIDDEN_TEXT
    return value if is_number(value) else None


def workbook_sheets(
    d: Disclosed,
    summary: pd.DataFrame,
    site_views: Sequence[Mapping[str, Any]],
    network: Mapping[str, Any] | None,
    network_spend: Sequence[Mapping[str, Any]],
    checks: Sequence[Mapping[str, Any]],
    recon: Sequence[Mapping[str, Any]],
    common: Mapping[str, Any],
) -> list[Sheet]:
    """The shareable workbook's sheets: every value as the pages and site_summary publish it
    (the one disclosure pass; ``*`` hidden), nothing else."""
    currency = common["currency"]
    hidden_note = (
        f"* = hidden by disclosure control ({d.profile.name}: {d.profile.describe()}). "
        f"Amounts in {currency}, as the input states them."
    )
    about = Sheet(
        "About",
        str(common["guideline"].get("audit_title") or "spine-audit"),
        ("item", "value"),
        [
            ("audit period", common["period"]),
            ("guideline", common["pack"].get("citation") or ""),
            ("guideline link", common["pack"].get("citation_url") or ""),
            ("pack", f"{common['pack'].get('name')} {common['pack'].get('version')}"),
            ("tool", f"spine-audit {common['tool_version']}"),
            ("suppression", f"{d.profile.name}: {d.profile.describe()}"),
            ("suppression threshold", d.profile.threshold),
            ("suppression rounding", d.profile.rounding),
            ("currency", currency),
            ("hidden values", "shown as *: gaps, not zeros"),
        ],
        "Published figures only: the same values as index.html, the site pages and "
        "site_summary.csv.",
    )
    columns = list(SUMMARY_COLUMNS)
    whole, months, quarters = [], [], []
    for rec in _records(summary):
        row = [
            HIDDEN_TEXT if _hidden_in_summary(rec, c, d.patient_level) else rec[c] for c in columns
        ]
        kind = rec["period_type"]
        (whole if kind == "all" else quarters if kind == "quarter" else months).append(row)
    families = []
    for view in site_views:
        if view["summary"] is None:
            continue
        for x in view["recs"]:
            u = x["unmeasurable"]
            families.append(
                [
                    view["site_id"],
                    view["name"],
                    x["id"],
                    x["family"],
                    None if u else _cell(x["sessions"]),
                    None if u else _cell(x["patients"]),
                    None if u else _cell(x["amount"]),
                    None if u else _cell(x["trial"]),
                    currency,
                    u["label"] if u else "",
                    _cell(u["possible"]) if u else None,
                ]
            )
    family_columns = (
        "site_id",
        "site_name",
        "recommendation",
        "family",
        "discordant_sessions",
        "discordant_patients",
        "allowed_amount_discordant",
        "clinical_trial_sessions",
        "currency",
        "measurable",
        "possible_cases",
    )
    spend = [
        [
            x["id"],
            x["family"],
            None if x["unmeasurable"] else _cell(x["sessions"]),
            None if x["unmeasurable"] else _cell(x["amount"]),
            currency,
            x["unmeasurable"]["label"] if x["unmeasurable"] else "",
            _cell(x["unmeasurable"]["possible"]) if x["unmeasurable"] else None,
        ]
        for x in network_spend
    ]
    if network is not None:
        spend.append(
            [
                "all",
                "all discordant sessions",
                _cell(network["sessions_discordant"]),
                _cell(network["allowed_amount_discordant"]),
                currency,
                "",
                None,
            ]
        )
    quality = [["check", c["check"], c["code"], _cell(c["count"]), c["note"]] for c in checks]
    quality += [["reconciliation", r["table"], r["item"], _cell(r["value"]), ""] for r in recon]
    return [
        about,
        Sheet("Sites", "Sites, whole audit period", columns, whole, hidden_note),
        Sheet(
            "Months",
            "Sites by calendar month (history_month: the trend's months before the audit period)",
            columns,
            months,
            hidden_note,
        ),
        Sheet("Quarters", "Sites by calendar quarter (the trend)", columns, quarters, hidden_note),
        Sheet(
            "Families",
            "Sites by recommendation and procedure family, whole audit period",
            family_columns,
            families,
            hidden_note,
        ),
        Sheet(
            "Spend",
            "Network spend on discordant sessions by recommendation",
            (
                "recommendation",
                "family",
                "discordant_sessions",
                "allowed_amount_discordant",
                "currency",
                "measurable",
                "possible_cases",
            ),
            spend,
            hidden_note + " Monthly amounts per site: sheet Months.",
        ),
        Sheet(
            "Data quality",
            "Data-quality checks and reconciliation of input rows (published counts)",
            ("kind", "check or table", "code or item", "count", "note"),
            quality,
            hidden_note,
        ),
    ]


def _hidden_in_summary(rec: Mapping[str, Any], column: str, patient_level: bool = True) -> bool:
    """A blank site_summary cell that is hidden, not merely not available: a count (counts
    always exist in a row; patient counts only when the run is patient-level), a rate of a
    hidden count, or the amount of hidden discordant sessions."""
    patients = PATIENT_COLUMNS if patient_level else []
    if column in (*patients, *SESSION_COLUMNS):
        return rec[column] is None
    if column in ("concordance", "concordance_ci_low", "concordance_ci_high"):
        return bool(patients) and any(rec[c] is None for c in patients)
    return column == "allowed_amount_discordant" and rec["sessions_discordant"] is None


def _public_value(value: Any) -> int | str | None:
    """A published count for JSON: the number, "*" when hidden, null when not available."""
    if value is HIDDEN:
        return "*"
    return int(value) if is_number(value) else None


def public_manifest(
    d: Disclosed,
    context: Mapping[str, Any],
    network: Mapping[str, Any] | None,
    checks: Sequence[Mapping[str, Any]],
    recon: Sequence[Mapping[str, Any]],
    outputs: Sequence[str],
    network_spend: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The shareable manifest: what was run and the published figures, nothing more.

    ``network_spend`` (the index's spend table) adds the currency and the rows not measurable
    from procedure codes with their published possible cases.

    Tool, pack, settings, the audit period as the pages show it, the input format and the
    canonical tables read, the suppression profile; then network figures, the data-quality
    and reconciliation tables, all as published (from the one disclosure pass, so a hidden
    cell here is hidden on the pages too). No file names, no quarantine details, no exact
    count the pages hide: those stay in the internal manifest.
    """
    pack = dict(context.get("pack") or {})
    published: dict[str, Any] = {"sites": len(d.sites)}
    if network is not None:
        published["network"] = {
            c: _public_value(network[c]) for c in (*_row_cols(d.patient_level),)
        }
        published["network_out_of_population_by_reason"] = [
            {
                "reason": r,
                "label": d.reason_labels[r],
                "sessions": _public_value(d.get(("network_reason", r))),
            }
            for r in d.reasons
        ]
        published["network_in_population_sessions"] = _public_value(
            d.get(("network_in_population",))
        )
        published["network_by_recommendation"] = [
            {
                "recommendation": rec_id,
                "family": fam,
                "family_label": d.family_labels.get(fam, fam),
                "discordant_sessions": _public_value(
                    d.get(("network_recommendation", rec_id, fam, "d"))
                ),
                "clinical_trial_sessions": _public_value(
                    d.get(("network_recommendation", rec_id, fam, "ct"))
                ),
            }
            for rec_id, fam, _ in d.rec_rows
        ]
        published["network_clinical_trial_no_recommendation"] = _public_value(
            d.get(("network_trial_no_recommendation",))
        )
        if d.network_quarters:  # the index's network trend table, as published
            published["network_quarters"] = [
                {"quarter": f"{q.year}-Q{(q.month - 1) // 3 + 1}"}
                | {
                    c: _public_value(view[c])
                    for c in _row_cols(d.patient_level)
                    if c not in SESSION_COLUMNS[2:]  # the measures of the index's table
                }
                for q in d.network_quarters
                for view in (d.network_quarter_view(q),)
            ]
    if network_spend:
        published["currency"] = d.currency
        published["network_not_measurable"] = [
            {
                "recommendation": x["id"],
                "family_label": x["family"],
                "label": x["unmeasurable"]["label"],
                "possible_case": x["unmeasurable"]["possible_case_label"],
                "possible_cases": _public_value(x["unmeasurable"]["possible"]),
            }
            for x in network_spend
            if x["unmeasurable"]
        ]
    published["data_quality"] = [
        {"check": c["check"], "check_id": c.get("check_id", ""), "code": c["code"]}
        | {"count": _public_value(c["count"])}
        | {"note": c["note"]}
        for c in checks
    ]
    published["reconciliation"] = [
        {"table": r["table"], "item": r["item"], "rows": _public_value(r["value"])} for r in recon
    ]
    return {
        "manifest": "public: aggregate figures after disclosure control; safe to share",
        "tool": {"name": "spine-audit", "version": str(context.get("tool_version") or "")},
        "pack": {k: pack[k] for k in sorted(pack) if isinstance(pack[k], str | int | float)},
        "settings": dict(context.get("settings") or {}),
        "period": {
            "from": context.get("period_from"),
            "to": context.get("period_to"),
            "shown_as": _period_label(context, d.sites),
        },
        "input_format": context.get("input_format"),
        "input_tables": [
            str(t) for t in (context.get("reconciliation") or {}) if str(t) in _TABLES
        ],
        "suppression": {
            "profile": d.profile.name,
            "threshold": d.profile.threshold,
            "rounding": d.profile.rounding,
            "rule": d.profile.describe(),
        },
        "diagnoses_have_site_ids": d.patient_level,
        "published": published,
        "outputs": list(outputs),
    }
