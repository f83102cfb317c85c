"""Measure 3.6: patient-level concordance per site. A diagnosis event is an in-population
spine-pain visit when it is AXIAL or RADICULAR, carries a site_id, and rules 1, 2, 4-7 evaluated
at its date leave it in the population. Per site and period: denominator = distinct patients
with such a visit at the site in the period; discordant patients = those of them with a
discordant session at the site in the period; concordance = 1 - discordant / denominator with a
Wilson 95% interval."""

from datetime import date

import pytest

from audit.disclosure import concordance
from tests.helpers import audit_table
from tests.spec._common import SESSION, before, shift

pytestmark = pytest.mark.spec

PATIENTS = """
patient_id | birth_date
P1         | 1970-05-01
P2         | 1971-05-01
P3         | 1972-05-01
"""
DX = "patient_id | event_date | code | source_id | site_id"
PX = "patient_id | event_date | code | site_id | source_id"


def _chronic_visits(patient: str, site: str, code: str = "M54.50") -> list[str]:
    """An old spine diagnosis (history) and a chronic visit on SESSION at the site."""
    return [
        f"{patient} | {before(200)} | {code} | {patient}0 | {site}",
        f"{patient} | {SESSION} | {code} | {patient}1 | {site}",
    ]


def _counts(folder, **run) -> dict[str, tuple[int, int]]:
    """{site: (in_population_patients, discordant_patients)} for the whole period; a site with
    neither a session nor an in-population visit (and no sites table) has no row."""
    return {
        r["site_id"]: (r["in_population_patients"], r["discordant_patients"])
        for r in audit_table(folder, "site_period_counts", **run)
        if r["period_type"] == "all"
    }


def test_denominator_and_discordant_patients_per_site(extract):
    folder = extract(
        patients=PATIENTS,
        diagnoses="\n".join(
            [
                DX,
                *_chronic_visits("P1", "S1"),
                *_chronic_visits("P2", "S1"),
                *_chronic_visits("P3", "S2"),
            ]
        ),
        procedures=f"""
        {PX}
        P1 | {SESSION} | 62323 | S1 | P11
        P3 | {SESSION} | 64493 | S2 | P31
        P3 | {shift(30)} | 64493 | S2 | P31
        """,
    )
    assert _counts(folder) == {"S1": (2, 1), "S2": (1, 1)}


@pytest.mark.parametrize(
    ("patients", "extra_dx"),
    [
        pytest.param("P1 | 2010-01-01", [], id="rule 1 under 18"),
        pytest.param("P1 |", [], id="rule 2 age unknown"),
        pytest.param("P1 | 1970-05-01", [f"P1 | {before(30)} | C34.90 | X | S9"], id="rule 4"),
        pytest.param("P1 | 1970-05-01", [f"P1 | {before(900)} | M45.9 | X | S9"], id="rule 5"),
        pytest.param("P1 | 1970-05-01", [f"P1 | {before(30)} | S32.010A | X | S9"], id="rule 6"),
    ],
)
def test_visits_out_of_population_by_rules_1_2_4_5_6_are_not_counted(extract, patients, extra_dx):
    """P2 (always in) keeps the site in the table: only P2 is counted."""
    folder = extract(
        patients=f"patient_id | birth_date\n{patients}\nP2 | 1971-05-01",
        diagnoses="\n".join(
            [DX, *_chronic_visits("P1", "S1"), *extra_dx, *_chronic_visits("P2", "S1")]
        ),
    )
    assert _counts(folder)["S1"] == (1, 0)


@pytest.mark.parametrize(
    "first_record_days_before",
    [pytest.param(None, id="insufficient history"), pytest.param(400, id="acute")],
)
def test_visits_out_of_population_by_rule_7_are_not_counted(extract, first_record_days_before):
    """P1's only spine diagnosis is the visit itself; P2 (chronic) keeps S1 in the table."""
    rows = [DX, f"P1 | {SESSION} | M54.50 | V1 | S1", *_chronic_visits("P2", "S1")]
    if first_record_days_before:
        rows.append(f"P1 | {before(first_record_days_before)} | E11.9 | V0 | S1")
    folder = extract(patients=PATIENTS, diagnoses="\n".join(rows))
    assert _counts(folder)["S1"] == (1, 0)


