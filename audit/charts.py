"""Inline SVG charts built from already-published (suppressed, rounded) aggregate values.

Why hand-built SVG: pages must work offline with no scripts or external assets, render 1,000
sites in seconds, and be byte-identical across runs; a plotting library brings none of that.
Inputs are published values only - an int/float, ``None`` (no data) or ``HIDDEN`` - so a chart
can never show more than the tables do. A hidden point is a gap marked ``*``, never a zero.
All text passes through ``markupsafe.escape``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from audit.disclosure import HIDDEN, is_number
from audit.funnel import Funnel

WIDTH = 720
HEIGHT = 210
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 14, 40
INK = "#1f2933"
GRID = "#d9dee4"
MUTED = "#52606d"  # 6.4:1 on white (WCAG AA needs 4.5:1 for text)
# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), always paired
# with a second cue: line dashes for the limits, marker shapes for the flags, position for the
# waterfall's totals (on the axis) and steps (hanging from the level before them)
OI_BLUE = "#0072B2"  # 5.2:1 on white (WCAG 1.4.11 needs 3:1 for marks)
OI_SKY = "#56B4E9"
OI_ORANGE = "#E69F00"
OI_VERMILLION = "#D55E00"  # 4.9:1 on white
BAR = OI_VERMILLION  # counts of discordant sessions
LINE = OI_BLUE  # rates, and the waterfall's totals
BAND = "#9aa5b1"  # the network band, grey behind the site's line


def _f(value: float) -> str:
    """Fixed coordinate formatting keeps output byte-identical and small."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_step(maximum: float, ticks: int = 4, integer: bool = True) -> float:
    """A 1-2-2.5-5 step that covers ``maximum`` in about ``ticks`` intervals."""
    if maximum <= 0:
        return 1.0
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw and (not integer or step == int(step)):
            return step
    return 10 * magnitude


