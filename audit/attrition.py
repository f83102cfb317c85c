"""Attrition as a chart and a table: from all counting sessions to discordant ones, for each
site and for the network, and the patient count that is safe to show beside it.

Why a module of its own: the session steps are already published cells (audit.report); this
module draws them (a waterfall of published values only: a hidden step is a ``*`` gap, never a
guess) and adds the patient cell of the first step (patients with a counting session) to the
one disclosure pass. Only that one is counted in patients: patients per out-of-population
reason or per outcome overlap (one patient, several sessions, several outcomes), so they
neither add up nor bound each other, and publishing them beside the session counts let the
linear-programming attack (tests/hostile/attack.py) narrow hidden cells; so did patients with
a discordant session (see :func:`patient_cells`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from audit.charts import GRID, INK, LINE, MUTED, OI_VERMILLION, _f
from audit.disclosure import HIDDEN, is_number

# the published patient cells of a site's attrition: (key suffix, label)
PATIENT_STEPS = (("counting", "Patients with a counting session"),)
# Okabe-Ito orange-red against the blue of totals; told apart without colour too: totals stand
# on the axis, the sessions taken off hang from the level before them
MINUS = OI_VERMILLION


def patient_counts(frame: pd.DataFrame | None) -> dict[str, dict[str, int]]:
    """site -> {"counting": n} from the site_attrition_patients frame."""
    out: dict[str, dict[str, int]] = {}
    if frame is None or not len(frame):
        return out
    for sid, counting in zip(
        frame["site_id"].astype(str), frame["patients_counting"].tolist(), strict=True
    ):
        out[sid] = {"counting": int(counting)}
    return out


def patient_cells(
    counts: Mapping[str, Mapping[str, int]],
    site_ids: Sequence[str],
    session_cell: Callable[[str, str], Hashable],
    rec_patient_cells: Mapping[str, Sequence[Hashable]],
    patient_level: bool,
    values: dict[Hashable, int],
    below: list[tuple[Hashable, Hashable]],
) -> None:
    """Add each site's patient cell (patients with a counting session) and what a reader
    knows of it: at most the site's counting sessions; at least the measure's discordant
    patients and each recommendation row's patients. Each is a floor for the larger cell,
    never a reason to hide the smaller with it: hidden, the patient cell is small itself, so
    every published cell above it is larger than the threshold and every one below it is
    hidden too. Patients with a discordant session are not shown: where a site has one
    recommendation row, they equal that row's patients and pinned it when it was hidden
    (tests/hostile/attack.py); nor patients per reason or outcome in between (they overlap).
    No network cell: patients at several sites make the network's distinct count differ
    from the sum over sites."""
    for sid in site_ids:
        counting = ("attr_patients", sid, "counting")
        values[counting] = counts.get(sid, {}).get("counting", 0)
        below.append((counting, session_cell(sid, "sessions_total")))
        if patient_level:
            below.append((session_cell(sid, "discordant_patients"), counting))
        below.extend((p, counting) for p in rec_patient_cells.get(sid, ()))


def waterfall(steps: Sequence[Mapping[str, Any]], *, title: str) -> Markup | None:
    """A waterfall of published attrition steps (``kind``: start, minus, subtotal, end;
    ``value``: an int, HIDDEN or None): totals stand on the axis, each step taken off floats
    from the level before it down to the level after. A level that cannot be worked out from
    published values (a hidden step before it and no total after) leaves its steps as gaps."""
    if not steps:
        return None
    n = len(steps)
    values = [s["value"] for s in steps]
    top = max((float(v) for v in values if is_number(v)), default=0.0)
    if top <= 0:
        top = 1.0
    width, height = 720, 230
    left, right, upper, bottom = 52, 14, 14, 34
    plot_w, plot_h = width - left - right, height - upper - bottom
    band = plot_w / n
    levels = _levels(steps)

    def y(v: float) -> float:
        return upper + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        "<desc>Sessions at each step of the attrition, in the order of the table below: totals "
        "in blue from the axis, sessions taken off in orange-red from the level before them (a "
        "dashed outline on the axis where that level depends on hidden steps); * marks a "
        "hidden step (a gap, not a zero).</desc>",
        f'<line x1="{left}" x2="{width - right}" y1="{_f(y(0))}" y2="{_f(y(0))}" '
        f'stroke="{INK}" stroke-width="1"/>',
        f'<line x1="{left}" x2="{width - right}" y1="{_f(y(top))}" y2="{_f(y(top))}" '
        f'stroke="{GRID}" stroke-width="1"/>',
        f'<text x="{left - 6}" y="{_f(y(top) + 4)}" text-anchor="end" fill="{MUTED}">'
        f"{int(top):,}</text>",
        f'<text x="{left - 6}" y="{_f(y(0) + 4)}" text-anchor="end" fill="{MUTED}">0</text>',
    ]
    for i, (step, (low, high)) in enumerate(zip(steps, levels, strict=True)):
        x = left + band * i + band * 0.15
        w = band * 0.7
        parts.append(
            f'<text x="{_f(x + w / 2)}" y="{height - bottom + 16}" text-anchor="middle" '
            f'fill="{MUTED}">{i + 1}</text>'
        )
        label = escape(step["label"])
        if is_number(step["value"]) and (low is None or high is None):
            # shown, but its level hangs on a hidden step: drawn on the axis, outlined only
            h = plot_h * float(step["value"]) / top
            parts.append(
                f'<rect x="{_f(x)}" y="{_f(y(0) - h)}" width="{_f(w)}" height="{_f(h)}" '
                f'fill="none" stroke="{MINUS}" stroke-width="1.5" stroke-dasharray="3 2">'
                f"<title>{i + 1}. {label}: {int(step['value']):,} sessions (drawn on the axis: "
                "the level it is taken from depends on hidden steps)</title></rect>"
            )
            continue
        if step["value"] is HIDDEN or low is None or high is None:
            parts.append(
                f'<text x="{_f(x + w / 2)}" y="{_f(y(0) - 4)}" text-anchor="middle" '
                f'fill="{MUTED}" font-size="13"><title>{i + 1}. {label}: hidden</title>*</text>'
            )
            continue
        colour = MINUS if step["kind"] == "minus" else LINE
        h = max(plot_h * (high - low) / top, 0.0)
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(y(high))}" width="{_f(w)}" height="{_f(h)}" '
            f'fill="{colour}"><title>{i + 1}. {label}: {int(step["value"]):,} sessions'
            "</title></rect>"
        )
    parts.append("</svg>")
    # S704: SVG built here; every text part went through markupsafe.escape
    return Markup("".join(parts))  # noqa: S704


def _levels(steps: Sequence[Mapping[str, Any]]) -> list[tuple[float | None, float | None]]:
    """(bottom, top) of each bar from published values only: forwards from each total, then
    backwards from the next total for the steps a hidden one left unplaced."""
    n = len(steps)
    out: list[tuple[float | None, float | None]] = [(None, None)] * n
    level: float | None = None
    for i, s in enumerate(steps):
        v = s["value"]
        known = is_number(v)
        if s["kind"] != "minus":
            level = float(v) if known else None
            out[i] = (0.0, level) if known else (None, None)
        elif known and level is not None:
            out[i] = (level - float(v), level)
            level -= float(v)
        else:
            level = None
    level = None
    for i in range(n - 1, -1, -1):
        s, v = steps[i], steps[i]["value"]
        if s["kind"] != "minus":
            level = float(v) if is_number(v) else None
        elif is_number(v) and level is not None:
            if out[i] == (None, None):
                out[i] = (level, level + float(v))
            level += float(v)
        else:
            level = None
    return out


def network_steps(
    site_steps: Sequence[Any], get: Callable[[Hashable], Any]
) -> list[dict[str, Any]]:
    """The network's attrition: the steps of a site (every site has the same steps) with the
    network's published cells (the sums over the sites of the public manifest)."""
    out = []
    for step in site_steps:
        if step.outcome == "out_of_population":
            key: Hashable = ("network_reason", step.reason)
        elif step.outcome == "in_population":
            key = ("network_in_population",)
        elif step.outcome == "all":
            key = ("network", "sessions_total")
        else:
            key = ("network", f"sessions_{step.outcome}")
        out.append({"kind": step.kind, "label": step.label, "rule": step.rule, "value": get(key)})
    return out