def test_visit_with_a_chronic_pain_code_is_counted(extract):
    """Rule 7 at a visit: a chronic-pain code among its diagnoses makes it chronic."""
    folder = extract(
        patients=PATIENTS,
        diagnoses=f"{DX}\nP1 | {SESSION} | M54.50 | V1 | S1\nP1 | {SESSION} | G89.29 | V1 | S1",
    )
    assert _counts(folder)["S1"] == (1, 0)


def test_rules_are_evaluated_at_each_visit_date(extract):
    """Cancer on 2022-01-01: the visit 100 days later (S1) is out of the population, the visit
    400 days later (S2) is in it. Both visits are chronic (spine diagnosis 200 days before the
    cancer)."""
    cancer = date(2022, 1, 1)
    folder = extract(
        patients=PATIENTS,
        diagnoses=f"""
        {DX}
        P1 | {before(200, cancer)} | M54.50 | V0 | S9
        P1 | {cancer} | C34.90 | X | S9
        P1 | {shift(100, cancer)} | M54.50 | V1 | S1
        P1 | {shift(400, cancer)} | M54.50 | V2 | S2
        """,
    )
    counts = _counts(folder)
    assert (counts.get("S1", (0, 0)), counts["S2"]) == ((0, 0), (1, 0))


def test_diagnoses_without_site_id_are_not_visits(extract):
    folder = extract(
        patients=PATIENTS,
        diagnoses=f"{DX}\nP1 | {before(200)} | M54.50 | P10 |\nP1 | {SESSION} | M54.50 | P11 |",
        procedures=f"{PX}\nP1 | {SESSION} | 62323 | S1 | P11",
    )
    rows = [r for r in audit_table(folder, "site_period_counts") if r["period_type"] == "all"]
    assert [
        (
            r["site_id"],
            r["in_population_patients"],
            r["discordant_patients"],
            r["sessions_discordant"],
        )
        for r in rows
    ] == [("S1", 0, 0, 1)]


def test_discordant_patient_must_be_in_the_sites_denominator(extract):
    """P1's spine-pain visits are all at S2; the discordant session is at S1: S1 has no
    denominator patient, so no discordant patient either ("those of them")."""
    folder = extract(
        patients=PATIENTS,
        diagnoses="\n".join([DX, *_chronic_visits("P1", "S2")]),
        procedures=f"{PX}\nP1 | {SESSION} | 62323 | S1 | P11",
    )
    assert _counts(folder) == {"S1": (0, 0), "S2": (1, 0)}


def test_non_discordant_sessions_do_not_make_discordant_patients(extract):
    folder = extract(
        patients=PATIENTS,
        diagnoses="\n".join([DX, *_chronic_visits("P1", "S1", "M54.16")]),
        procedures=f"""
        {PX}
        P1 | {SESSION} | 64493 | S1 | P11
        """,
    )
    assert _counts(folder)["S1"] == (1, 0)


def test_period_filters_visits_and_sessions(extract):
    """A visit and a discordant session before --from do not count; the lookback for the visit
    in the period still reaches before it."""
    start = date(2023, 1, 1)
    folder = extract(
        patients=PATIENTS,
        diagnoses=f"""
        {DX}
        P1 | {before(300, start)} | M54.50 | A0 | S1
        P1 | {before(100, start)} | M54.50 | A1 | S1
        P2 | {before(300, start)} | M54.50 | B0 | S1
        P2 | {shift(10, start)} | M54.50 | B1 | S1
        """,
        procedures=f"""
        {PX}
        P1 | {before(100, start)} | 62323 | S1 | A1
        """,
    )
    assert _counts(folder, period_from=start, period_to=date(2023, 12, 31)) == {"S1": (1, 0)}
    assert _counts(folder) == {"S1": (2, 1)}


def test_concordance_is_one_minus_the_discordant_share_with_a_wilson_interval():
    rate, low, high = concordance(2, 10)
    assert rate == pytest.approx(0.8)
    # Wilson 95% interval for 8/10
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
