"""Measure 3.5 rule 9: discordant, with the recommendation the family and pain types give."""

import pytest

from tests.helpers import audit_sessions, outcome

pytestmark = pytest.mark.spec

PATIENTS = """
patient_id | birth_date
P1         | 1970-05-01
"""


def _chronic(code: str) -> str:
    # a spine diagnosis 120 days before the session makes it chronic (rule 7)
    return f"""
    patient_id | event_date | code    | source_id | site_id
    P1         | 2022-11-01 | {code}  | C0        | S1
    P1         | 2023-03-01 | {code}  | C1        | S1
    """


@pytest.mark.parametrize(
    ("procedure_code", "dx", "expected"),
    [
        ("64635", "M54.50", "AX-RFA"),
        ("64625", "M54.50", "AX-RFA"),
        ("64493", "M54.50", "AX-JNT"),
        ("27096", "M46.1", "AX-JNT"),
        ("20552", "M54.2", "AX-IM"),
        ("62323", "M54.50", "AX-EPI"),
        ("64483", "M54.16", "RAD-EPI"),
    ],
)
def test_family_and_pain_type_give_the_recommendation(extract, procedure_code, dx, expected):
    folder = extract(
        patients=PATIENTS,
        diagnoses=_chronic(dx),
        procedures=f"""
        patient_id | event_date | code             | site_id | source_id
        P1         | 2023-03-01 | {procedure_code} | S1      | C1
        """,
    )
    [session] = audit_sessions(folder)
    assert outcome(session) == ("discordant", None, expected)
