"""Funnel plot of site concordance: control limits around the network rate, outlier flags.

Why a module of its own: the limits are statistics, not layout, and are tested against an
independent calculation (scipy.stats in tests; this module needs only the standard library, so
the tool gains no run-time dependency). Inputs are *published* counts only (after disclosure
control): a site whose numerator or denominator is hidden is not plotted, so the chart can never
show more than the tables do.

Method (Spiegelhalter 2005, "Funnel plots for comparing institutional performance"; the NHS /
HQIP outlier policy for national clinical audits; FunnelPlotR):

* target: the pooled network concordance (published network counts);
* ``none``: exact binomial limits, the p-quantile r of Binomial(n, target) interpolated so the
  curve is smooth: alpha = (P(R <= r) - p) / (P(R <= r) - P(R <= r - 1)), limit = (r - alpha)/n;
* overdispersion, on the arcsine scale y = asin(sqrt(rate)), s = 1 / (2 sqrt(n)): z-scores
  winsorised at the 10th and 90th percentiles, phi = mean(z^2); ``multiplicative`` widens the
  limits by sqrt(phi), ``additive`` (DerSimonian-Laird) adds tau^2 to s^2;
* outside the 95% limits is an *alert*, outside the 99.8% limits an *alarm*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

METHODS: Final = ("none", "multiplicative", "additive")
# two-sided 95% and 99.8%: the lower and upper tail probabilities of each limit
LEVELS: Final = (("95%", 0.025, 0.975), ("99.8%", 0.001, 0.999))
WINSOR: Final = (0.10, 0.90)
MIN_SITES_FOR_DISPERSION: Final = 3
CURVE_POINTS: Final = 60


# ----------------------------------------------------------------------------- binomial
def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def binom_cdf(r: int, n: int, p: float) -> float:
    """P(R <= r) for R ~ Binomial(n, p)."""
    if r < 0:
        return 0.0
    if r >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    return _betainc(n - r, r + 1.0, 1.0 - p)


def binom_quantile(q: float, n: int, p: float) -> int:
    """The smallest r with P(R <= r) >= q (started from the normal approximation)."""
    sd = math.sqrt(max(n * p * (1.0 - p), 0.0))
    z = _normal_quantile(q)
    r = min(max(int(math.floor(n * p + z * sd)), 0), n)
    while r > 0 and binom_cdf(r - 1, n, p) >= q:
        r -= 1
    while r < n and binom_cdf(r, n, p) < q:
        r += 1
    return r


def exact_limit(q: float, n: int, p: float) -> float:
    """Spiegelhalter's interpolated exact binomial limit of a proportion at tail ``q``."""
    if n <= 0:
        raise ValueError("a funnel limit needs n >= 1")
    r = binom_quantile(q, n, p)
    upper, lower = binom_cdf(r, n, p), binom_cdf(r - 1, n, p)
    alpha = 0.0 if upper == lower else (upper - q) / (upper - lower)
    return min(max((r - alpha) / n, 0.0), 1.0)


def _normal_quantile(q: float) -> float:
    """Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9)."""
    if not 0.0 < q < 1.0:
        raise ValueError("q must be in (0, 1)")
    a = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690,
         -30.66479806614716, 2.506628277459239)  # fmt: skip
    b = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
         -13.28068155288572)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838, -2.549732539343734,
         4.374664141464968, 2.938163982698783)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996, 3.754408661907416)
    low = 0.02425
    if q < low:
        t = math.sqrt(-2 * math.log(q))
        num = ((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]
        return num / ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1)
    if q > 1 - low:
        return -_normal_quantile(1 - q)
    t = q - 0.5
    u = t * t
    num = (((((a[0] * u + a[1]) * u + a[2]) * u + a[3]) * u + a[4]) * u + a[5]) * t
    return num / (((((b[0] * u + b[1]) * u + b[2]) * u + b[3]) * u + b[4]) * u + 1)


# ----------------------------------------------------------------------------- overdispersion
def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (R's type 7, numpy's default)."""
    h = (len(sorted_values) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def _arcsine(rate: float) -> float:
    return math.asin(math.sqrt(min(max(rate, 0.0), 1.0)))


def _back(y: float) -> float:
    return math.sin(min(max(y, 0.0), math.pi / 2)) ** 2


@dataclass(frozen=True)
class Dispersion:
    """How far the sites vary beyond binomial chance (arcsine scale, winsorised z-scores)."""

    phi: float | None  # mean of the winsorised z^2; None with fewer than 3 sites
    tau2: float | None  # DerSimonian-Laird between-site variance (arcsine scale)
    sites: int  # the sites it was estimated from
    overdispersed: bool  # I * phi > I - 1

    @property
    def factor(self) -> float:
        """The multiplicative model's widening, sqrt(phi) (never a narrowing)."""
        return math.sqrt(max(self.phi or 1.0, 1.0)) if self.overdispersed else 1.0


