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

WIDTH = 720
HEIGHT = 210
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 14, 40
INK = "#1f2933"
GRID = "#d9dee4"
MUTED = "#7b8794"
BAR = "#b5473a"
LINE = "#2f6f8f"
BAND = "#9aa5b1"


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
) -> Markup:
    """Line of published rates (0-1) with interval whiskers; segments break at every gap.

    ``points`` items are ``(rate, low, high)``, ``HIDDEN`` (``*`` gap) or ``None`` (no data).
    ``network``, when given: per label ``(p10, median, p90)`` of the sites' published rates or
    None, drawn behind the line as a grey band with a dashed median (OpenPrescribing's
    convention).
    """
    ticks = [(k / 4, f"{k * 25}%") for k in range(5)]
    desc = f"{unit} per {per} with 95% Wilson interval; gaps are hidden or no-data {per}s."
    if network is not None:
        desc += (
            " Grey band: 10th to 90th percentile of the sites' published values; dashed: median."
        )
    parts, band, plot_h = _frame(labels, ticks, title, desc)

    def y_of(rate: float) -> float:
        return TOP + plot_h * (1 - rate)

    if network is not None:
        parts.extend(_band(labels, network, band, y_of))

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
