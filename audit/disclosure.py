"""Statistical disclosure control for every aggregate output (HTML, site_summary, charts).

Why a module of its own: the rules (privacy.md) must be applied once, the same way, to every
number a reader can see, and the same cell must get the same published value in every table
that shows it. Callers describe their counts as *cells* (hashable keys) and the additive
relations between them as *groups*; :func:`suppress_cells` returns the published value of
every cell.

Profiles
--------
``cms`` (default)
    counts 1-10 hidden, zero shown, no rounding (CMS cell-size suppression policy).
``opensafely``
    counts 1-7 hidden, every other count rounded to the nearest 5 (ehrQL measures). ehrQL
    itself publishes 1-7 as 0; we mark them hidden instead, so that a printed 0 is always a
    true zero and never a disguised small count.
``nhs``
    counts 1-7 hidden (shown as ``*``), other counts rounded to the nearest 5 (HES/ECDS).
``none``
    nothing hidden or rounded; every report says "internal QI use only" in its header.

Counts 11-12 (and any count just above the threshold) under a rounding profile
-----------------------------------------------------------------------------
A published count is never allowed to fall at or below the suppression threshold. Rounding is
to the nearest multiple of the base (halves round up), but never below the first multiple of
the base above the threshold: ``published = max(round(x), ceil_to_base(threshold + 1))``.
So with k = 11 (threshold 10) and base 5, 11-12 are shown as 15 (as are 13-17), never as 10;
with threshold 7 and base 5, 8-9 are shown as 10. Rounding 11 down to 10 would print a number
inside the suppressed range, which reads as "a small count exists here" and, set against an
exact total, narrows the hidden values. Rounding to base 10 was rejected for the same reason
(11-14 would print as 10) and because it loses more precision on every other count.

Complementary suppression
-------------------------
Every group of cells that are tied by an additive relation (a row and its total, a column and
its network total, a month series and its whole-period value) must hold either no hidden
cell or at least two. While some group has exactly one hidden cell, its smallest non-zero
published cell is hidden as the complement; this repeats, across all groups at once, until
stable. Primary and complementary hidden cells carry the same mark, so a reader cannot tell
which was small.

Derived figures
---------------
Rates, percentages, intervals and amounts are hidden when a count they derive from is hidden,
and are computed from the published (rounded) counts, never from the raw ones.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
import pandas as pd

Z95: Final = 1.959964


class _Hidden:
    """Marker for a suppressed value in view models (one mark for primary and complement)."""

    _instance: _Hidden | None = None

    def __new__(cls) -> _Hidden:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "HIDDEN"

    def __str__(self) -> str:
        return "*"


HIDDEN: Final = _Hidden()


@dataclass(frozen=True)
class Profile:
    """One disclosure-control profile: which counts are hidden and how the rest are rounded."""

    name: str
    threshold: int  # counts 1..threshold are hidden; 0 hides nothing
    rounding: int  # published counts are rounded to this base; 1 means exact
    source: str  # where the rule comes from, for the report header

    @property
    def internal_only(self) -> bool:
        """True when nothing is hidden: the output is for internal QI use only."""
        return self.threshold <= 0

    @property
    def smallest_published(self) -> int:
        """Smallest non-zero count that may be printed (see module docstring on 11-12)."""
        base = max(self.rounding, 1)
        return -(-(max(self.threshold, 0) + 1) // base) * base

    def hides(self, value: int) -> bool:
        """Primary suppression: a non-zero count at or below the threshold is hidden."""
        return 0 < value <= self.threshold

    def round(self, value: int) -> int:
        """Published value of an unhidden count (zero stays zero)."""
        if value == 0 or self.rounding <= 1:
            return value
        base = self.rounding
        nearest = (value + base // 2) // base * base
        return max(nearest, self.smallest_published)

    def describe(self) -> str:
        """The rule in one line, from the actual threshold and base (overrides included)."""
        if self.internal_only:
            return f"{self.source}: nothing hidden or rounded"
        text = f"{self.source}: counts 1-{self.threshold} hidden, zero shown"
        if self.rounding > 1:
            text += f", other counts rounded to the nearest {self.rounding}"
        return text

    def legend(self) -> str:
        """One sentence for report legends."""
        if self.internal_only:
            return "No small-number suppression applied: for internal QI use only."
        text = (
            f"* hidden: a count from 1 to {self.threshold}, or a cell hidden so that such a "
            "count cannot be worked out from totals. Rates, intervals and amounts that depend "
            "on a hidden count are hidden too."
        )
        if self.rounding > 1:
            text += (
                f" Other counts are rounded to the nearest {self.rounding} (never below "
                f"{self.smallest_published}); rates are computed from the rounded counts."
            )
        return text


PROFILES: Final[dict[str, Profile]] = {
    "cms": Profile("cms", 10, 1, "CMS cell-size suppression policy"),
    "opensafely": Profile("opensafely", 7, 5, "OpenSAFELY ehrQL measures disclosure control"),
    "nhs": Profile("nhs", 7, 5, "NHS HES/ECDS small-number method (since 2018)"),
    "none": Profile("none", 0, 1, "internal QI use only"),
}


def resolve_profile(spec: str | Mapping[str, Any] | Profile | None) -> Profile:
    """The profile named by a settings value, with threshold/rounding overrides applied.

    Accepts a profile name, a ``{"profile", "threshold", "rounding"}`` dict (the manifest's
    ``suppression`` block) or a :class:`Profile`. ``None`` means the default, ``cms``.
    """
    if isinstance(spec, Profile):
        return spec
    if spec is None or isinstance(spec, str):
        spec = {"profile": spec}
    name = spec.get("profile") or "cms"
    if name not in PROFILES:
        raise ValueError(f"unknown suppression profile {name!r}; known: {', '.join(PROFILES)}")
    profile = PROFILES[name]
    threshold = spec.get("threshold")
    rounding = spec.get("rounding")
    if threshold is not None and int(threshold) != profile.threshold:
        profile = replace(profile, threshold=int(threshold))
    if rounding is not None and int(rounding) != profile.rounding:
        profile = replace(profile, rounding=max(int(rounding), 1))
    if profile.threshold < 0:
        raise ValueError("suppression threshold must be >= 0")
    return profile


def wilson_interval(
    successes: Any, n: Any, z: float = Z95
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion; NaN where n is 0 or missing.

    Why Wilson: it stays inside [0, 1] and behaves at 0/n and n/n, where the Wald interval
    collapses to a point. Scalars give floats, arrays/Series give arrays.
    """
    if np.ndim(successes) == 0 and np.ndim(n) == 0:
        return _wilson_scalar(successes, n, z)
    x = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(successes)), errors="coerce"), float)
    m = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(n)), errors="coerce"), float)
    x, m = np.broadcast_arrays(x, m)
    ok = (m > 0) & np.isfinite(m) & np.isfinite(x)
    safe_n = np.where(ok, m, 1.0)
    p = np.where(ok, x, 0.0) / safe_n
    z2 = z * z
    denom = 1.0 + z2 / safe_n
    centre = (p + z2 / (2.0 * safe_n)) / denom
    half = z * np.sqrt(np.clip(p * (1.0 - p) / safe_n + z2 / (4.0 * safe_n**2), 0.0, None))
    half /= denom
    # At 0/n and n/n the bound is exactly 0 or 1; floating error would print 0.9999999.
    low = np.where(x <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(x >= m, 1.0, np.clip(centre + half, 0.0, 1.0))
    low = np.where(ok, low, np.nan)
    high = np.where(ok, high, np.nan)
    return low, high


def _wilson_scalar(successes: Any, n: Any, z: float) -> tuple[float, float]:
    """Scalar path of :func:`wilson_interval` (same formula; reports call it per row)."""
    if successes is None or n is None or pd.isna(successes) or pd.isna(n) or n <= 0:
        return math.nan, math.nan
    x, m = float(successes), float(n)
    p = x / m
    z2 = z * z
    denom = 1.0 + z2 / m
    centre = (p + z2 / (2.0 * m)) / denom
    half = z * math.sqrt(max(p * (1.0 - p) / m + z2 / (4.0 * m * m), 0.0)) / denom
    low = 0.0 if x <= 0 else min(max(centre - half, 0.0), 1.0)
    high = 1.0 if x >= m else min(max(centre + half, 0.0), 1.0)
    return low, high


def suppress_cells(
    values: Mapping[Hashable, int],
    groups: Iterable[Sequence[Hashable]],
    profile: Profile,
) -> dict[Hashable, int | None]:
    """Published value of every cell: ``None`` when hidden, else the (rounded) count.

    ``groups`` lists cells tied by an additive relation (parts and their total, in any
    order). Primary suppression hides counts 1..threshold; then, while a group holds exactly
    one hidden cell, its smallest non-zero unhidden cell (first in group order on ties) is
    hidden too, until stable. Keys in a group that are not in ``values`` are ignored.
    """
    for key, value in values.items():
        if value < 0:
            raise ValueError(f"negative count for cell {key!r}: {value}")
    hidden = {k for k, v in values.items() if profile.hides(int(v))}
    if hidden:
        members = [tuple(dict.fromkeys(k for k in g if k in values)) for g in groups]
        member_of: dict[Hashable, list[int]] = {}
        for i, group in enumerate(members):
            for key in group:
                member_of.setdefault(key, []).append(i)
        n_hidden = [sum(k in hidden for k in g) for g in members]
        todo = [i for i, n in enumerate(n_hidden) if n == 1]
        heapq.heapify(todo)
        while todo:
            i = heapq.heappop(todo)
            if n_hidden[i] != 1:
                continue
            open_cells = [k for k in members[i] if k not in hidden]
            if not open_cells:
                continue
            nonzero = [k for k in open_cells if values[k] != 0]
            complement = min(nonzero or open_cells, key=lambda k: values[k])
            hidden.add(complement)
            for j in member_of[complement]:
                n_hidden[j] += 1
                if n_hidden[j] == 1:
                    heapq.heappush(todo, j)
    return {k: None if k in hidden else profile.round(int(v)) for k, v in values.items()}


def suppress_table(
    frame: pd.DataFrame,
    columns: Sequence[str],
    profile: Profile,
    *,
    row_groups: Sequence[Sequence[str]] | None = None,
    total_row: str | None = None,
    label_column: str | None = None,
) -> pd.DataFrame:
    """Primary + complementary suppression of a simple table of counts.

    Why: the common shape (rows of counts, optional row totals, optional column totals) in
    one call. ``row_groups`` lists column sets tied within each row (e.g. ``[["total", "a",
    "b"]]``); with ``total_row`` a row of column sums is appended (labelled in
    ``label_column``) and each column with its total becomes a group, so the total minus the
    published rows cannot reveal a hidden row. Returns a copy with nullable ``Int64`` counts,
    ``<NA>`` where hidden, plus ``cells_suppressed`` per row.
    """
    data = frame.reset_index(drop=True).copy()
    if total_row is not None:
        totals = {c: int(data[c].sum()) for c in columns}
        if label_column is not None:
            totals[label_column] = total_row
        data = pd.concat([data, pd.DataFrame([totals])], ignore_index=True)
    values: dict[Hashable, int] = {}
    for col in columns:
        for i, v in enumerate(data[col].tolist()):
            values[(i, col)] = int(v)
    groups: list[list[Hashable]] = []
    for i in range(len(data)):
        for cols in row_groups or []:
            groups.append([(i, c) for c in cols])
    if total_row is not None:
        for col in columns:
            groups.append([(i, col) for i in range(len(data))])
    published = suppress_cells(values, groups, profile)
    out = data.copy()
    for col in columns:
        out[col] = pd.array([published[(i, col)] for i in range(len(data))], dtype="Int64")
    out["cells_suppressed"] = out[list(columns)].isna().sum(axis=1).astype("int64")
    return out


def published_rate(numerator: Any, denominator: Any) -> float | None | _Hidden:
    """numerator / denominator from published counts: HIDDEN if either is hidden, None (no
    data, never 100%) if the denominator is 0 or not available."""
    if numerator is HIDDEN or denominator is HIDDEN:
        return HIDDEN
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def concordance(
    discordant: Any, denominator: Any, z: float = Z95
) -> tuple[float, float, float] | None | _Hidden:
    """(rate, low, high) of 1 - discordant/denominator with a Wilson interval, from published
    counts; HIDDEN when either count is hidden, None when there is no denominator."""
    rate = published_rate(discordant, denominator)
    if rate is None or rate is HIDDEN:
        return rate
    low, high = wilson_interval(denominator - discordant, denominator, z)
    return 1.0 - rate, low, high


def is_number(value: Any) -> bool:
    """True for a real, finite number (not HIDDEN, None, NA or NaN)."""
    if value is None or value is HIDDEN or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
