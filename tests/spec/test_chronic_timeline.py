"""The chronicity time line of measure 3.5 rule 7, run on its own on tiny inputs.

The step places every anchor (a session or a visit) and every AXIAL / RADICULAR diagnosis on one
time line per patient, each diagnosis $chronic_days after its date, and keeps for each anchor
the latest diagnosis at or before it (a running maximum) within $lookback_days: the
``chronic_evidence`` rows (anchor, code, date). These tests feed it the two tables it reads,
``anchors`` and ``value_set_diagnoses``, as inline tables and check its rows, without the rest of
the pipeline. The SQL is taken from sql/ as it stands: the step file ``chronic_evidence.sql``
when there is one, else the ``chronic_evidence`` CTE (with the CTEs it reads) of the step that
holds it."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from audit.resources import sql_dir
from tests.helpers import parse_table

pytestmark = pytest.mark.spec

TIMELINE = "chronic_evidence"


def timeline_sql() -> str:
    """The SELECT that yields the chronic_evidence rows, straight from sql/."""
    files = sorted(sql_dir().rglob("*.sql"))
    for path in files:
        if path.stem == TIMELINE:
            return path.read_text(encoding="utf-8")
    for path in files:
        tree = sqlglot.parse_one(path.read_text(encoding="utf-8"), read="duckdb")
        with_ = tree.args.get("with_") or tree.args.get("with")  # the key moved in sqlglot 30
        ctes = {cte.alias: cte for cte in with_.expressions} if with_ else {}
        if TIMELINE not in ctes:
            continue
        needed, todo = set(), [TIMELINE]
        while todo:
            name = todo.pop()
            if name in needed:
                continue
            needed.add(name)
            todo += [t.name for t in ctes[name].find_all(exp.Table) if t.name in ctes]
        kept = [cte.sql(dialect="duckdb") for name, cte in ctes.items() if name in needed]
        return f"WITH {', '.join(kept)} SELECT * FROM {TIMELINE}"
    raise AssertionError(f"no step in {sql_dir()} builds {TIMELINE}")


COLUMN_TYPES = {
    "anchor_id": "BIGINT",
    "patient_id": "VARCHAR",
    "anchor_date": "DATE",
    "event_date": "DATE",
    "code": "VARCHAR",
    "role": "VARCHAR",
}


def load(con: duckdb.DuckDBPyConnection, table: str, text: str) -> None:
    header, rows = parse_table(text)
    columns = ", ".join(f"{c} {COLUMN_TYPES[c]}" for c in header)
    con.execute(f"CREATE TABLE {table} ({columns})")
    con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(header))})", rows)


def chronic_evidence(
    anchors: str, diagnoses: str, chronic_days: int = 90, lookback_days: int = 730
) -> list[tuple[int, str, date]]:
    """(anchor_id, code, event_date) of each anchor with chronic evidence, by anchor."""
    con = duckdb.connect()
    try:
        load(con, "anchors", anchors)
        load(con, "value_set_diagnoses", diagnoses)
        return con.execute(
            f"SELECT anchor_id, code, event_date FROM ({timeline_sql()}) ORDER BY anchor_id",
            {"chronic_days": chronic_days, "lookback_days": lookback_days},
        ).fetchall()
    finally:
        con.close()


def test_a_diagnosis_exactly_chronic_days_before_is_evidence_one_day_less_is_not():
    assert chronic_evidence(
        anchors="""
            anchor_id | patient_id | anchor_date
            1         | P1         | 2023-06-01
            2         | P2         | 2023-06-01
        """,
        diagnoses="""
            patient_id | event_date | code  | role
            P1         | 2023-03-03 | M5450 | pain_type   # 90 days before
            P2         | 2023-03-04 | M5450 | pain_type   # 89 days before
        """,
    ) == [(1, "M5450", date(2023, 3, 3))]


def test_lookback_reaches_730_days_not_731():
    assert chronic_evidence(
        anchors="""
            anchor_id | patient_id | anchor_date
            1         | P1         | 2023-06-01
            2         | P2         | 2023-06-01
        """,
        diagnoses="""
            patient_id | event_date | code  | role
            P1         | 2021-06-01 | M5416 | pain_type   # 730 days before
            P2         | 2021-05-31 | M5416 | pain_type   # 731 days before
        """,
    ) == [(1, "M5416", date(2021, 6, 1))]


def test_the_latest_evidence_wins_and_a_tie_takes_the_highest_code():
    """P1: 300 and 100 days before, the later one is kept. P2: two codes on one day."""
    assert chronic_evidence(
        anchors="""
            anchor_id | patient_id | anchor_date
            1         | P1         | 2023-06-01
            2         | P2         | 2023-06-01
        """,
        diagnoses="""
            patient_id | event_date | code  | role
            P1         | 2022-08-05 | M5416 | pain_type   # 300 days before
            P1         | 2023-02-21 | M5450 | pain_type   # 100 days before
            P2         | 2023-02-21 | M5416 | pain_type
            P2         | 2023-02-21 | M5450 | pain_type
        """,
    ) == [(1, "M5450", date(2023, 2, 21)), (2, "M5450", date(2023, 2, 21))]


def test_each_anchor_of_a_patient_sees_only_what_lies_chronic_days_before_it():
    """Three anchors of one patient on one line: the first has nothing before it, the second
    the first diagnosis, the third the second diagnosis (the first is now out of the lookback:
    lookback 200 days)."""
    assert chronic_evidence(
        anchors="""
            anchor_id | patient_id | anchor_date
            1         | P1         | 2023-01-01
            2         | P1         | 2023-06-01
            3         | P1         | 2023-12-01
        """,
        diagnoses="""
            patient_id | event_date | code  | role
            P1         | 2023-01-01 | M5450 | pain_type   # on anchor 1: too late for it
            P1         | 2023-06-01 | M5416 | pain_type   # on anchor 2: too late for it
        """,
        lookback_days=200,
    ) == [(2, "M5450", date(2023, 1, 1)), (3, "M5416", date(2023, 6, 1))]


def test_other_patients_later_dates_and_other_roles_are_not_evidence():
    """P2's diagnosis is not P1's; a diagnosis after the anchor is no evidence; a chronic-pain
    code (role chronic_marker) or an exclusion is not a spine diagnosis on the time line."""
    assert (
        chronic_evidence(
            anchors="""
                anchor_id | patient_id | anchor_date
                1         | P1         | 2023-06-01
            """,
            diagnoses="""
                patient_id | event_date | code   | role
                P2         | 2023-01-01 | M5450  | pain_type
                P1         | 2023-09-09 | M5450  | pain_type
                P1         | 2023-01-01 | G8929  | chronic_marker
                P1         | 2023-01-01 | C3490  | exclusion
            """,
        )
        == []
    )


def test_chronic_days_setting_moves_the_threshold():
    """chronic_days = 180: 120 days before is no longer evidence, 180 days is."""
    assert chronic_evidence(
        anchors="""
            anchor_id | patient_id | anchor_date
            1         | P1         | 2023-06-01
            2         | P2         | 2023-06-01
        """,
        diagnoses="""
            patient_id | event_date | code  | role
            P1         | 2023-02-01 | M5450 | pain_type   # 120 days before
            P2         | 2022-12-03 | M5450 | pain_type   # 180 days before
        """,
        chronic_days=180,
    ) == [(2, "M5450", date(2022, 12, 3))]
