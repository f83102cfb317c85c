"""Property tests over random small extracts (hypothesis): the invariants of measure 3.1, 3.3,
3.5 and the input reconciliation hold whatever the data.

- 3.1 / 3.3: every counting index line lands in exactly one session, and the sessions are the
  ones the spec's grouping and "with or without" merges give (computed here independently);
- 3.5 / 5: every session has exactly one outcome; reason is non-null iff out_of_population;
  recommendation is non-null only for discordant or clinical_trial (and always for discordant);
- "nothing is lost": the input_reconciliation rows of each table add up to its input rows.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.config import DEFAULT_NON_COUNTING_STATUSES
from tests.helpers import classified, write_extract

pytestmark = pytest.mark.spec

FAMILY_OF = {
    "62323": "EPIDURAL",
    "64483": "EPIDURAL",
    "64484": "EPIDURAL",
    "62311": "EPIDURAL",
    "64493": "FACET_INJ",
    "64494": "FACET_INJ",
    "27096": "SI_INJ",
    "G0260": "SI_INJ",
    "64635": "FACET_RFA",
    "64622": "FACET_RFA",
    "64625": "SI_RFA",
    "20552": "TRIGGER_POINT",
}
NON_INDEX = ["99213", "62324", "64999", "27279", "63650", "64628"]
DIAGNOSIS_CODES = [
    "M54.50",
    "M54.16",
    "m5416",
    "M54.5",
    "M46.1",
    "E11.9",
    "C34.90",
    "C79.51",
    "M45.9",
    "S32.010A",
    "O26.891",
    "G89.29",
    "Z00.6",
    "C44.91",
]
STATUSES = ["", "", "paid", "denied", "VOID", "pended", "Reversed", "entered_in_error"]
MODIFIERS = ["", "", "50", "RT", "LT", "RT,Q0", "Q1"]
# (family, merges_into) in order of preference: measure 3.3 and the pack's session_merges.csv
MERGES = {
    "FACET_INJ": ("FACET_RFA", "SI_RFA"),
    "SI_INJ": ("SI_RFA", "FACET_RFA"),
    "EPIDURAL": ("DRG_RF",),
}
OUTCOMES = {"out_of_population", "clinical_trial", "discordant", "not_addressed"}
REASONS = {
    "age_under_18",
    "age_unknown",
    "no_spine_indication",
    "cancer",
    "inflammatory_arthropathy",
    "other_specific_cause",
    "acute",
    "insufficient_history",
}
START = date(2021, 1, 1)

days = st.integers(min_value=0, max_value=900)
patient_ids = st.sampled_from(["P1", "P2", "P3", "P9"])  # P9 is not in patients: quarantined

patient_rows = st.fixed_dictionaries(
    {
        "P1": st.sampled_from(["1970-05-01 |", "| 1965"]),
        "P2": st.sampled_from(["2007-03-01 |", "1980-02-29 |", "|"]),
        "P3": st.sampled_from(["1990-07-01 |", "| 2005", "bad |"]),
    }
)
diagnosis_rows = st.lists(
    st.tuples(
        patient_ids,
        days,
        st.sampled_from(DIAGNOSIS_CODES),
        st.sampled_from(["C1", "C2", "C3", ""]),
        st.sampled_from(["S1", "S2", ""]),
    ),
    max_size=14,
)
procedure_rows = st.lists(
    st.tuples(
        patient_ids,
        days,
        st.sampled_from([*FAMILY_OF, *NON_INDEX]),
        st.sampled_from(["S1", "S2"]),
        st.sampled_from(["C1", "C2", "C3", ""]),
        st.sampled_from(MODIFIERS),
        st.sampled_from(STATUSES),
        st.sampled_from(["", "100", "25.50"]),
    ),
    max_size=12,
)
coverage_rows = st.lists(
    st.tuples(st.sampled_from(["P1", "P2", "P3"]), days, st.integers(0, 400), st.booleans()),
    max_size=3,
)
periods = st.one_of(st.none(), st.tuples(st.integers(0, 450), st.integers(0, 450)))


def _day(n: int) -> str:
    return (START + timedelta(days=n)).isoformat()


def _tables(patients, diagnoses, procedures, coverage) -> dict[str, str]:
    return {
        "patients": "patient_id | birth_date | birth_year\n"
        + "\n".join(f"{p} | {v}" for p, v in patients.items()),
        "diagnoses": "patient_id | event_date | code | source_id | site_id\n"
        + "\n".join(f"{p} | {_day(d)} | {c} | {s} | {site}" for p, d, c, s, site in diagnoses),
        "procedures": "patient_id | event_date | code | site_id | source_id | modifiers | status"
        " | allowed_amount\n"
        + "\n".join(
            f"{p} | {_day(d)} | {c} | {site} | {src} | {m} | {st_} | {a}"
            for p, d, c, site, src, m, st_, a in procedures
        ),
        "coverage": "patient_id | start_date | end_date\n"
        + "\n".join(
            f"{p} | {_day(d)} | {'' if open_ else _day(d + n)}" for p, d, n, open_ in coverage
        ),
    }


def _expected_sessions(procedures, period) -> set[tuple]:
    """Sessions by the words of 3.1 and 3.3, independently of the SQL."""
    groups = {
        (p, site, _day(d), FAMILY_OF[code])
        for p, d, code, site, _src, _m, status, _a in procedures
        if p != "P9"
        and code in FAMILY_OF
        and status.strip().lower() not in DEFAULT_NON_COUNTING_STATUSES
    }
    sessions = set()
    for p, site, day, family in groups:
        target = next((t for t in MERGES.get(family, ()) if (p, site, day, t) in groups), family)
        sessions.add((p, site, day, target))
    if period is not None:
        lo, hi = _day(period[0]), _day(period[1])
        sessions = {s for s in sessions if lo <= s[2] <= hi}
    return sessions


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(patient_rows, diagnosis_rows, procedure_rows, coverage_rows, periods)
def test_random_extracts_keep_the_invariants(patients, diagnoses, procedures, coverage, period):
    if period is not None:
        period = tuple(sorted(period))
    run = (
        {}
        if period is None
        else {
            "period_from": START + timedelta(days=period[0]),
            "period_to": START + timedelta(days=period[1]),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_extract(
            Path(tmp) / "extract", **_tables(patients, diagnoses, procedures, coverage)
        )
        # a property test of many examples: DuckDB whatever --engine (result.con is DuckDB)
        with classified(folder, engine="duckdb", **run) as result:

            def rows(sql: str) -> list[tuple]:
                return result.con.execute(sql).fetchall()

            index_lines = [r[0] for r in rows("SELECT src_row FROM index_lines")]
            session_lines = rows(
                "SELECT src_row, patient_id, site_id, session_date, family FROM session_lines"
            )
            all_sessions = rows(
                "SELECT patient_id, site_id, session_date, family, line_count FROM merged_sessions"
            )
            sessions = rows(
                "SELECT patient_id, site_id, CAST(session_date AS VARCHAR), family, outcome, "
                "reason, recommendation FROM session_outcomes"
            )
            reconciliation = rows(
                "SELECT table_name, SUM(row_count) FROM input_reconciliation GROUP BY 1"
            )

    # 3.1 + 3.3: every counting index line lands in exactly one session ...
    counting = sum(
        1
        for p, _d, code, _s, _src, _m, status, _a in procedures
        if p != "P9"
        and code in FAMILY_OF
        and status.strip().lower() not in DEFAULT_NON_COUNTING_STATUSES
    )
    assert len(index_lines) == counting
    assert Counter(r[0] for r in session_lines) == Counter(index_lines)
    session_keys = Counter(r[:4] for r in all_sessions)
    assert all(n == 1 for n in session_keys.values())
    assert all(session_keys[r[1:]] == 1 for r in session_lines)
    assert sum(r[4] for r in all_sessions) == len(index_lines)
    # ... and the sessions in the period are the ones the spec's grouping and merges give.
    keys = [s[:4] for s in sessions]
    assert len(keys) == len(set(keys))
    assert set(keys) == _expected_sessions(procedures, period)

    # 3.5 / 5: exactly one outcome per session, reason and recommendation as the contract says.
    for *_key, outcome, reason, recommendation in sessions:
        assert outcome in OUTCOMES
        assert (reason is not None) == (outcome == "out_of_population")
        assert reason is None or reason in REASONS
        if recommendation is not None:
            assert outcome in ("discordant", "clinical_trial")
        if outcome == "discordant":
            assert recommendation is not None

    # nothing is lost: each table's reconciliation adds up to its input rows.
    inputs = {
        "patients": len(patients),
        "diagnoses": len(diagnoses),
        "procedures": len(procedures),
        "coverage": len(coverage),
    }
    totals = {t: int(n) for t, n in reconciliation}
    assert {t: totals.get(t, 0) for t in inputs} == inputs
