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
Every group of cells tied by an additive relation (a row and its total, the network row, a
column and its network total, a month series and its whole-period value, the attrition steps,
the rows by recommendation) that holds a hidden cell must hold at least two, and, when its total
is shown, hidden parts whose *free mass* (true value minus what a reader can prove they hold at
least: shown details, shown smaller cells such as patients under sessions, a month row that
exists) adds up to at least the threshold: then subtraction leaves each hidden cell a range at
least as wide as 1..threshold. Complements are chosen to keep the headline figures (the network
row) and the rates (a part whose hiding would hide discordant patients with it comes last).
Primary and complementary hidden cells carry the same mark, so a reader cannot tell which was
small. ``tests/hostile/attack.py`` checks the result the way a reader would attack it: linear
programming over every relation between the published numbers.

Derived figures
---------------
Rates, percentages, intervals and amounts are hidden when a count they derive from is hidden,
and are computed from the published (rounded) counts, never from the raw ones.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
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


Difference = tuple[Hashable, Hashable, Sequence[tuple[Hashable, Hashable]]]


def suppress_cells(
    values: Mapping[Hashable, int],
    groups: Iterable[Sequence[Hashable]],
    profile: Profile,
    at_most: Iterable[tuple[Hashable, Hashable]] = (),
    differences: Iterable[Difference] = (),
    at_least: Mapping[Hashable, int] | None = None,
    below: Iterable[tuple[Hashable, Hashable]] = (),
    keep: Iterable[Hashable] = (),
    keep_total: Iterable[Sequence[Hashable]] = (),
) -> dict[Hashable, int | None]:
    """Published value of every cell: ``None`` when hidden, else the (rounded) count.

    ``groups`` lists cells tied by an additive relation: one total and its parts, in any
    order (the total is the largest cell of the group). What else a reader knows:
    ``at_most`` pairs ``(a, b)`` with ``a <= b`` (patients of a row and its sessions:
    ``a`` is hidden whenever ``b`` is); ``below`` pairs ``(a, b)`` with ``a <= b`` that only
    bound ``b`` from below (the network's discordant patients under its sessions);
    ``keep_total`` lists more groups, whose total is hidden as a complement only when none of
    its parts will do (a site's whole period over its quarters: the months already tie them,
    and the headline figure should not pay for a trend); ``keep``
    cells are hidden as complements only when no other cell will do (the network row);
    ``differences`` ``(A, B, pairs)``: two column totals ``A <= B`` whose rows pair up as
    ``(a, b)`` with ``a <= b`` (discordant patients and sessions over the sites of a network);
    ``at_least`` cells known to hold at least some value (a month row exists only when
    something happened in it). Primary suppression hides counts 1..threshold; complementary
    suppression (:class:`_Complement`) then hides more until no hidden cell can be narrowed
    by a reader below 1..threshold. Keys not in ``values`` are ignored.
    """
    for key, value in values.items():
        if value < 0:
            raise ValueError(f"negative count for cell {key!r}: {value}")
    hidden = {k for k, v in values.items() if profile.hides(int(v))}
    if hidden:
        complement = _Complement(
            values, groups, profile, at_most, differences, at_least or {}, below, keep, keep_total
        )
        complement.run(hidden)
    if profile.rounding <= 1:
        return {k: None if k in hidden else int(v) for k, v in values.items()}
    return {k: None if k in hidden else profile.round(int(v)) for k, v in values.items()}


