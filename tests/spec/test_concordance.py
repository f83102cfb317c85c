"""Measure 3.6: patient-level concordance per site. A diagnosis event is an in-population
spine-pain visit when it is AXIAL or RADICULAR, carries a site_id, and rules 1, 2, 4-7 evaluated
at its date leave it in the population. Per site and period: denominator = distinct patients
with such a visit at the site in the period; discordant patients = those of them with a
discordant session at the site in the period; concordance = 1 - discordant / denominator with a
Wilson 95% interval.

A chronic visit below is a spine diagnosis at the site on 2023-06-01 with one 200 days before
(2022-11-13) at the same site."""

from datetime import date

import pytest

from audit.disclosure import concordance
from tests.helpers import NOT_ADDRESSED, discordant

pytestmark = pytest.mark.spec


def counts(run) -> dict[str, tuple[int, int]]:
    """{site: (in_population_patients, discordant_patients)} for the whole period; a site with
    neither a session nor an in-population visit (and no sites table) has no row."""
    return {
        r["site_id"]: (r["in_population_patients"], r["discordant_patients"])
        for r in run.rows("site_period_counts", where="period_type = 'all'")
    }


def test_denominator_and_discordant_patients_per_site(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1971-05-01
            P3         | 1972-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-11-13 | M54.50 | P10       | S1
            P1         | 2023-06-01 | M54.50 | P11       | S1
            P2         | 2022-11-13 | M54.50 | P20       | S1
            P2         | 2023-06-01 | M54.50 | P21       | S1
            P3         | 2022-11-13 | M54.50 | P30       | S2
            P3         | 2023-06-01 | M54.50 | P31       | S2
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | P11
            P3         | 2023-06-01 | 64493 | S2      | P31
            P3         | 2023-07-01 | 64493 | S2      | P31
        """,
        expected={
            "P1": discordant("AX-EPI"),
            "P3": [discordant("AX-JNT"), discordant("AX-JNT")],
        },
    )
    assert counts(run) == {"S1": (2, 1), "S2": (1, 1)}


def test_visits_out_of_population_by_rules_1_2_4_5_6_are_not_counted(spec):
    """One site per rule, each with chronic visits of a patient that rule takes out (P1 under
    18 at S1, P2 age unknown at S2, P4 cancer at S4, P5 inflammatory arthropathy at S5, P6 a
    fracture at S6) and of P9, who is always in: only P9 is counted at each site."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 2010-01-01
            P2         |
            P4         | 1970-05-01
            P5         | 1970-05-01
            P6         | 1970-05-01
            P9         | 1971-05-01
        """,
        diagnoses="""
            patient_id | event_date | code     | source_id | site_id
            P1         | 2022-11-13 | M54.50   | P10       | S1
            P1         | 2023-06-01 | M54.50   | P11       | S1
            P2         | 2022-11-13 | M54.50   | P20       | S2
            P2         | 2023-06-01 | M54.50   | P21       | S2
            P4         | 2022-11-13 | M54.50   | P40       | S4
            P4         | 2023-06-01 | M54.50   | P41       | S4
            P4         | 2023-05-02 | C34.90   | X         | S9
            P5         | 2022-11-13 | M54.50   | P50       | S5
            P5         | 2023-06-01 | M54.50   | P51       | S5
            P5         | 2020-12-13 | M45.9    | X         | S9
            P6         | 2022-11-13 | M54.50   | P60       | S6
            P6         | 2023-06-01 | M54.50   | P61       | S6
            P6         | 2023-05-02 | S32.010A | X         | S9
            P9         | 2022-11-13 | M54.50   | P90       | S1
            P9         | 2023-06-01 | M54.50   | P91       | S1
            P9         | 2022-11-13 | M54.50   | P90       | S2
            P9         | 2023-06-01 | M54.50   | P91       | S2
            P9         | 2022-11-13 | M54.50   | P90       | S4
            P9         | 2023-06-01 | M54.50   | P91       | S4
            P9         | 2022-11-13 | M54.50   | P90       | S5
            P9         | 2023-06-01 | M54.50   | P91       | S5
            P9         | 2022-11-13 | M54.50   | P90       | S6
            P9         | 2023-06-01 | M54.50   | P91       | S6
        """,
        expected={},
    )
    assert counts(run) == {site: (1, 0) for site in ["S1", "S2", "S4", "S5", "S6"]}


def test_visits_out_of_population_by_rule_7_are_not_counted(spec):
    """P1's and P2's only spine diagnosis is the visit itself: P1 has no earlier record
    (insufficient history, S1), P2 a record 400 days before (acute, S2). P3 (chronic) is
    counted at both sites."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1971-05-01
            P3         | 1972-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-06-01 | M54.50 | V1        | S1
            P2         | 2022-04-27 | E11.9  | V0        | S2
            P2         | 2023-06-01 | M54.50 | V1        | S2
            P3         | 2022-11-13 | M54.50 | P30       | S1
            P3         | 2023-06-01 | M54.50 | P31       | S1
            P3         | 2022-11-13 | M54.50 | P30       | S2
            P3         | 2023-06-01 | M54.50 | P31       | S2
        """,
        expected={},
    )
    assert counts(run) == {"S1": (1, 0), "S2": (1, 0)}


def test_visit_with_a_chronic_pain_code_is_counted(spec):
    """Rule 7 at a visit: a chronic-pain code among its diagnoses makes it chronic."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-06-01 | M54.50 | V1        | S1
            P1         | 2023-06-01 | G89.29 | V1        | S1
        """,
        expected={},
    )
    assert counts(run) == {"S1": (1, 0)}


def test_rules_are_evaluated_at_each_visit_date(spec):
    """Cancer on 2022-01-01: the visit 100 days later (S1) is out of the population, the visit
    400 days later (S2) is in it. Both visits are chronic (spine diagnosis 200 days before the
    cancer)."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2021-06-15 | M54.50 | V0        | S9
            P1         | 2022-01-01 | C34.90 | X         | S9
            P1         | 2022-04-11 | M54.50 | V1        | S1
            P1         | 2023-02-05 | M54.50 | V2        | S2
        """,
        expected={},
    )
    assert (counts(run).get("S1", (0, 0)), counts(run)["S2"]) == ((0, 0), (1, 0))


def test_diagnoses_without_site_id_are_not_visits(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-11-13 | M54.50 | P10       |
            P1         | 2023-06-01 | M54.50 | P11       |
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | P11
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    rows = run.rows("site_period_counts", where="period_type = 'all'")
    assert [
        (
            r["site_id"],
            r["in_population_patients"],
            r["discordant_patients"],
            r["sessions_discordant"],
        )
        for r in rows
    ] == [("S1", 0, 0, 1)]


def test_discordant_patient_must_be_in_the_sites_denominator(spec):
    """P1's spine-pain visits are all at S2; the discordant session is at S1: S1 has no
    denominator patient, so no discordant patient either ("those of them")."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-11-13 | M54.50 | P10       | S2
            P1         | 2023-06-01 | M54.50 | P11       | S2
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | P11
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    assert counts(run) == {"S1": (0, 0), "S2": (1, 0)}


def test_non_discordant_sessions_do_not_make_discordant_patients(spec):
    """A facet injection for radicular pain is not addressed, not discordant."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-11-13 | M54.16 | P10       | S1
            P1         | 2023-06-01 | M54.16 | P11       | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64493 | S1      | P11
        """,
        expected={"P1": NOT_ADDRESSED},
    )
    assert counts(run) == {"S1": (1, 0)}


def test_period_filters_visits_and_sessions(spec):
    """A visit and a discordant session before --from (2023-01-01) do not count; the lookback
    for the visit in the period still reaches before it."""
    tables = dict(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1971-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-03-07 | M54.50 | A0        | S1
            P1         | 2022-09-23 | M54.50 | A1        | S1
            P2         | 2022-03-07 | M54.50 | B0        | S1
            P2         | 2023-01-11 | M54.50 | B1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2022-09-23 | 62323 | S1      | A1
        """,
    )
    in_2023 = spec(
        **tables, period_from=date(2023, 1, 1), period_to=date(2023, 12, 31), expected={}
    )
    whole = spec(**tables, expected={"P1": discordant("AX-EPI")})
    assert counts(in_2023) == {"S1": (1, 0)}
    assert counts(whole) == {"S1": (2, 1)}


def test_concordance_is_one_minus_the_discordant_share_with_a_wilson_interval():
    rate, low, high = concordance(2, 10)
    assert rate == pytest.approx(0.8)
    # Wilson 95% interval for 8/10
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
