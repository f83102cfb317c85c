"""The network view of the index page: the funnel plot section and its data table.

Why here and not in audit/report.py: the report module owns disclosure; this module only
reads what it has published (the site rows and the network row, after suppression) and lays
out the funnel. A site whose numerator or denominator is hidden is left out of the plot and
counted, never placed: the chart shows nothing the tables do not.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from audit.charts import funnel_chart
from audit.disclosure import HIDDEN, is_number
from audit.funnel import LEVELS, build
from audit.resources import data_dir

FLAG_TEXT = {
    ("alarm", "low"): "Alarm: below the 99.8% limit",
    ("alert", "low"): "Alert: below the 95% limit",
    ("alarm", "high"): "Alarm: above the 99.8% limit",
    ("alert", "high"): "Alert: above the 95% limit",
}
MODEL_TEXT = {
    "none": "exact binomial limits (no overdispersion adjustment)",
    "multiplicative": "limits widened by the multiplicative overdispersion factor",
    "additive": "limits widened by an additive random-effects model (DerSimonian-Laird)",
}


@lru_cache(maxsize=1)
def _check_labels() -> dict[str, str]:
    with (data_dir() / "check_labels.csv").open(encoding="utf-8", newline="") as fh:
        return {row["check"]: row["label"] for row in csv.DictReader(fh)}


def check_label(check: str) -> str:
    """A data-quality check as a reader names it (audit/data/check_labels.csv); a check the
    file does not name yet is shown by its name, underscores as spaces."""
    labels = _check_labels()
    if check in labels:
        return labels[check]
    for prefix, label in labels.items():  # near_miss_index_code_<pattern>
        if check.startswith(prefix.rstrip("s") + "_"):
            return f"{label} ({check[len(prefix.rstrip('s')) + 1 :].replace('_', ' ')})"
    return check.replace("_", " ")


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def funnel_view(
    sites: Sequence[Mapping[str, Any]],
    network: Mapping[str, Any] | None,
    *,
    method: str,
    enabled: bool,
) -> dict[str, Any] | None:
    """The funnel section of the index, from published counts only; None when there is
    nothing to plot (no network row, no patient-level counts); ``{"reason": ...}`` when the
    network rate itself is hidden or has no patients."""
    if not enabled or network is None:
        return None
    net_n, net_d = network.get("in_population_patients"), network.get("discordant_patients")
    if net_n is HIDDEN or net_d is HIDDEN:
        return {"reason": "the network's patient counts are hidden by disclosure control"}
    if not (is_number(net_n) and is_number(net_d)) or int(net_n) <= 0:
        return {"reason": "the network has no in-population patients"}
    target = 1.0 - int(net_d) / int(net_n)
    plotted, hidden, empty = [], 0, 0
    by_key: dict[str, Mapping[str, Any]] = {}
    for s in sites:
        row = s.get("summary")
        if row is None:
            empty += 1
            continue
        n, d = row["in_population_patients"], row["discordant_patients"]
        if n is HIDDEN or d is HIDDEN:
            hidden += 1
            continue
        if not (is_number(n) and is_number(d)) or int(n) <= 0:
            empty += 1
            continue
        by_key[s["site_id"]] = s
        plotted.append((str(s["site_id"]), int(n) - int(d), int(n)))
    f = build(plotted, target, method)
    names = {k: str(s["name"]) for k, s in by_key.items()}
    rows = []
    for p in f.points:
        s = by_key[p.key]
        rows.append(
            {
                "name": s["name"],
                "site_id": p.key,
                "href": s["href"],
                "flag": p.flag,
                "flag_text": FLAG_TEXT.get((p.flag, p.direction), "Inside the limits"),
                "in_population_patients": p.n,
                "discordant_patients": p.n - p.successes,
                "concordance": _pct(p.rate),
                "limits": {label: tuple(_pct(v) for v in p.limits[label]) for label, *_ in LEVELS},
            }
        )
    disp = f.dispersion
    return {
        "reason": None,
        "chart": funnel_chart(f, names, title="Funnel plot: patient concordance by site size")
        if f.points
        else None,
        "rows": rows,
        "target": _pct(target),
        "method": method,
        "applied": f.applied,
        "model": MODEL_TEXT[f.applied],
        "phi": None if disp.phi is None else f"{disp.phi:.2f}",
        "tau2": None if disp.tau2 is None else f"{disp.tau2:.4f}",
        "overdispersed": disp.overdispersed,
        "dispersion_sites": disp.sites,
        "plotted": len(rows),
        "hidden": hidden,
        "empty": empty,
        "alarms": sum(r["flag"] == "alarm" for r in rows),
        "alerts": sum(r["flag"] == "alert" for r in rows),
    }


def funnel_manifest(view: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The funnel as the public manifest records it: method, target and the flags (the counts
    are the site rows' published counts, already in site_summary)."""
    if view is None or view["reason"]:
        return None
    return {
        "measure": "patient concordance: 1 - discordant patients / in-population patients",
        "target": view["target"],
        "overdispersion_setting": view["method"],
        "limits_drawn_by": view["applied"],
        "phi": view["phi"],
        "tau2": view["tau2"],
        "sites_plotted": view["plotted"],
        "sites_left_out_hidden_counts": view["hidden"],
        "sites_left_out_no_patients": view["empty"],
        "flags": [
            {"site_id": r["site_id"], "flag": r["flag"], "text": r["flag_text"]}
            for r in view["rows"]
            if r["flag"]
        ],
    }
