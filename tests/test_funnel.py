"""Funnel limits and flags (audit/funnel.py), checked against scipy.stats and hand figures."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from audit import funnel


def scipy_limit(q: float, n: int, p: float) -> float:
    """Spiegelhalter's interpolated exact limit, from scipy's binomial (independent code)."""
    r = int(stats.binom.ppf(q, n, p))
    upper, lower = stats.binom.cdf(r, n, p), stats.binom.cdf(r - 1, n, p)
    alpha = 0.0 if upper == lower else (upper - q) / (upper - lower)
    return min(max((r - alpha) / n, 0.0), 1.0)


@pytest.mark.parametrize(
    ("n", "p"),
    [(1, 0.7), (5, 0.5), (17, 0.72), (24, 0.7217), (91, 0.78), (309, 0.72), (2573, 0.72)]
    + [(1000, 0.99), (40, 0.02), (100_000, 0.5)],
)
@pytest.mark.parametrize("q", [0.001, 0.025, 0.975, 0.999])
def test_exact_limit_matches_scipy(n, p, q):
    assert funnel.exact_limit(q, n, p) == pytest.approx(scipy_limit(q, n, p), abs=1e-9)


@pytest.mark.parametrize("r", [0, 1, 29, 30, 31, 99, 100])
def test_binomial_cdf_matches_scipy(r):
    assert funnel.binom_cdf(r, 100, 0.3) == pytest.approx(stats.binom.cdf(r, 100, 0.3), abs=1e-12)


@pytest.mark.parametrize("q", [0.001, 0.025, 0.5, 0.975, 0.999])
def test_normal_quantile(q):
    assert funnel._normal_quantile(q) == pytest.approx(stats.norm.ppf(q), abs=1e-8)


def test_exact_limits_are_near_the_normal_check_figures():
    """funnel.md: n = 100, target 0.30, normal approximation 95% [0.210, 0.390], 99.8%
    [0.158, 0.442]; the exact limits are close to them (and skewed, as a binomial is)."""
    assert funnel.exact_limit(0.025, 100, 0.3) == pytest.approx(0.210, abs=0.005)
    assert funnel.exact_limit(0.975, 100, 0.3) == pytest.approx(0.390, abs=0.005)
    assert funnel.exact_limit(0.001, 100, 0.3) == pytest.approx(0.158, abs=0.01)
    assert funnel.exact_limit(0.999, 100, 0.3) == pytest.approx(0.442, abs=0.01)


def test_limits_narrow_as_sites_grow():
    widths = [funnel.exact_limit(0.975, n, 0.7) - funnel.exact_limit(0.025, n, 0.7) for n in
              (10, 100, 1000, 10000)]  # fmt: skip
    assert widths == sorted(widths, reverse=True)


# site, concordant patients, in-population patients; network concordance 0.75
SITES = [
    ("A", 75, 100),  # on the target
    ("B", 64, 100),  # below the 95% limit (about 0.66), inside the 99.8% one (about 0.60)
    ("C", 40, 100),  # far below: alarm
    ("D", 98, 100),  # far above: alarm high
    ("E", 3, 5),  # small site: wide limits
]


def test_flags_and_order():
    f = funnel.build(SITES, 0.75)
    by_key = {p.key: p for p in f.points}
    assert by_key["A"].flag == "" and by_key["E"].flag == ""
    assert (by_key["C"].flag, by_key["C"].direction) == ("alarm", "low")
    assert (by_key["D"].flag, by_key["D"].direction) == ("alarm", "high")
    low95, _ = by_key["B"].limits["95%"]
    low998, _ = by_key["B"].limits["99.8%"]
    assert low998 < 0.64 < low95  # B lies between the two limits: an alert
    assert (by_key["B"].flag, by_key["B"].direction) == ("alert", "low")
    assert [p.key for p in f.points][:3] == ["C", "B", "D"]  # outliers first, worst first
    assert f.applied == "none"


def test_limits_from_the_table_are_the_exact_ones():
    f = funnel.build(SITES, 0.75)
    for p in f.points:
        for label, lo, hi in funnel.LEVELS:
            assert p.limits[label] == pytest.approx(
                (scipy_limit(lo, p.n, 0.75), scipy_limit(hi, p.n, 0.75)), abs=1e-9
            )


def test_a_flag_means_outside_the_limits():
    f = funnel.build(SITES, 0.75)
    for p in f.points:
        low, high = p.limits["95%"]
        assert (p.flag != "") == (p.rate < low or p.rate > high)


def test_sites_without_patients_are_not_plotted():
    assert [p.key for p in funnel.build([("X", 0, 0), ("A", 3, 4)], 0.5).points] == ["A"]


def test_dispersion_by_hand():
    """Three sites of 100 at 0.5, 0.6 and 0.7 around 0.6: z on the arcsine scale, winsorised
    at the 10th/90th percentiles (type 7), phi = mean z^2, tau^2 by DerSimonian-Laird."""
    pts = [(50, 100), (60, 100), (70, 100)]
    t = math.asin(math.sqrt(0.6))
    z = sorted((math.asin(math.sqrt(x / 100)) - t) * 20 for x, _ in pts)
    lo = z[0] + 0.2 * (z[1] - z[0])  # h = 2 * 0.1 = 0.2
    hi = z[1] + 0.8 * (z[2] - z[1])  # h = 2 * 0.9 = 1.8
    phi = sum(min(max(v, lo), hi) ** 2 for v in z) / 3
    w = [400.0] * 3
    tau2 = (3 * phi - 2) / (sum(w) - sum(x * x for x in w) / sum(w))
    d = funnel.dispersion(pts, 0.6)
    assert d.phi == pytest.approx(phi)
    assert d.tau2 == pytest.approx(tau2)
    assert d.overdispersed == (3 * phi > 2)
    assert d.overdispersed


def test_no_dispersion_estimate_from_two_sites():
    d = funnel.dispersion([(5, 10), (9, 10)], 0.7)
    assert d.phi is None and not d.overdispersed
    assert funnel.build([("a", 5, 10), ("b", 9, 10)], 0.7, "additive").applied == "none"


def overdispersed_network() -> list[tuple[str, int, int]]:
    rates = [0.55, 0.6, 0.65, 0.7, 0.72, 0.75, 0.78, 0.8, 0.85, 0.9]
    return [(f"S{i}", round(r * 400), 400) for i, r in enumerate(rates)]


@pytest.mark.parametrize("method", ["multiplicative", "additive"])
def test_overdispersion_widens_the_limits_and_flags_fewer(method):
    sites = overdispersed_network()
    plain = funnel.build(sites, 0.73)
    adjusted = funnel.build(sites, 0.73, method)
    assert adjusted.applied == method and adjusted.dispersion.overdispersed
    p0 = {p.key: p for p in plain.points}
    for p in adjusted.points:
        assert p.limits["95%"][0] < p0[p.key].limits["95%"][0]
        assert p.limits["95%"][1] > p0[p.key].limits["95%"][1]
    assert sum(bool(p.flag) for p in adjusted.points) < sum(bool(p.flag) for p in plain.points)


def test_adjusted_limits_by_hand():
    sites = overdispersed_network()
    f = funnel.build(sites, 0.73, "additive")
    d = f.dispersion
    y = math.asin(math.sqrt(0.73)) + stats.norm.ppf(0.975) * math.sqrt(1 / 1600 + d.tau2)
    assert f.points[0].limits["95%"][1] == pytest.approx(math.sin(y) ** 2, abs=1e-8)
    f = funnel.build(sites, 0.73, "multiplicative")
    y = math.asin(math.sqrt(0.73)) + stats.norm.ppf(0.025) * math.sqrt(d.phi) / 40
    assert f.points[0].limits["95%"][0] == pytest.approx(math.sin(y) ** 2, abs=1e-8)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        funnel.build(SITES, 0.75, "bogus")


def test_curves_cover_the_largest_site_and_are_deterministic():
    f = funnel.build(SITES, 0.75)
    sizes = [n for n, _, _ in f.curves["95%"]]
    assert sizes[0] == 1 and sizes[-1] > 100 and sizes == sorted(set(sizes))
    assert funnel.build(SITES, 0.75) == f


def test_a_thousand_sites_in_seconds():
    """Exact limits for 1,000 sites (4 per site, plus the curves) stay fast: the quantile search
    starts at the normal approximation and walks a step or two."""
    import random
    import time

    rng = random.Random(1)
    sites = []
    for i in range(1000):
        n = rng.randint(5, 5000)
        sites.append((f"S{i:04d}", n - int(n * rng.uniform(0.15, 0.4)), n))
    started = time.perf_counter()
    f = funnel.build(sites, 0.72)
    assert time.perf_counter() - started < 10
    assert len(f.points) == 1000


def test_network_view_uses_published_counts_only():
    """A site with a hidden count is left out and counted; a hidden network rate means no
    plot, said in words."""
    from audit.disclosure import HIDDEN
    from audit.network import funnel_manifest, funnel_view

    def site(sid, n, d):
        row = {"in_population_patients": n, "discordant_patients": d}
        return {"site_id": sid, "name": sid, "href": f"sites/{sid}.html", "summary": row}

    sites = [site("A", 100, 20), site("B", 80, HIDDEN), site("C", 0, 0), site("D", 50, 30)]
    network = {"in_population_patients": 230, "discordant_patients": 60}
    view = funnel_view(sites, network, method="none", enabled=True)
    assert [r["site_id"] for r in view["rows"]] == ["D", "A"]  # D (40%) is an alarm: first
    assert (view["plotted"], view["hidden"], view["empty"]) == (2, 1, 1)
    assert view["target"] == "73.9%"
    assert funnel_manifest(view)["flags"][0]["site_id"] == "D"
    hidden = {"in_population_patients": 230, "discordant_patients": HIDDEN}
    assert "hidden" in funnel_view(sites, hidden, method="none", enabled=True)["reason"]
    assert funnel_manifest(funnel_view(sites, hidden, method="none", enabled=True)) is None
    assert funnel_view(sites, network, method="none", enabled=False) is None
