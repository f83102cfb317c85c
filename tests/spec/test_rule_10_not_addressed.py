"""Measure 3.5 rule 10: not_addressed - in the population but no recommendation covers the family
for the pain types present (e.g. facet injection with radicular-only indication)."""

import pytest

from audit.config import load_settings
from tests.helpers import audit_sessions, outcome
from tests.helpers import test_pack as make_pack
from tests.spec._common import (
    ADULT,
    chronic_dx,
    code_per_patient,
    one_line,
    one_patient_each,
    only,
    per_case,
)

pytestmark = pytest.mark.spec

NOT_ADDRESSED = ("not_addressed", None, None)


def test_facet_injection_with_radicular_only_indication(extract):
    folder = extract(patients=ADULT, diagnoses=chronic_dx("M54.16"), procedures=one_line("64493"))
    s = only(audit_sessions(folder))
    assert (list(s["pain_types"]), outcome(s)) == (["RADICULAR"], NOT_ADDRESSED)


def test_axial_only_families_with_radicular_only_indication(extract):
    cases = [
        {"procedure": code, "dx": "M54.17", "history": "M54.17"}
        for code in ["64635", "64625", "27096", "20552"]
    ]
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases) == [NOT_ADDRESSED] * len(cases)


def test_drg_rf_with_axial_only_indication(extract, tmp_path):
    pack = make_pack(
        tmp_path, ["DRG_RF,SNOMED,999000001,Test DRG RF code,,true,,,test fixture,provisional"]
    )
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx("M54.50"),
        procedures="""
        patient_id | event_date | code      | code_system | site_id | source_id
        P1         | 2023-06-01 | 999000001 | SNOMED      | S1      | C1
        """,
    )
    s = only(audit_sessions(folder, settings=load_settings(pack=pack)))
    assert (s["family"], outcome(s)) == ("DRG_RF", NOT_ADDRESSED)


def test_not_addressed_is_not_out_of_population(extract):
    """An out-of-population session is never not_addressed: rule 10 comes last."""
    tables = code_per_patient(["C34.90"], "2023-05-01", procedure="64493")
    tables["diagnoses"] = tables["diagnoses"].replace("M54.50", "M54.16")
    s = only(audit_sessions(extract(**tables)))
    assert outcome(s) == ("out_of_population", "cancer", None)
