"""The audit period (--from / --to): it filters sessions and spine-pain visits, while the rules'
lookback reaches before it (audit_period.sql, anchors.sql).

Each session is an epidural (62323) with M54.50 (AXIAL) on its claim; M54.50 600 days before
--from (2021-05-11, claim H0) is the patient's first record."""

from datetime import date

import pytest

from tests.helpers import discordant, out_of_population

pytestmark = pytest.mark.spec

FROM, TO = date(2023, 1, 1), date(2023, 12, 31)


def session_dates(run) -> list[date]:
    return [s["session_date"] for s in run.sessions()]


def test_sessions_outside_the_period_are_left_out_and_its_ends_are_included(spec):
    run = spec(
        period_from=FROM,
        period_to=TO,
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-05-11 | M54.50 | H0        | S1       # 600 days before --from
            P1         | 2022-12-31 | M54.50 | C0        | S1
            P1         | 2023-01-01 | M54.50 | C1        | S1
            P1         | 2023-12-31 | M54.50 | C2        | S1
            P1         | 2024-01-01 | M54.50 | C3        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2022-12-31 | 62323 | S1      | C0
            P1         | 2023-01-01 | 62323 | S1      | C1
            P1         | 2023-12-31 | 62323 | S1      | C2
            P1         | 2024-01-01 | 62323 | S1      | C3
        """,
        expected={"P1": [discordant("AX-EPI"), discordant("AX-EPI")]},
    )
    assert session_dates(run) == [date(2023, 1, 1), date(2023, 12, 31)]


def test_only_from_or_only_to(spec):
    tables = dict(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-05-11 | M54.50 | H0        | S1       # 600 days before --from
            P1         | 2022-12-31 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P1         | 2024-01-01 | M54.50 | C2        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2022-12-31 | 62323 | S1      | C0
            P1         | 2023-06-01 | 62323 | S1      | C1
            P1         | 2024-01-01 | 62323 | S1      | C2
        """,
    )
    after = spec(**tables, period_from=FROM, expected={"P1": [discordant("AX-EPI")] * 2})
    upto = spec(**tables, period_to=TO, expected={"P1": [discordant("AX-EPI")] * 2})
    assert session_dates(after) == [date(2023, 6, 1), date(2024, 1, 1)]
    assert session_dates(upto) == [date(2022, 12, 31), date(2023, 6, 1)]


def test_chronic_evidence_before_the_period_counts(spec):
    """The only earlier spine diagnosis (600 days before --from) lies outside the period."""
    spec(
        period_from=FROM,
        period_to=TO,
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-05-11 | M54.50 | H0        | S1       # 600 days before --from
            P1         | 2023-02-01 | M54.50 | C0        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-02-01 | 62323 | S1      | C0
        """,
        expected={"P1": discordant("AX-EPI")},
    )


def test_exclusion_before_the_period_counts(spec):
    spec(
        period_from=FROM,
        period_to=TO,
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-05-11 | M54.50 | H0        | S1       # 600 days before --from
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2022-06-01 | C34.90 | X         | S9
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-02-01 | 62323 | S1      | C0
        """,
        expected={"P1": out_of_population("cancer")},
    )


def test_history_before_the_period_counts(spec):
    """History start (first record, 600 days before) lies before the period: acute, not
    insufficient_history."""
    spec(
        period_from=FROM,
        period_to=TO,
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-05-11 | E11.9  | H0        | S1
            P1         | 2023-02-01 | M54.50 | C0        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-02-01 | 62323 | S1      | C0
        """,
        expected={"P1": out_of_population("acute")},
    )


def test_sessions_before_the_period_do_not_reach_the_site_counts(spec):
    run = spec(
        period_from=FROM,
        period_to=TO,
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-05-11 | M54.50 | H0        | S1       # 600 days before --from
            P1         | 2022-12-31 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2022-12-31 | 62323 | S1      | C0
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    [row] = run.rows("site_period_counts", where="period_type = 'all'")
    assert (row["period_start"], row["period_end"], row["sessions_total"]) == (FROM, TO, 1)