def _frame(
    labels: Sequence[str], y_ticks: list[tuple[float, str]], title: str, desc: str
) -> tuple[list[str], float, float]:
    """Open the SVG, draw the grid, y labels and x labels; return parts, band and plot height."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    n = max(len(labels), 1)
    band = plot_w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="{escape(title)}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(desc)}</desc>",
    ]
    for frac, text in y_ticks:
        y = TOP + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{_f(y + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{escape(text)}</text>"
        )
    every = max(1, math.ceil(len(labels) / 12))
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + band * (i + 0.5)
        parts.append(
            f'<text x="{_f(x)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'fill="{MUTED}">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        f'stroke="{INK}" stroke-width="1"/>'
    )
    return parts, band, plot_h


def _gap_mark(x: float, plot_h: float, label: str, what: str) -> str:
    """A hidden point: an asterisk on the baseline, with a tooltip saying why it is missing."""
    return (
        f'<text x="{_f(x)}" y="{_f(TOP + plot_h - 4)}" text-anchor="middle" fill="{MUTED}" '
        f'font-size="13"><title>{escape(label)}: {escape(what)} hidden</title>*</text>'
    )


def _band(
    labels: Sequence[str],
    network: Sequence[tuple[float, float, float] | None],
    band: float,
    y_of: Any,
) -> list[str]:
    """The network band: one polygon and one dashed median per run of labels that have one."""
    parts: list[str] = []
    runs: list[list[tuple[float, tuple[float, float, float], str]]] = [[]]
    for i, (label, b) in enumerate(zip(labels, network, strict=True)):
        if b is None:
            runs.append([])
            continue
        runs[-1].append((LEFT + band * (i + 0.5), b, label))
    for run in runs:
        if not run:
            continue
        if len(run) == 1:  # one period: a short bar
            x, (lo, med, hi), _ = run[0]
            run = [(x - band * 0.3, (lo, med, hi), ""), (x + band * 0.3, (lo, med, hi), "")]
        upper = [f"{_f(x)},{_f(y_of(b[2]))}" for x, b, _ in run]
        lower = [f"{_f(x)},{_f(y_of(b[0]))}" for x, b, _ in reversed(run)]
        parts.append(
            f'<polygon points="{" ".join(upper + lower)}" fill="{BAND}" fill-opacity="0.3" '
            'stroke="none"/>'
        )
        parts.append(
            f'<polyline points="{" ".join(f"{_f(x)},{_f(y_of(b[1]))}" for x, b, _ in run)}" '
            f'fill="none" stroke="{MUTED}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    return parts


def _network_line(
    labels: Sequence[str], rates: Sequence[float | None], band: float, y_of: Any
) -> list[str]:
    """The network's rate per label: an orange line (broken where it has none) with square
    markers, each titled ``Network, <label>: <rate>``."""
    parts: list[str] = []
    runs: list[list[str]] = [[]]
    marks: list[str] = []
    for i, (label, rate) in enumerate(zip(labels, rates, strict=True)):
        if not isinstance(rate, float):
            runs.append([])
            continue
        x, y = LEFT + band * (i + 0.5), y_of(rate)
        runs[-1].append(f"{_f(x)},{_f(y)}")
        marks.append(
            f'<rect x="{_f(x - 3)}" y="{_f(y - 3)}" width="6" height="6" fill="{OI_ORANGE}" '
            f'stroke="{INK}" stroke-width="0.5"><title>Network, {escape(label)}: {rate:.1%}'
            "</title></rect>"
        )
    for run in runs:
        if len(run) > 1:
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{OI_ORANGE}" '
                'stroke-width="1.5"/>'
            )
    return parts + marks


def bar_chart(
    labels: Sequence[str], values: Sequence[Any], *, title: str, unit: str, per: str = "month"
) -> Markup:
    """Bars of published counts per label; HIDDEN -> ``*`` gap, None -> empty gap."""
    numbers = [float(v) for v in values if is_number(v)]
    top = max(numbers, default=0.0)
    step = nice_step(top)
    y_max = step * max(1, math.ceil(top / step))
    ticks = [(k * step / y_max, f"{int(k * step):,}") for k in range(int(y_max / step) + 1)]
    desc = f"{unit} per {per}; * marks a hidden {per} (a gap, not a zero)."
    parts, band, plot_h = _frame(labels, ticks, title, desc)
    width = band * 0.7
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + band * i + (band - width) / 2
        if value is HIDDEN:
            parts.append(_gap_mark(x + width / 2, plot_h, label, unit))
            continue
        if not is_number(value):
            continue
        h = plot_h * float(value) / y_max
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(TOP + plot_h - h)}" width="{_f(width)}" '
            f'height="{_f(h)}" fill="{BAR}"><title>{escape(label)}: '
            f"{float(value):,.0f} {escape(unit)}</title></rect>"
        )
    parts.append("</svg>")
    # S704: SVG built by this module; every text part went through markupsafe.escape
    return Markup("".join(parts))  # noqa: S704


def rate_chart(
    labels: Sequence[str],
    points: Sequence[Any],
    *,
    title: str,
    unit: str,
    per: str = "month",
    network: Sequence[tuple[float, float, float] | None] | None = None,
    network_line: Sequence[float | None] | None = None,
) -> Markup:
    """Line of published rates (0-1) with interval whiskers; segments break at every gap.

    ``points`` items are ``(rate, low, high)``, ``HIDDEN`` (``*`` gap) or ``None`` (no data).
    ``network``, when given: per label ``(p10, median, p90)`` of the sites' published rates or
    None, drawn behind the line as a grey band with a dashed median (OpenPrescribing's
    convention). ``network_line``, when given: per label the network's own published rate or
    None, drawn behind the line in orange with square markers (shape and colour both tell it
    from the site's line).
    """
    ticks = [(k / 4, f"{k * 25}%") for k in range(5)]
    desc = f"{unit} per {per} with 95% Wilson interval; gaps are hidden or no-data {per}s."
    if network is not None:
        desc += (
            " Grey band: 10th to 90th percentile of the sites' published values; dashed: median."
        )
    if network_line is not None:
        desc += " Orange line with squares: the network's own value."
    parts, band, plot_h = _frame(labels, ticks, title, desc)

    def y_of(rate: float) -> float:
        return TOP + plot_h * (1 - rate)

    if network is not None:
        parts.extend(_band(labels, network, band, y_of))
    if network_line is not None:
        parts.extend(_network_line(labels, network_line, band, y_of))

    markers: list[str] = []
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (label, point) in enumerate(zip(labels, points, strict=True)):
        x = LEFT + band * (i + 0.5)
        if not isinstance(point, tuple):
            if segment:
                segments.append(segment)
            segment = []
            if point is HIDDEN:
                parts.append(_gap_mark(x, plot_h, label, unit))
            continue
        rate, low, high = point
        segment.append(f"{_f(x)},{_f(y_of(rate))}")
        markers.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(y_of(low))}" y2="{_f(y_of(high))}" '
            f'stroke="{LINE}" stroke-opacity="0.45" stroke-width="2"/>'
        )
        markers.append(
            f'<circle cx="{_f(x)}" cy="{_f(y_of(rate))}" r="3" fill="{LINE}">'
            f"<title>{escape(label)}: {rate:.1%} ({low:.1%} to {high:.1%})</title></circle>"
        )
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            parts.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{LINE}" '
                'stroke-width="1.5"/>'
            )
    parts.extend(markers)
    parts.append("</svg>")
    # S704: SVG built by this module; every text part went through markupsafe.escape
    return Markup("".join(parts))  # noqa: S704


FUNNEL_HEIGHT = 380
FUNNEL_BOTTOM = 72  # x labels, the axis title and the legend below the plot
FUNNEL_RIGHT = 30  # room for the last x label
FUNNEL_LABELS = 12  # flagged sites named in the chart (all are in the table below it)


def _marker(flag: str, x: float, y: float) -> str:
    """Circle inside the limits, triangle for an alert, diamond for an alarm."""
    if flag == "alarm":
        pts = f"{_f(x)},{_f(y - 6)} {_f(x + 6)},{_f(y)} {_f(x)},{_f(y + 6)} {_f(x - 6)},{_f(y)}"
        return f'<polygon points="{pts}" fill="{OI_VERMILLION}" stroke="{INK}" stroke-width="1"'
    if flag == "alert":
        pts = f"{_f(x)},{_f(y - 5.5)} {_f(x + 5.5)},{_f(y + 4.5)} {_f(x - 5.5)},{_f(y + 4.5)}"
        return f'<polygon points="{pts}" fill="{OI_ORANGE}" stroke="{INK}" stroke-width="1"'
    return (
        f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="{OI_SKY}" fill-opacity="0.8" '
        f'stroke="{OI_BLUE}" stroke-width="1"'
    )


def funnel_chart(funnel: Funnel, names: dict[str, str], *, title: str) -> Markup:
    """Concordance of each plotted site against its in-population patients, with the target
    line and the 95% (dashed) and 99.8% (solid) limit curves; flagged sites are named."""
    height = FUNNEL_HEIGHT
    right = FUNNEL_RIGHT
    plot_w = WIDTH - LEFT - right
    plot_h = height - TOP - FUNNEL_BOTTOM
    largest = max((p.n for p in funnel.points), default=1)
    x_step = nice_step(largest * 1.05)
    x_max = x_step * max(1, math.ceil(largest * 1.05 / x_step))
    # the y range: every point, the target, and the limits from the smallest plotted site on
    smallest = min((p.n for p in funnel.points), default=1)
    ys = [p.rate for p in funnel.points] + [funnel.target]
    for curve in funnel.curves.values():
        ys += [v for n, lo, hi in curve if n >= smallest for v in (lo, hi)]
    y_lo = max(0.0, math.floor(min(ys) * 10) / 10)
    y_hi = min(1.0, math.ceil(max(ys) * 10) / 10)
    if y_hi - y_lo < 0.2:
        y_lo, y_hi = max(0.0, y_hi - 0.2), max(y_hi, 0.2)
    y_tick = 0.05 if y_hi - y_lo <= 0.4 else 0.1

    def px(n: float) -> float:
        return LEFT + plot_w * n / x_max

    def py(rate: float) -> float:
        return TOP + plot_h * (1 - (rate - y_lo) / (y_hi - y_lo))

    desc = (
        f"Funnel plot: concordance of {len(funnel.points)} sites against their in-population "
        f"patients; network concordance {funnel.target:.1%}; dashed lines 95% limits, solid "
        "lines 99.8% limits; triangles are alerts, diamonds alarms. The table below holds the "
        "same figures."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(desc)}</desc>",
    ]
    k = 0
    while y_lo + k * y_tick <= y_hi + 1e-9:
        rate = y_lo + k * y_tick
        y = py(rate)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - right}" y1="{_f(y)}" y2="{_f(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{_f(y + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{rate * 100:.0f}%</text>"
        )
        k += 1
    for i in range(int(round(x_max / x_step)) + 1):
        n = i * x_step
        parts.append(
            f'<text x="{_f(px(n))}" y="{TOP + plot_h + 16}" text-anchor="middle" '
            f'fill="{MUTED}">{n:,.0f}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - right}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        f'stroke="{INK}" stroke-width="1"/>'
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{TOP + plot_h + 32}" text-anchor="middle" '
        f'fill="{MUTED}">'
        "In-population patients (size of the site)</text>"
    )
    for label, dash, colour in (("95%", ' stroke-dasharray="5 4"', OI_BLUE),
                                ("99.8%", "", OI_VERMILLION)):  # fmt: skip
        curve = [(n, lo, hi) for n, lo, hi in funnel.curves.get(label, []) if n <= x_max]
        for side in (1, 2):
            # only the stretches inside the y range (no clip path: no url() in the page)
            runs: list[list[str]] = [[]]
            for c in curve:
                if y_lo - 1e-9 <= c[side] <= y_hi + 1e-9:
                    runs[-1].append(f"{_f(px(c[0]))},{_f(py(c[side]))}")
                elif runs[-1]:
                    runs.append([])
            for run in runs:
                if len(run) > 1:
                    parts.append(
                        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                        f'stroke-width="1.5"{dash}/>'
                    )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - right}" y1="{_f(py(funnel.target))}" '
        f'y2="{_f(py(funnel.target))}" stroke="{INK}" stroke-width="1.2"/>'
    )
    labelled = 0
    # inside points first, flagged ones drawn on top
    for p in sorted(funnel.points, key=lambda p: (bool(p.flag), p.key)):
        x, y = px(p.n), py(p.rate)
        name = names.get(p.key, p.key)
        what = {"alarm": "alarm", "alert": "alert"}.get(p.flag, "inside the limits")
        parts.append(
            f"{_marker(p.flag, x, y)}><title>{escape(name)}: {p.rate:.1%} of {p.n:,} "
            f"({escape(what)})</title></{'polygon' if p.flag else 'circle'}>"
        )
    for p in funnel.points:  # outliers first: the worst are named
        if not p.flag or labelled >= FUNNEL_LABELS:
            continue
        labelled += 1
        x, y = px(p.n), py(p.rate)
        name = names.get(p.key, p.key)
        short = name if len(name) <= 28 else name[:27] + "\u2026"
        anchor, dx = ("end", -8) if x > LEFT + plot_w * 0.7 else ("start", 8)
        parts.append(
            f'<text x="{_f(x + dx)}" y="{_f(y + 4)}" text-anchor="{anchor}" fill="{INK}" '
            'stroke="#fff" stroke-width="3" paint-order="stroke">'
            f"{escape(short)}</text>"
        )
    lx, ly = LEFT + 4, height - 22
    parts.append(
        f'<g font-size="10.5">'
        f'<line x1="{lx}" x2="{lx + 22}" y1="{ly - 2}" y2="{ly - 2}" stroke="{OI_BLUE}" '
        'stroke-width="1.5" stroke-dasharray="5 4"/>'
        f'<text x="{lx + 27}" y="{ly + 2}" fill="{INK}">95% limits</text>'
        f'<line x1="{lx + 100}" x2="{lx + 122}" y1="{ly - 2}" y2="{ly - 2}" '
        f'stroke="{OI_VERMILLION}" stroke-width="1.5"/>'
        f'<text x="{lx + 127}" y="{ly + 2}" fill="{INK}">99.8% limits</text>'
        f'<line x1="{lx + 212}" x2="{lx + 234}" y1="{ly - 2}" y2="{ly - 2}" stroke="{INK}" '
        'stroke-width="1.2"/>'
        f'<text x="{lx + 239}" y="{ly + 2}" fill="{INK}">network rate</text>'
        f"{_marker('', lx + 334, ly - 2)}/>"
        f'<text x="{lx + 342}" y="{ly + 2}" fill="{INK}">inside</text>'
        f"{_marker('alert', lx + 394, ly - 2)}/>"
        f'<text x="{lx + 402}" y="{ly + 2}" fill="{INK}">alert (outside 95%)</text>'
        f"{_marker('alarm', lx + 524, ly - 2)}/>"
        f'<text x="{lx + 532}" y="{ly + 2}" fill="{INK}">alarm (outside 99.8%)</text></g>'
    )
    parts.append("</svg>")
    # S704: SVG built by this module; every text part went through markupsafe.escape
    return Markup("".join(parts))  # noqa: S704
