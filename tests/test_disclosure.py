"""Disclosure control: Wilson intervals, profiles, primary and complementary suppression."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.disclosure import (
    HIDDEN,
    PROFILES,
    concordance,
    published_rate,
    resolve_profile,
    suppress_cells,
    suppress_table,
    wilson_interval,
)

CMS = PROFILES["cms"]


# ----------------------------------------------------------------------------- Wilson
@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 1, 0.2065, 1.0),
        (81, 263, 0.2553, 0.3662),  # Wilson (1927) style check, Newcombe 1998 table I row
    ],
)
def test_wilson_known_values(x, n, low, high):
    lo, hi = wilson_interval(x, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_bounds_are_exact_at_the_ends():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0


def test_wilson_n_zero_is_no_data_not_a_rate():
    lo, hi = wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)


def test_wilson_vectorised_matches_scalar():
    x = pd.Series([0, 5, 10, 0, 3])
    n = pd.Series([10, 10, 10, 0, 7])
    lo, hi = wilson_interval(x, n)
    assert isinstance(lo, np.ndarray) and lo.shape == (5,)
    for i in range(5):
        slo, shi = wilson_interval(int(x[i]), int(n[i]))
        assert (math.isnan(lo[i]) and math.isnan(slo)) or lo[i] == pytest.approx(slo)
        assert (math.isnan(hi[i]) and math.isnan(shi)) or hi[i] == pytest.approx(shi)


# ----------------------------------------------------------------------------- profiles
def test_cms_hides_1_to_10_and_shows_zero():
    assert not CMS.hides(0)
    assert all(CMS.hides(v) for v in range(1, 11))
    assert not CMS.hides(11)
    assert [CMS.round(v) for v in (0, 11, 12, 13)] == [0, 11, 12, 13]


@pytest.mark.parametrize("name", ["opensafely", "nhs"])
def test_rounding_profiles_hide_1_to_7_and_round_to_5(name):
    p = PROFILES[name]
    assert (p.threshold, p.rounding) == (7, 5)
    assert all(p.hides(v) for v in range(1, 8)) and not p.hides(8)
    assert [p.round(v) for v in (0, 8, 9, 12, 13, 17, 18, 102)] == [0, 10, 10, 10, 15, 15, 20, 100]


def test_11_and_12_round_up_to_15_never_into_the_hidden_range():
    p = resolve_profile({"profile": "cms", "threshold": 10, "rounding": 5})
    assert [p.round(v) for v in (11, 12, 13, 17, 18)] == [15, 15, 15, 15, 20]
    assert p.smallest_published == 15
    for v in range(11, 200):
        assert p.round(v) > p.threshold and p.round(v) % 5 == 0


def test_profile_none_hides_nothing_and_is_internal_only():
    p = PROFILES["none"]
    assert p.internal_only and not p.hides(1)
    assert "internal QI use only" in p.legend()
    assert suppress_cells({"a": 1, "b": 2}, [["a", "b"]], p) == {"a": 1, "b": 2}


def test_resolve_profile_defaults_and_rejects_unknown():
    assert resolve_profile(None) is CMS
    assert resolve_profile("nhs") is PROFILES["nhs"]
    assert resolve_profile({"profile": "cms", "threshold": 10, "rounding": 1}) is CMS
    with pytest.raises(ValueError, match="unknown suppression profile"):
        resolve_profile("loose")


# ----------------------------------------------------------------------------- suppression
def test_primary_suppression_each_profile():
    values = {"z": 0, "a": 3, "b": 7, "c": 8, "d": 10, "e": 11, "f": 12}
    expected = {
        "cms": {"z": 0, "a": None, "b": None, "c": None, "d": None, "e": 11, "f": 12},
        "opensafely": {"z": 0, "a": None, "b": None, "c": 10, "d": 10, "e": 10, "f": 10},
        "nhs": {"z": 0, "a": None, "b": None, "c": 10, "d": 10, "e": 10, "f": 10},
        "none": values,
    }
    for name, want in expected.items():
        assert suppress_cells(values, [], PROFILES[name]) == want, name


def test_complementary_within_a_row_hides_the_smallest_nonzero_other_cell():
    row = pd.DataFrame([{"total": 50, "a": 5, "zero": 0, "b": 20, "c": 25}])
    out = suppress_table(
        row, ["total", "a", "zero", "b", "c"], CMS, row_groups=[["total", "a", "zero", "b", "c"]]
    )
    got = out.iloc[0]
    assert got["a"] is pd.NA and got["b"] is pd.NA  # primary, then its complement
    assert got["zero"] == 0 and got["c"] == 25 and got["total"] == 50
    assert got["cells_suppressed"] == 2


def test_network_total_cannot_reveal_a_single_small_site():
    sites = pd.DataFrame({"site": ["A", "B", "C", "D"], "sessions": [100, 3, 50, 40]})
    out = suppress_table(sites, ["sessions"], CMS, total_row="network", label_column="site")
    published = out["sessions"]
    assert published.iloc[-1] == 193  # the network total stays
    assert published.isna().sum() == 2  # the small site and the smallest other site
    assert out.loc[out["site"] == "B", "sessions"].isna().all()
    assert out.loc[out["site"] == "D", "sessions"].isna().all()


def test_single_site_network_total_is_hidden_with_it():
    sites = pd.DataFrame({"site": ["A"], "sessions": [4]})
    out = suppress_table(sites, ["sessions"], CMS, total_row="network", label_column="site")
    assert out["sessions"].isna().all()


def test_complements_cascade_across_rows_and_columns_until_stable():
    # Hiding a complement in one column can leave its row with one hidden cell: repeat.
    values = {
        ("r1", "a"): 4,
        ("r1", "b"): 30,
        ("r1", "c"): 40,
        ("r2", "a"): 50,
        ("r2", "b"): 60,
        ("r2", "c"): 70,
    }
    groups = [[("r1", c) for c in "abc"], [("r2", c) for c in "abc"]]
    groups += [[("r1", c), ("r2", c)] for c in "abc"]
    out = suppress_cells(values, groups, CMS)
    for g in groups:
        assert sum(out[k] is None for k in g) in (0, 2, 3), g


def test_rate_hidden_with_its_numerator_or_denominator():
    assert concordance(HIDDEN, 50) is HIDDEN
    assert concordance(5, HIDDEN) is HIDDEN
    assert published_rate(HIDDEN, 50) is HIDDEN


def test_no_denominator_is_no_data_never_100_percent():
    assert concordance(0, 0) is None
    assert concordance(0, None) is None
    rate, low, high = concordance(0, 20)
    assert rate == 1.0 and high == 1.0 and 0.8 < low < 0.9


def test_rates_use_published_rounded_counts():
    p = PROFILES["nhs"]
    pub = suppress_cells({"d": 12, "n": 48}, [], p)
    assert pub == {"d": 10, "n": 50}
    assert concordance(pub["d"], pub["n"])[0] == pytest.approx(0.8)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        suppress_cells({"a": -1}, [], CMS)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 40), min_size=3, max_size=3), min_size=1, max_size=6),
    st.sampled_from(["cms", "opensafely", "nhs"]),
)
def test_every_group_has_zero_or_at_least_two_hidden_cells(table, name):
    profile = PROFILES[name]
    values = {}
    for i, row in enumerate(table):
        for j, v in enumerate(row):
            values[(i, j)] = v
        values[(i, "total")] = sum(row)
    for j in range(3):
        values[("net", j)] = sum(row[j] for row in table)
    values[("net", "total")] = sum(map(sum, table))
    rows = [[(i, j) for j in (0, 1, 2, "total")] for i in [*range(len(table)), "net"]]
    cols = [[(i, j) for i in [*range(len(table)), "net"]] for j in (0, 1, 2, "total")]
    out = suppress_cells(values, rows + cols, profile)
    for key, value in values.items():
        if 0 < value <= profile.threshold:
            assert out[key] is None
        if out[key] is not None:
            assert out[key] == 0 or out[key] > profile.threshold
    for group in rows + cols:
        nonzero_hidden = [k for k in group if out[k] is None]
        assert len(nonzero_hidden) != 1, group
