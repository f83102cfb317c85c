"""Measure 3.5 rule 10: not_addressed - in the population but no recommendation covers the family
for the pain types present (e.g. facet injection with radicular-only indication).

Each patient has its indication diagnosis on the session's claim C1 and again 120 days before
(chronic)."""

import pytest

from audit.config import load_settings
from tests.helpers import NOT_ADDRESSED, out_of_population
from tests.helpers import test_pack as make_pack

pytestmark = pytest.mark.spec


def test_facet_injection_with_radicular_only_indication(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.16 | C0        | S1
            P1         | 2023-06-01 | M54.16 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64493 | S1      | C1
        """,
        expected={"P1": NOT_ADDRESSED},
    )
    assert [list(s["pain_types"]) for s in run.sessions()] == [["RADICULAR"]]


def test_axial_only_families_with_radicular_only_indication(spec):
    """Facet RFA, SI RFA, SI injection, trigger point with M54.17 (RADICULAR)."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.17 | C0        | S1
            P1         | 2023-06-01 | M54.17 | C1        | S1
            P2         | 2023-02-01 | M54.17 | C0        | S1
            P2         | 2023-06-01 | M54.17 | C1        | S1
            P3         | 2023-02-01 | M54.17 | C0        | S1
            P3         | 2023-06-01 | M54.17 | C1        | S1
            P4         | 2023-02-01 | M54.17 | C0        | S1
            P4         | 2023-06-01 | M54.17 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64635 | S1      | C1
            P2         | 2023-06-01 | 64625 | S1      | C1
            P3         | 2023-06-01 | 27096 | S1      | C1
            P4         | 2023-06-01 | 20552 | S1      | C1
        """,
        expected={
            "P1": NOT_ADDRESSED,
            "P2": NOT_ADDRESSED,
            "P3": NOT_ADDRESSED,
            "P4": NOT_ADDRESSED,
        },
    )


def test_drg_rf_with_axial_only_indication(spec, tmp_path):
    pack = make_pack(
        tmp_path, ["DRG_RF,SNOMED,999000001,Test DRG RF code,,true,,,test fixture,provisional"]
    )
    run = spec(
        settings=load_settings(pack=pack),
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code      | code_system | site_id | source_id
            P1         | 2023-06-01 | 999000001 | SNOMED      | S1      | C1
        """,
        expected={"P1": NOT_ADDRESSED},
    )
    assert [s["family"] for s in run.sessions()] == ["DRG_RF"]


def test_not_addressed_is_not_out_of_population(spec):
    """An out-of-population session is never not_addressed: rule 10 comes last. A facet
    injection with a radicular-only indication (not addressed) and a cancer a month before."""
    spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.16 | C0        | S1
            P1         | 2023-06-01 | M54.16 | C1        | S1
            P1         | 2023-05-01 | C34.90 | C9        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64493 | S1      | C1
        """,
        expected={"P1": out_of_population("cancer")},
    )
