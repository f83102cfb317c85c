"""The audit period (--from / --to): it filters sessions and spine-pain visits, while the rules'
lookback reaches before it (audit_period.sql, anchors.sql)."""

from datetime import date

import pytest

from tests.helpers import audit_sessions, audit_table, outcome
from tests.spec._common import ADULT, before, only

pytestmark = pytest.mark.spec

FROM, TO = date(2023, 1, 1), date(2023, 12, 31)


def _procedures(*dates: str) -> str:
    rows = ["patient_id | event_date | code | site_id | source_id"]
    rows += [f"P1 | {d} | 62323 | S1 | C{i}" for i, d in enumerate(dates)]
    return "\n".join(rows)


def _diagnoses(*dates: str, extra: str = "") -> str:
    rows = [
        "patient_id | event_date | code | source_id | site_id",
        f"P1 | {before(600, FROM)} | M54.50 | H0 | S1",
    ]
    rows += [f"P1 | {d} | M54.50 | C{i} | S1" for i, d in enumerate(dates)]
    return "\n".join([*rows, extra])


def test_sessions_outside_the_period_are_left_out_and_its_ends_are_included(extract):
    dates = ["2022-12-31", "2023-01-01", "2023-12-31", "2024-01-01"]
    folder = extract(patients=ADULT, diagnoses=_diagnoses(*dates), procedures=_procedures(*dates))
    sessions = audit_sessions(folder, period_from=FROM, period_to=TO)
    assert [str(s["session_date"]) for s in sessions] == ["2023-01-01", "2023-12-31"]


def test_only_from_or_only_to(extract):
    dates = ["2022-12-31", "2023-06-01", "2024-01-01"]
    folder = extract(patients=ADULT, diagnoses=_diagnoses(*dates), procedures=_procedures(*dates))
    after = audit_sessions(folder, period_from=FROM)
    upto = audit_sessions(folder, period_to=TO)
    assert [str(s["session_date"]) for s in after] == ["2023-06-01", "2024-01-01"]
    assert [str(s["session_date"]) for s in upto] == ["2022-12-31", "2023-06-01"]


def test_chronic_evidence_before_the_period_counts(extract):
    """The only earlier spine diagnosis (600 days before --from) lies outside the period."""
    folder = extract(
        patients=ADULT, diagnoses=_diagnoses("2023-02-01"), procedures=_procedures("2023-02-01")
    )
    s = only(audit_sessions(folder, period_from=FROM, period_to=TO))
    assert outcome(s) == ("discordant", None, "AX-EPI")


def test_exclusion_before_the_period_counts(extract):
    folder = extract(
        patients=ADULT,
        diagnoses=_diagnoses("2023-02-01", extra="P1 | 2022-06-01 | C34.90 | X | S9"),
        procedures=_procedures("2023-02-01"),
    )
    s = only(audit_sessions(folder, period_from=FROM, period_to=TO))
    assert outcome(s) == ("out_of_population", "cancer", None)


def test_history_before_the_period_counts(extract):
    """History start (first record, 600 days before) lies before the period: acute, not
    insufficient_history."""
    folder = extract(
        patients=ADULT,
        diagnoses="\n".join(
            [
                "patient_id | event_date | code | source_id | site_id",
                f"P1 | {before(600, FROM)} | E11.9 | H0 | S1",
                "P1 | 2023-02-01 | M54.50 | C0 | S1",
            ]
        ),
        procedures=_procedures("2023-02-01"),
    )
    s = only(audit_sessions(folder, period_from=FROM, period_to=TO))
    assert outcome(s) == ("out_of_population", "acute", None)


def test_sessions_before_the_period_do_not_reach_the_site_counts(extract):
    dates = ["2022-12-31", "2023-06-01"]
    folder = extract(patients=ADULT, diagnoses=_diagnoses(*dates), procedures=_procedures(*dates))
    [row] = [
        r
        for r in audit_table(folder, "site_period_counts", period_from=FROM, period_to=TO)
        if r["period_type"] == "all"
    ]
    assert (row["period_start"], row["period_end"], row["sessions_total"]) == (FROM, TO, 1)
