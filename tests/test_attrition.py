"""The attrition waterfall (audit/attrition.py): bars from published values only."""

from __future__ import annotations

import re

from audit.attrition import _levels, network_steps, waterfall
from audit.disclosure import HIDDEN


def steps(*items: tuple[str, object]) -> list[dict]:
    return [
        {"kind": k, "label": f"step {i}", "rule": "", "value": v} for i, (k, v) in enumerate(items)
    ]


def test_levels_run_forwards_from_a_total_and_backwards_from_the_next():
    s = steps(
        ("start", 100),
        ("minus", 10),
        ("minus", HIDDEN),  # the level after it is unknown going forwards ...
        ("minus", 20),  # ... but known backwards from the subtotal
        ("subtotal", 50),
        ("minus", 5),
        ("end", 45),
    )
    assert _levels(s) == [
        (0.0, 100.0),
        (90.0, 100.0),
        (None, None),
        (50.0, 70.0),
        (0.0, 50.0),
        (45.0, 50.0),
        (0.0, 45.0),
    ]


def test_a_shown_step_between_two_hidden_ones_is_outlined_on_the_axis():
    s = steps(("start", 100), ("minus", HIDDEN), ("minus", 30), ("minus", HIDDEN), ("end", HIDDEN))
    svg = str(waterfall(s, title="t"))
    assert "3. step 2: 30 sessions (drawn on the axis" in svg
    assert svg.count("hidden</title>*") == 3
    # the figures in the chart are the published ones, nothing else
    assert sorted(re.findall(r": ([\d,]+) sessions", svg)) == ["100", "30"]


def test_the_network_steps_are_the_network_cells():
    class Step:
        def __init__(self, kind, outcome, reason=None):
            self.kind, self.outcome, self.reason, self.label, self.rule = (
                kind,
                outcome,
                reason,
                outcome,
                "",
            )

    published = {
        ("network", "sessions_total"): 10,
        ("network_reason", "acute"): HIDDEN,
        ("network_in_population",): 7,
        ("network", "sessions_discordant"): 4,
    }
    got = network_steps(
        [
            Step("start", "all"),
            Step("minus", "out_of_population", "acute"),
            Step("subtotal", "in_population"),
            Step("end", "discordant"),
        ],
        published.get,
    )
    assert [g["value"] for g in got] == [10, HIDDEN, 7, 4]
