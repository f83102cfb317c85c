"""Sessions you can trace (issue 13): sessions.parquet lists the source ids (claim, visit or
encounter) and the rendering and billing provider ids of a session's lines, merged lines
included, each sorted and distinct, empty when no line has one."""

import pytest

from tests.helpers import discordant

pytestmark = pytest.mark.spec

PATIENTS = """
    patient_id | birth_date
    P1         | 1970-05-01
    P2         | 1970-05-01
"""
DIAGNOSES = """
    patient_id | event_date | code   | source_id | site_id
    P1         | 2023-02-01 | M54.50 | C0        | S1
    P1         | 2023-06-01 | M54.50 | C2        | S1
    P2         | 2023-02-01 | M54.50 | D0        | S1
    P2         | 2023-06-01 | M54.50 | D1        | S1
"""


def test_a_session_of_two_merged_lines_on_two_claims_lists_both_sorted(spec):
    """P1: a facet injection on claim C2 merges into the facet RFA on claim C1 (measure 3.3):
    one session, both claims, both rendering and both billing providers, each once, sorted."""
    run = spec(
        patients=PATIENTS,
        diagnoses=DIAGNOSES,
        procedures="""
            patient_id | event_date | code | site_id | source_id | provider_id | billing_provider_id
            P1 | 2023-06-01 | 64493 | S1 | C2        | R9          | B2
            P1 | 2023-06-01 | 64635 | S1 | C1        | R1          | B1
            P1 | 2023-06-01 | 64636 | S1 | C1        | R1          | B1
            P2 | 2023-06-01 | 64635 | S1 | D1        | R1          | B1
        """,
        expected={"P1": discordant("AX-RFA"), "P2": discordant("AX-RFA")},
    )
    by_patient = {s["patient_id"]: s for s in run.sessions()}
    p1 = by_patient["P1"]
    assert p1["merged_families"] == ["FACET_INJ", "FACET_RFA"]
    assert p1["source_ids"] == ["C1", "C2"]
    assert p1["provider_ids"] == ["R1", "R9"]
    assert p1["billing_provider_ids"] == ["B1", "B2"]
    assert by_patient["P2"]["source_ids"] == ["D1"]


def test_lines_without_ids_give_empty_lists_and_blank_ids_are_trimmed(spec):
    """P1: no line has a provider, one line has no claim id; P2: ids with blanks around them."""
    run = spec(
        patients=PATIENTS,
        diagnoses=DIAGNOSES,
        procedures="""
            patient_id | event_date | code | site_id | source_id | provider_id | billing_provider_id
            P1 | 2023-06-01 | 64635 | S1 | C1        |             |
            P1 | 2023-06-01 | 64636 | S1 |           |             |
            P2 | 2023-06-01 | 64635 | S1 | " D1 "    | " R1"       | "B1 "
        """,
        expected={"P1": discordant("AX-RFA"), "P2": discordant("AX-RFA")},
    )
    by_patient = {s["patient_id"]: s for s in run.sessions()}
    assert by_patient["P1"]["source_ids"] == ["C1"]
    assert by_patient["P1"]["provider_ids"] == []
    assert by_patient["P1"]["billing_provider_ids"] == []
    assert by_patient["P2"]["source_ids"] == ["D1"]
    assert by_patient["P2"]["provider_ids"] == ["R1"]
    assert by_patient["P2"]["billing_provider_ids"] == ["B1"]
