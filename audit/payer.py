"""Spend and providers for payers, and the case list for clinical review (issue 12).

Why a module of its own: the provider table is a second table of counts with its own
disclosure pass (:func:`disclose_providers`), so it can never change a cell of the site tables;
the possible cases of recommendations no code can trigger get their own pass too
(:func:`disclose_possible_cases`); the case list (:func:`case_list_table`) is row-level and
internal. Everything here works on report-sized frames the SQL steps made (``provider_spend``,
``unmeasurable_possible_cases``, ``case_list``); nothing reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audit.csvfile import write_csv
from audit.disclosure import HIDDEN, Profile, suppress_cells

AMOUNT_DECIMALS = 2
PROVIDER_ROLES = ("rendering", "billing")
ALL = "all"  # recommendation and family of a provider's row over all its recommendations

# internal/providers.csv and .parquet, in this column order (docs/outputs.md)
PROVIDER_SCHEMA = pa.schema(
    [
        ("site_id", pa.string()),
        ("period_type", pa.string()),
        ("period_start", pa.date32()),
        ("provider_role", pa.string()),
        ("provider_id", pa.string()),
        ("recommendation", pa.string()),
        ("family", pa.string()),
        ("discordant_sessions", pa.int64()),
        ("discordant_patients", pa.int64()),
        ("allowed_amount_discordant", pa.float64()),
        ("currency", pa.string()),
        ("suppression_profile", pa.string()),
        ("cells_suppressed", pa.int64()),
    ]
)
PROVIDER_COLUMNS = tuple(PROVIDER_SCHEMA.names)
_PROVIDER_KEY = ("site_id", "provider_role", "provider_id", "recommendation", "family")

# internal/case_list.csv and .parquet, in this column order (docs/outputs.md)
CASE_LIST_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("site_id", pa.string()),
        ("session_date", pa.date32()),
        ("family", pa.string()),
        ("family_label", pa.string()),
        ("recommendation", pa.string()),
        ("recommendation_pain_type", pa.string()),
        ("evidence", pa.string()),
        ("codes", pa.list_(pa.string())),
        ("code_descriptions", pa.list_(pa.string())),
        ("indication_codes", pa.list_(pa.string())),
        ("indication_descriptions", pa.list_(pa.string())),
        ("pain_types", pa.list_(pa.string())),
        ("region", pa.string()),
        ("chronic_evidence_code", pa.string()),
        ("chronic_evidence_description", pa.string()),
        ("chronic_evidence_date", pa.date32()),
        ("history_start", pa.date32()),
        ("age", pa.int64()),
        ("line_count", pa.int64()),
        ("merged_families", pa.list_(pa.string())),
        ("allowed_amount", pa.float64()),
        ("currency", pa.string()),
        ("source_ids", pa.list_(pa.string())),
        ("provider_ids", pa.list_(pa.string())),
        ("billing_provider_ids", pa.list_(pa.string())),
        ("recommendation_summary", pa.string()),
    ]
)
CASE_LIST_COLUMNS = tuple(CASE_LIST_SCHEMA.names)
LIST_SEPARATOR = "; "


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value: Any) -> str | None:
    return None if _missing(value) else str(value)


def _amount(value: Any) -> float | None:
    if _missing(value):
        return None
    return round(float(value), AMOUNT_DECIMALS) + 0.0


def _date(value: Any) -> date | None:
    if _missing(value):
        return None
    return pd.Timestamp(value).date()


def _list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [str(v) for v in value]


# ----------------------------------------------------------------------------- providers
def disclose_providers(frame: pd.DataFrame, profile: Profile, currency: str) -> pd.DataFrame:
    """The provider table as it is written: counts through ``profile`` in a disclosure pass of
    their own (so the site tables keep their published values), amounts hidden with their
    sessions.

    Cells: each row's discordant sessions and discordant patients. Relations a reader knows:
    a provider's sessions over the months of the audit period add up to its whole-period
    sessions (a session has one date); its rows by recommendation add up to its row over all
    recommendations (``all``); patients are at most sessions. Sessions of a site's
    providers do not add up to the site's (a session counts for every provider on its lines),
    so they are not tied to the site tables.
    """
    rows = _records(frame)
    values: dict[Hashable, int] = {}
    at_most: list[tuple[Hashable, Hashable]] = []
    series: dict[tuple, dict[str, list[Hashable]]] = {}
    for i, r in enumerate(rows):
        values[(i, "s")] = int(r["discordant_sessions"])
        values[(i, "p")] = int(r["discordant_patients"])
        at_most.append(((i, "p"), (i, "s")))
        key = tuple(_text(r[c]) for c in _PROVIDER_KEY)
        part = "all" if r["period_type"] == "all" else "month"
        series.setdefault(key, {"all": [], "month": []})[part].append((i, "s"))
    groups = [
        [*parts["all"], *parts["month"]]
        for parts in series.values()
        if len(parts["all"]) == 1 and parts["month"]
    ]
    by_provider: dict[tuple, dict[str, list[Hashable]]] = {}
    for i, r in enumerate(rows):
        key = tuple(
            _text(r[c])
            for c in ("site_id", "period_type", "period_start", "provider_role", "provider_id")
        )
        part = "total" if r["recommendation"] == ALL else "parts"
        by_provider.setdefault(key, {"total": [], "parts": []})[part].append((i, "s"))
    groups += [
        [*parts["total"], *parts["parts"]]
        for parts in by_provider.values()
        if len(parts["total"]) == 1 and parts["parts"]
    ]
    published = suppress_cells(values, groups, profile, at_most)
    out: dict[str, list[Any]] = {c: [] for c in PROVIDER_COLUMNS}
    for i, r in enumerate(rows):
        sessions, patients = published[(i, "s")], published[(i, "p")]
        out["site_id"].append(_text(r["site_id"]))
        out["period_type"].append(_text(r["period_type"]))
        out["period_start"].append(_date(r["period_start"]))
        out["provider_role"].append(_text(r["provider_role"]))
        out["provider_id"].append(_text(r["provider_id"]))
        out["recommendation"].append(_text(r["recommendation"]))
        out["family"].append(_text(r["family"]))
        out["discordant_sessions"].append(sessions)
        out["discordant_patients"].append(patients)
        out["allowed_amount_discordant"].append(
            None if sessions is None else _amount(r["allowed_amount"])
        )
        out["currency"].append(currency)
        out["suppression_profile"].append(profile.name)
        out["cells_suppressed"].append(int(sessions is None) + int(patients is None))
    return pd.DataFrame(
        {
            f.name: pd.Series(
                out[f.name],
                dtype="Int64"
                if pa.types.is_integer(f.type)
                else "Float64"
                if pa.types.is_floating(f.type)
                else "object",
            )
            for f in PROVIDER_SCHEMA
        }
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    if frame is None or not len(frame):
        return []
    columns = [str(c) for c in frame.columns]
    data = [[None if v is pd.NA else v for v in frame[c].tolist()] for c in frame.columns]
    return [dict(zip(columns, values, strict=True)) for values in zip(*data, strict=True)]


def write_table(frame: pd.DataFrame, schema: pa.Schema, folder: Path, stem: str) -> list[Path]:
    """``<stem>.parquet`` (typed, zstd) and ``<stem>.csv`` (formula-safe text, lists joined
    with ``"; "``, amounts with two decimals) of one table."""
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    parquet = folder / f"{stem}.parquet"
    pq.write_table(table, parquet, compression="zstd")
    csv_path = folder / f"{stem}.csv"
    kinds = [_csv_kind(f.type) for f in schema]
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = (
        [_csv_value(v, k) for v, k in zip(r, kinds, strict=True)]
        for r in zip(*columns, strict=True)
    )
    write_csv(csv_path, schema.names, rows)
    return [csv_path, parquet]


def _csv_kind(column_type: pa.DataType) -> str:
    """How a column's values are written as CSV text (decided once per column, not per cell)."""
    if pa.types.is_list(column_type):
        return "list"
    if pa.types.is_floating(column_type):
        return "amount"
    if pa.types.is_date(column_type):
        return "date"
    return "plain"