def dispersion(points: Sequence[tuple[int, int]], target: float) -> Dispersion:
    """phi and tau^2 of ``(successes, n)`` points (n >= 1) around ``target``."""
    points = [(x, n) for x, n in points if n > 0]
    count = len(points)
    if count < MIN_SITES_FOR_DISPERSION:
        return Dispersion(None, None, count, False)
    t = _arcsine(target)
    zs = [(_arcsine(x / n) - t) * 2.0 * math.sqrt(n) for x, n in points]
    ordered = sorted(zs)
    lo, hi = (_percentile(ordered, q) for q in WINSOR)
    phi = sum(min(max(z, lo), hi) ** 2 for z in zs) / count
    weights = [4.0 * n for _, n in points]  # w = 1 / s^2, s = 1 / (2 sqrt(n))
    sw = sum(weights)
    denominator = sw - sum(w * w for w in weights) / sw
    excess = count * phi - (count - 1)
    tau2 = max(0.0, excess / denominator) if denominator > 0 else 0.0
    return Dispersion(phi, tau2, count, excess > 0)


# ----------------------------------------------------------------------------- limits
def limit(n: int, target: float, q: float, method: str, disp: Dispersion) -> float:
    """The control limit at tail ``q`` for a site of size ``n`` under ``method``."""
    if method not in METHODS:
        raise ValueError(f"unknown overdispersion method {method!r}")
    if method == "none" or not disp.overdispersed:
        return exact_limit(q, n, target)
    z = _normal_quantile(q)
    s2 = 1.0 / (4.0 * n)
    if method == "multiplicative":
        spread = disp.factor * math.sqrt(s2)
    else:
        spread = math.sqrt(s2 + (disp.tau2 or 0.0))
    return _back(_arcsine(target) + z * spread)


@dataclass(frozen=True)
class Point:
    """One plotted site: published counts, its rate, its limits and its flag."""

    key: str
    successes: int
    n: int
    rate: float
    limits: dict[str, tuple[float, float]]  # level label -> (low, high)
    flag: str  # "alarm" (outside 99.8%), "alert" (outside 95%) or ""
    direction: str  # "low", "high" or ""
    z: float  # standardised distance from the target under the method (for ordering)


@dataclass(frozen=True)
class Funnel:
    """Everything the page shows: target, method, dispersion, flagged points, curves."""

    target: float
    method: str  # as asked
    applied: str  # the model that drew the limits ("none" when no overdispersion was found)
    dispersion: Dispersion
    points: list[Point]  # outliers first
    curves: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)


_ORDER = {("alarm", "low"): 0, ("alert", "low"): 1, ("alarm", "high"): 2, ("alert", "high"): 3}


def build(sites: Sequence[tuple[str, int, int]], target: float, method: str = "none") -> Funnel:
    """The funnel of ``(key, successes, n)`` sites (n >= 1) around ``target`` (0..1).

    Points are ordered: alarms below, alerts below, alarms above, alerts above, then the rest
    by their standardised distance (lowest first), ties by key: the same input always gives
    the same order.
    """
    if method not in METHODS:
        raise ValueError(f"unknown overdispersion method {method!r}")
    if not 0.0 <= target <= 1.0:
        raise ValueError("the target must be a proportion")
    sites = [s for s in sites if s[2] > 0]
    disp = dispersion([(x, n) for _, x, n in sites], target)
    applied = method if method != "none" and disp.overdispersed else "none"
    t = _arcsine(target)
    points = []
    for key, x, n in sites:
        rate = x / n
        limits = {
            label: (limit(n, target, lo, applied, disp), limit(n, target, hi, applied, disp))
            for label, lo, hi in LEVELS
        }
        flag, direction = "", ""
        for label, name in (("99.8%", "alarm"), ("95%", "alert")):
            low, high = limits[label]
            if rate < low or rate > high:
                flag, direction = name, "low" if rate < low else "high"
                break
        scale = 1.0 / (2.0 * math.sqrt(n))
        if applied == "multiplicative":
            scale *= disp.factor
        elif applied == "additive":
            scale = math.sqrt(scale * scale + (disp.tau2 or 0.0))
        points.append(Point(key, x, n, rate, limits, flag, direction, (_arcsine(rate) - t) / scale))
    points.sort(key=lambda p: (_ORDER.get((p.flag, p.direction), 4), p.z, p.key))
    largest = max((n for _, _, n in sites), default=0)
    curves = {
        label: [
            (n, limit(n, target, lo, applied, disp), limit(n, target, hi, applied, disp))
            for n in curve_sizes(largest)
        ]
        for label, lo, hi in LEVELS
    }
    return Funnel(target, method, applied, disp, points, curves)


def curve_sizes(largest: int, count: int = CURVE_POINTS) -> list[int]:
    """Site sizes at which the limit curves are drawn: 1 to a little past the largest site,
    denser where the funnel bends (small n)."""
    if largest < 1:
        return []
    top = max(int(largest * 1.05) + 1, 2)
    sizes = {1, top}
    for i in range(count):
        sizes.add(max(1, round(top ** (i / (count - 1)))))
        sizes.add(max(1, round(top * i / (count - 1))))
    return sorted(sizes)