class _Complement:
    """Complementary suppression that leaves every hidden cell a range a reader cannot narrow
    below 1..threshold by subtraction.

    What a reader can prove about a hidden cell, its *floor*: the sum of the lower bounds of
    the parts of a group it is the total of (a shown part counts at the least value its
    figure stands for, a hidden one at its own floor); the lower bound of any cell known to
    be smaller (``at_most``); what ``at_least`` says; and, when it is the only hidden part of
    a group whose total is hidden, that total's floor minus the other parts. Its *free mass*
    is its true value minus its floor: what subtraction cannot pin down.

    A group is *unsafe* while it holds exactly one hidden cell (the rest give it away), or
    while its total is shown and its hidden parts hold less free mass than the threshold
    (each of them then lies in a range narrower than 1..threshold). An unsafe group hides one
    more of its parts: the smallest that makes up the missing free mass, else the one adding
    the most, else the smallest non-zero part; then the total; a zero only as a last resort
    (a hidden zero is often given away by an inequality). A cell whose hiding would hide
    others with it (discordant sessions hide discordant patients, and so the rate) is taken
    last: the total is hidden before such a part, unless it is to be kept (``keep``). Hiding
    a cell also hides the non-zero cells known to be at most it (a shown smaller cell is a
    floor). Floors and masses are updated as cells are hidden, and groups revisited, until
    none is unsafe.

    Paired columns (``differences``): when both totals ``A <= B`` are shown, a reader knows
    ``B - A``, the sum of the row differences ``b - a``; with every ``b - a >= 0``, a small
    sum over the hidden rows pins each of their ``b`` to its ``a`` plus a few. While that
    sum is below the threshold, the shown ``b`` of rows whose ``a`` is hidden are hidden too;
    while a row still shows one of its pair, ``B`` is hidden (else ``A``; the groups do the
    rest).
    """

    def __init__(
        self,
        values: Mapping[Hashable, int],
        groups: Iterable[Sequence[Hashable]],
        profile: Profile,
        at_most: Iterable[tuple[Hashable, Hashable]],
        differences: Iterable[Difference],
        at_least: Mapping[Hashable, int],
        below: Iterable[tuple[Hashable, Hashable]] = (),
        keep: Iterable[Hashable] = (),
        keep_total: Iterable[Sequence[Hashable]] = (),
    ) -> None:
        self.keep = set(keep)
        groups = list(groups)
        kept = list(keep_total)
        self.kept_totals = set(range(len(groups), len(groups) + len(kept)))
        groups += kept
        self.values = {k: int(v) for k, v in values.items()}
        self.profile = profile
        self.need = max(profile.threshold, 1)
        value = self.values.__getitem__
        self.members = []
        for g in groups:
            group = tuple(k for k in g if k in values)
            if len(set(group)) != len(group):
                group = tuple(dict.fromkeys(group))
            self.members.append(group)
        self.totals = [max(g, key=value) if g else None for g in self.members]
        self.part_of: dict[Hashable, list[int]] = defaultdict(list)
        self.total_of: dict[Hashable, list[int]] = defaultdict(list)
        for i, (group, total) in enumerate(zip(self.members, self.totals, strict=True)):
            self.total_of[total].append(i)
            for key in group:
                if key != total:
                    self.part_of[key].append(i)
        self.part_of, self.total_of = dict(self.part_of), dict(self.total_of)
        self.smaller: dict[Hashable, list[Hashable]] = {}
        self.larger: dict[Hashable, list[Hashable]] = {}
        self.with_it: dict[Hashable, list[Hashable]] = {}  # hidden along with the key
        for pairs, cascade in ((at_most, True), (below, False)):
            for a, b in pairs:
                if a in values and b in values:
                    self.smaller.setdefault(b, []).append(a)
                    self.larger.setdefault(a, []).append(b)
                    if cascade:
                        self.with_it.setdefault(b, []).append(a)
        self.differences = [
            (a, b, [(x, y) for x, y in pairs if x in values and y in values])
            for a, b, pairs in differences
            if a in values and b in values
        ]
        # B >= A + the differences of the rows that show both: a floor for a hidden B
        self.paired: dict[Hashable, list[tuple[Hashable, list[tuple[Hashable, Hashable]]]]] = {}
        self.in_pairs: dict[Hashable, list[Hashable]] = {}
        self.bounds_paired: dict[Hashable, list[Hashable]] = {}  # A -> its Bs
        for a_total, b_total, pairs in self.differences:
            self.paired.setdefault(b_total, []).append((a_total, pairs))
            self.bounds_paired.setdefault(a_total, []).append(b_total)
            for a, b in pairs:
                self.in_pairs.setdefault(a, []).append(b_total)
                self.in_pairs.setdefault(b, []).append(b_total)
        self.at_least = {k: min(int(v), self.values[k]) for k, v in at_least.items() if k in values}
        self.hidden: set[Hashable] = set()
        # lower and upper bound of each cell as a reader sees it (shown: its figure's range)
        if profile.rounding <= 1:  # a shown count is exact
            self.low, self.high = dict(self.values), dict(self.values)
        else:
            ranges = {k: self._shown_range(v) for k, v in self.values.items()}
            self.low = {k: r[0] for k, r in ranges.items()}
            self.high = {k: r[1] for k, r in ranges.items()}
        low, high = self.low.__getitem__, self.high.__getitem__
        self.part_low = [
            sum(map(low, g)) - (low(t) if g else 0)
            for g, t in zip(self.members, self.totals, strict=True)
        ]
        self.part_high = [  # of the shown parts of each group
            sum(map(high, g)) - (high(t) if g else 0)
            for g, t in zip(self.members, self.totals, strict=True)
        ]
        self.hidden_parts: list[set[Hashable]] = [set() for _ in self.members]
        self.n_hidden = [0] * len(self.members)
        self.mass = [0] * len(self.members)  # free mass of the hidden parts

    def _shown_range(self, value: int) -> tuple[int, int]:
        """The true values a published (unhidden) count stands for."""
        p = self.profile
        if value == 0 or p.rounding <= 1:
            return value, value
        published = p.round(value)
        low = published - p.rounding // 2
        if published == p.smallest_published:  # every count above the threshold up to it
            return p.threshold + 1, low + p.rounding - 1
        return low, low + p.rounding - 1

    def floor(self, key: Hashable) -> int:
        """What a reader can prove a hidden cell holds at least."""
        best = self.at_least.get(key, 0)
        for i in self.total_of.get(key, ()):
            best = max(best, self.part_low[i])
        for a in self.smaller.get(key, ()):
            best = max(best, self.low[a])
        for i in self.part_of.get(key, ()):
            total = self.totals[i]
            if len(self.hidden_parts[i]) == 1 and total in self.hidden:
                best = max(best, self.low[total] - self.part_high[i])
        return min(max(best, self._paired_floor(key)), self.values[key])

    def _paired_floor(self, key: Hashable) -> int:
        """Of a paired total B: A + the differences b - a of the rows that show both."""
        best = 0
        for a_total, pairs in self.paired.get(key, ()):
            if a_total not in self.hidden:
                shown = sum(
                    self.values[b] - self.values[a]
                    for a, b in pairs
                    if a not in self.hidden and b not in self.hidden
                )
                best = max(best, self.low[a_total] + shown)
        return best

    def free(self, key: Hashable) -> int:
        """Free mass a shown cell would bring if hidden (its floor as it would be then)."""
        best = self.at_least.get(key, 0)
        for i in self.total_of.get(key, ()):
            best = max(best, self.part_low[i])
        for a in self.smaller.get(key, ()):
            best = max(best, self.low[a])
        best = max(best, self._paired_floor(key))
        return self.values[key] - min(best, self.values[key])

    def unsafe(self, i: int) -> bool:
        n = self.n_hidden[i]
        if n == 0 or len(self.members[i]) < 2:
            return False
        if n == 1:
            return True
        return self.totals[i] not in self.hidden and self.mass[i] < self.need

    def run(self, primary: set[Hashable]) -> None:
        todo = self._hide_all(primary)
        heapq.heapify(todo)
        while True:
            while todo:
                i = heapq.heappop(todo)
                if not self.unsafe(i):
                    continue
                choice = self.choose(i)
                if choice is None:
                    continue
                for j in self.hide(choice):
                    heapq.heappush(todo, j)
            todo = [j for total in self.narrow_differences() for j in self.hide(total)]
            if not todo:
                break
            heapq.heapify(todo)
        primary |= self.hidden

    def _hide_all(self, cells: set[Hashable]) -> list[int]:
        """Hide many cells at once (the primary ones): the same state as hiding them one by
        one with :meth:`hide`, computed in bulk; return the groups that hold one."""
        queue = list(cells)
        while queue:  # and what they take with them
            cell = queue.pop()
            if cell not in self.hidden:
                self.hidden.add(cell)
                queue += [a for a in self.with_it.get(cell, ()) if self.values[a] != 0]
        touched: set[int] = set()
        for key in self.hidden:
            for i in self.part_of.get(key, ()):
                self.n_hidden[i] += 1
                self.hidden_parts[i].add(key)
                self.part_high[i] -= self.high[key]
                touched.add(i)
            for i in self.total_of.get(key, ()):
                self.n_hidden[i] += 1
                touched.add(i)
        # Floors: what a reader can prove, so the least fixed point: from zero upwards,
        # smallest cells first (parts and smaller cells before what they bound), repeated
        # while a floor rises (one that comes down from a hidden total to its only hidden
        # part needs a second pass).
        order = sorted(self.hidden, key=lambda k: (self.values[k], repr(k)))
        for key in order:
            self._set_low(key, 0)
        for _ in range(len(order) + 1):
            rose = False
            for key in order:
                new = self.floor(key)
                if new > self.low[key]:
                    self._set_low(key, new)
                    rose = True
            if not rose:
                break
        for key in self.hidden:
            for i in self.part_of.get(key, ()):
                self.mass[i] += self.values[key] - self.low[key]
        return sorted(touched)

    def _set_low(self, key: Hashable, new: int) -> None:
        for i in self.part_of.get(key, ()):
            self.part_low[i] += new - self.low[key]
        self.low[key] = new

    def narrow_differences(self) -> list[Hashable]:
        """Cells to hide where paired columns differ by too little over their hidden rows:
        first the shown ``b`` of rows whose ``a`` is hidden (``a`` then lies within a few of
        ``b``: hiding ``b`` too frees it); failing that the larger total, unless hiding it
        would hide others with it, else the smaller one."""
        out: list[Hashable] = []
        for a_total, b_total, pairs in self.differences:
            if a_total in self.hidden or b_total in self.hidden:
                continue
            rows = [(a, b) for a, b in pairs if a in self.hidden or b in self.hidden]
            slack = sum(self._free_difference(a, b) for a, b in rows)
            if not rows or slack >= self.need:
                continue
            alone = [
                b
                for a, b in rows
                if b not in self.hidden
                and self.values[b] != 0
                and b not in self.keep
                and not self._cascades(b)
            ]
            if alone:
                out += alone
            elif any((a in self.hidden) != (b in self.hidden) for a, b in rows):
                if self.values[b_total] != 0 and not self._cascades(b_total):
                    out.append(b_total)
                else:
                    out.append(a_total if self.values[a_total] != 0 else b_total)
        return out

    def _free_difference(self, a: Hashable, b: Hashable) -> int:
        """How much of ``b - a`` a reader cannot prove is there: the difference less its
        floor (``b``'s floor above ``a``; when ``a`` is a part of a group whose total is
        ``b``, the floors of the other parts)."""
        difference = self.values[b] - self.values[a]
        floor = max(0, (self.low[b] if b in self.hidden else 0) - self.values[a])
        for i in self.part_of.get(a, ()):
            if self.totals[i] == b:
                floor = max(floor, self.part_low[i] - self.low[a])
        return difference - min(floor, difference)

    def choose(self, i: int) -> Hashable | None:
        group, total = self.members[i], self.totals[i]
        hidden, values = self.hidden, self.values
        parts = [k for k in group if k != total and k not in hidden and values[k] != 0]
        deficit = self.need - self.mass[i] if total not in hidden else 1
        gains = {k: self.free(k) for k in parts}
        # a part whose hiding hides others too (patients under sessions, and so a rate) is
        # the last choice among those that would do
        cost = {
            k: sum(1 for a in self.with_it.get(k, ()) if a not in hidden and values[a])
            for k in parts
        }
        enough = [k for k in parts if gains[k] >= max(deficit, 1)]
        if enough and min(cost[k] for k in enough) == 0:
            return min(enough, key=lambda k: (cost[k], values[k]))
        if (
            total not in hidden
            and total not in self.keep
            and i not in self.kept_totals
            and values[total] != 0
            and not self._cascades(total)
        ):
            return total  # cheaper than a part that would hide others with it
        if enough:
            return min(enough, key=lambda k: (cost[k], values[k]))
        useful = [k for k in parts if gains[k] > 0]
        if useful:
            return max(useful, key=lambda k: (-cost[k], gains[k]))
        if parts:
            return min(parts, key=lambda k: (cost[k], values[k]))
        if total not in hidden and values[total] != 0:
            return total
        rest = [k for k in group if k not in hidden]
        return rest[0] if rest else None

    def _cascades(self, key: Hashable) -> bool:
        return any(a not in self.hidden and self.values[a] for a in self.with_it.get(key, ()))

    def hide(self, key: Hashable) -> list[int]:
        """Hide one cell, and every non-zero cell known to be at most it (a shown smaller
        cell is a floor a reader subtracts: discordant patients under discordant sessions);
        update floors and masses; return the groups to look at again."""
        touched: set[int] = set()
        queue = [key]
        while queue:
            cell = queue.pop()
            if cell not in self.hidden:
                self._hide_one(cell, touched)
                queue += [a for a in self.with_it.get(cell, ()) if self.values[a] != 0]
        return sorted(touched)

    def _hide_one(self, key: Hashable, touched: set[int]) -> None:
        self.hidden.add(key)
        recheck: list[Hashable] = [key]
        high = self.high[key]
        for i in self.part_of.get(key, ()):
            self.n_hidden[i] += 1
            # a sole hidden part loses "the total minus the shown parts" once it has company
            recheck += self.hidden_parts[i] if len(self.hidden_parts[i]) == 1 else ()
            self.hidden_parts[i].add(key)
            self.part_high[i] -= high
            self.mass[i] += self.values[key] - self.low[key]  # its low is corrected below
            touched.add(i)
        for i in self.total_of.get(key, ()):
            self.n_hidden[i] += 1
            touched.add(i)
        recheck += self.in_pairs.get(key, ())  # a paired total's floor loses this row
        self._settle(recheck, touched)

    def _settle(self, cells: list[Hashable], touched: set[int]) -> None:
        """Recompute the floors of hidden cells until they stop changing (each cell at most a
        bounded number of times: floors are estimates, never looser than the truth)."""
        visits: dict[Hashable, int] = {}
        stack = list(cells)
        while stack:
            cell = stack.pop()
            if cell not in self.hidden or visits.get(cell, 0) > 20:
                continue
            visits[cell] = visits.get(cell, 0) + 1
            new = self.floor(cell)
            delta = new - self.low[cell]
            if delta == 0:
                continue
            self.low[cell] = new
            for i in self.part_of.get(cell, ()):
                self.part_low[i] += delta
                self.mass[i] -= delta
                touched.add(i)
                stack.append(self.totals[i])
            for i in self.total_of.get(cell, ()):
                touched.add(i)
                if len(self.hidden_parts[i]) == 1:  # its floor is that total's minus the rest
                    stack += self.hidden_parts[i]
            stack += self.larger.get(cell, ())
            stack += self.bounds_paired.get(cell, ())


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