def _csv_value(v: Any, kind: str) -> Any:
    if v is None or kind == "plain":
        return v
    if kind == "list":
        return LIST_SEPARATOR.join(str(x) for x in v)
    if kind == "amount":
        return f"{float(v):.{AMOUNT_DECIMALS}f}"
    return v.isoformat()


# ----------------------------------------------------------------------------- case list
def evidence_text(r: Mapping[str, Any]) -> str:
    """What decided the outcome of one discordant session, in words (measure 3.5 rule 9, with
    the rules 1-8 it passed that rest on evidence: the indication and its chronicity)."""
    rec = _text(r.get("recommendation")) or ""
    family = _text(r.get("family_label")) or _text(r.get("family")) or ""
    pain = _text(r.get("recommendation_pain_type")) or ""
    indications = _list(r.get("indication_descriptions")) or _list(r.get("indication_codes"))
    text = (
        f"Rule 9, discordant: {rec} advises against {family} for chronic "
        f"{pain.lower()} spine pain; {pain.lower()} indication: "
        + (", ".join(indications) or "none recorded")
        + "."
    )
    chronic = _text(r.get("chronic_evidence_code"))
    if chronic:
        description = _text(r.get("chronic_evidence_description"))
        when = _date(r.get("chronic_evidence_date"))
        text += (
            f" Chronic (rule 7): {chronic}"
            + (f" ({description})" if description else "")
            + (f" on {when.isoformat()}" if when else "")
            + "."
        )
    return text + " No exclusion (rules 1-6) and no clinical-trial marker (rule 8) applied."


def case_list_table(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The case list as it is written: the case_list step's rows with the evidence in words and
    the currency of the amounts."""
    rows = _records(frame)
    out: dict[str, list[Any]] = {c: [] for c in CASE_LIST_COLUMNS}
    for r in rows:
        for f in CASE_LIST_SCHEMA:
            c = f.name
            if c == "evidence":
                out[c].append(evidence_text(r))
            elif c == "currency":
                out[c].append(currency)
            elif pa.types.is_list(f.type):
                out[c].append(_list(r.get(c)))
            elif pa.types.is_date(f.type):
                out[c].append(_date(r.get(c)))
            elif pa.types.is_integer(f.type):
                out[c].append(None if _missing(r.get(c)) else int(r[c]))
            elif pa.types.is_floating(f.type):
                out[c].append(_amount(r.get(c)))
            else:
                out[c].append(_text(r.get(c)))
    return pd.DataFrame({c: pd.Series(out[c], dtype="object") for c in CASE_LIST_COLUMNS})


# ----------------------------------------------------------------------------- honest rows
@dataclass(frozen=True)
class Unmeasurable:
    """A recommendation the pack says no procedure code can trigger, as the reports show it."""

    recommendation: str
    family: str
    label: str  # "not measurable from procedure codes"
    possible_case_label: str  # "unlisted 64999 with a radicular indication"
    meaning: str  # what the count of possible cases means


def unmeasurable_rows(frame: pd.DataFrame | None) -> dict[tuple[str, str], Unmeasurable]:
    """The pack's unmeasurable recommendations, keyed by (recommendation, family)."""
    out: dict[tuple[str, str], Unmeasurable] = {}
    for r in _records(frame) if frame is not None else []:
        key = (str(r["recommendation_id"]), str(r["family"]))
        out[key] = Unmeasurable(
            key[0],
            key[1],
            _text(r.get("label")) or "not measurable from procedure codes",
            _text(r.get("possible_case_label")) or "",
            _text(r.get("meaning")) or "",
        )
    return out


def disclose_possible_cases(
    frame: pd.DataFrame | None,
    site_ids: Iterable[str],
    keys: Sequence[tuple[str, str]],
    profile: Profile,
) -> dict[Hashable, Any]:
    """Published possible cases per site and for the network (the sum over ``site_ids``, the
    sites with a page), in a disclosure pass of their own: they are tied to no other published
    count. Keys ``("possible", site, rec, family)`` and ``("network_possible", rec, family)``;
    values an int or HIDDEN."""
    counts: dict[tuple[str, str, str], int] = {}
    for r in _records(frame) if frame is not None else []:
        key = (str(r["site_id"]), str(r["recommendation"]), str(r["family"]))
        counts[key] = counts.get(key, 0) + int(r["possible_cases"])
    sites = list(site_ids)
    values: dict[Hashable, int] = {}
    groups: list[list[Hashable]] = []
    for rec, fam in keys:
        cells = [("possible", sid, rec, fam) for sid in sites]
        for sid in sites:
            values[("possible", sid, rec, fam)] = counts.get((sid, rec, fam), 0)
        total = ("network_possible", rec, fam)
        values[total] = sum(values[c] for c in cells)
        groups.append([total, *cells])
    published = suppress_cells(
        values, groups, profile, keep=[k for k in values if k[0] != "possible"]
    )
    return {k: HIDDEN if v is None else v for k, v in published.items()}
