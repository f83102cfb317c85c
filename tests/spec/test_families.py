"""Measure 3.2: procedure families (index procedures), retired codes still seen in history,
codes that are not index procedures, unlisted 64999, and the region rule (from the code where
the code says so, else from the indication diagnoses, else unspecified)."""

from datetime import date

import pytest

from tests.helpers import audit_sessions, audit_table, outcome
from tests.spec._common import (
    ADULT,
    SESSION,
    audit_tables,
    before,
    chronic_dx,
    one_line,
    one_patient_each,
    only,
    per_case,
)

pytestmark = pytest.mark.spec

FAMILIES = {
    "EPIDURAL": [
        "62320",
        "62321",
        "62322",
        "62323",
        "64479",
        "64480",
        "64483",
        "64484",
        "0228T",
        "0229T",
        "0230T",
        "0231T",
    ],
    "FACET_INJ": [
        "64490",
        "64491",
        "64492",
        "64493",
        "64494",
        "64495",
        "0213T",
        "0214T",
        "0215T",
        "0216T",
        "0217T",
        "0218T",
    ],
    "SI_INJ": ["27096", "G0260", "64451"],
    "FACET_RFA": ["64633", "64634", "64635", "64636"],
    "SI_RFA": ["64625"],
    "TRIGGER_POINT": ["20552", "20553"],
}
NOT_INDEX = [
    "62324",
    "62325",
    "62326",
    "62327",
    "62318",
    "62319",
    "62280",
    "62281",
    "62282",
    "63650",
    "64628",
    "64629",
    "27279",
    "64999",
    "64640",
]


def _one_patient_per_code(codes: list[str], session: date = SESSION) -> dict[str, str]:
    """Patient id = code; each with a chronic AXIAL indication and one line of the code."""
    patients = ["patient_id | birth_date"]
    diagnoses = ["patient_id | event_date | code | source_id | site_id"]
    procedures = ["patient_id | event_date | code | site_id | source_id"]
    for code in codes:
        patients.append(f"{code} | 1970-05-01")
        diagnoses.append(f"{code} | {before(120, session)} | M54.50 | C0 | S1")
        diagnoses.append(f"{code} | {session} | M54.50 | C1 | S1")
        procedures.append(f"{code} | {session} | {code} | S1 | C1")
    return {
        k: "\n".join(v)
        for k, v in {"patients": patients, "diagnoses": diagnoses, "procedures": procedures}.items()
    }


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_current_codes_of_each_family(extract, family):
    codes = FAMILIES[family]
    sessions = audit_sessions(extract(**_one_patient_per_code(codes)))
    assert {s["patient_id"]: s["family"] for s in sessions} == dict.fromkeys(codes, family)


def test_codes_that_are_not_index_procedures_make_no_session(extract):
    folder = extract(**_one_patient_per_code(NOT_INDEX))
    tables = audit_tables(folder, "session_outcomes", "index_lines")
    assert (tables["session_outcomes"], tables["index_lines"]) == ([], [])


@pytest.mark.parametrize(
    ("code", "session", "family", "dx"),
    [
        ("62311", date(2018, 3, 1), "EPIDURAL", "M54.5"),  # retired 2016-12-31
        ("62310", date(2016, 3, 1), "EPIDURAL", "M54.5"),
        ("64622", date(2015, 3, 1), "FACET_RFA", "M54.5"),  # retired 2011-12-31
        ("64626", date(2011, 3, 1), "FACET_RFA", "M54.2"),
        ("64475", date(2008, 3, 1), "FACET_INJ", "M54.5"),  # retired 2009-12-31
        ("64470", date(2012, 3, 1), "FACET_INJ", "M54.2"),
    ],
)
def test_retired_procedure_codes_still_classify(extract, code, session, family, dx):
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx(dx, session=session),
        procedures=one_line(code, session=session),
    )
    s = only(audit_sessions(folder))
    assert s["family"] == family
    assert s["outcome"] == "discordant"


def test_retired_procedure_code_after_retirement_is_reported(extract):
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx(session=date(2018, 3, 1)),
        procedures=one_line("62311", session=date(2018, 3, 1)),
    )
    rows = [
        r
        for r in audit_table(folder, "data_quality")
        if r["check_name"] == "retired_code_used_after_retirement"
    ]
    assert [(r["domain"], r["code"], r["row_count"]) for r in rows] == [("procedure", "62311", 1)]


def test_retired_m54_5_on_a_2023_claim_is_still_axial(extract):
    folder = extract(patients=ADULT, diagnoses=chronic_dx("M54.5"), procedures=one_line())
    s = only(audit_sessions(folder))
    assert (list(s["pain_types"]), outcome(s)) == (["AXIAL"], ("discordant", None, "AX-EPI"))


CODE_SYSTEMS = [
    ("62323", "CPT", "EPIDURAL"),
    ("62323", "cpt", "EPIDURAL"),
    ("62323", "HCPCS", "EPIDURAL"),
    ("g0260", "", "SI_INJ"),
    ("0228t", "HCPCS", "EPIDURAL"),
    ("A52.1", "OPCS4", "EPIDURAL"),
    ("a521", "OPCS", "EPIDURAL"),
    ("3E0S33Z", "ICD10PCS", "EPIDURAL"),
    ("3E0S33Z", "ICD-10-PCS", "EPIDURAL"),
    ("3E0U3BZ", "ICD10PCS", "FACET_INJ"),
    ("62323", "OPCS4", None),  # a HCPCS code under another code system matches nothing
]


def test_other_procedure_code_systems_and_spellings(extract):
    """CPT is an alias of HCPCS; OPCS-4 and ICD-10-PCS codes map where a code exists. The spec
    states the normalisation for diagnosis codes only (3.4); the engine applies the same one to
    procedure codes (procedures_checked.sql), so 'g0260' and 'a521' classify."""
    cases = [{"procedure": code, "proc_system": system} for code, system, _ in CODE_SYSTEMS]
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases, lambda s: s["family"]) == [f for _, _, f in CODE_SYSTEMS]


def _unlisted(extract, dx_code: str):
    folder = extract(
        patients=ADULT,
        diagnoses=f"""
        patient_id | event_date | code      | source_id | site_id
        P1         | {SESSION}  | {dx_code} | C1        | S1
        """,
        procedures=one_line("64999"),
    )
    tables = audit_tables(folder, "session_outcomes", "data_quality")
    return tables["session_outcomes"], [
        r
        for r in tables["data_quality"]
        if r["check_name"] == "unlisted_nervous_system_procedure_possible_drg_rf"
    ]


def test_unlisted_64999_with_spine_indication_is_reported_not_classified(extract):
    sessions, reported = _unlisted(extract, "M54.16")
    assert sessions == []
    assert [(r["code"], r["row_count"]) for r in reported] == [("64999", 1)]


def test_unlisted_64999_without_spine_indication_is_not_reported(extract):
    sessions, reported = _unlisted(extract, "E11.9")
    assert (sessions, reported) == ([], [])


REGIONS = [
    ("64483", "M54.12", "lumbar_sacral"),  # the code says so, whatever the diagnosis
    ("64479", "M54.16", "cervical_thoracic"),
    ("20552", "M54.2", "cervical_thoracic"),  # no region in the code: from the diagnosis
    ("20552", "M54.16", "lumbar_sacral"),
    ("20552", "M54.89", "unspecified"),  # neither says
]


def test_region(extract):
    cases = [{"procedure": code, "dx": dx, "history": dx} for code, dx, _ in REGIONS]
    sessions = audit_sessions(extract(**one_patient_each(cases)))
    assert per_case(sessions, cases, lambda s: s["region"]) == [r for _, _, r in REGIONS]


def test_region_from_diagnoses_of_both_regions_is_multiple(extract):
    """The spec names cervical/thoracic, lumbar/sacral and unspecified only; where the codes say
    nothing and the indications name both regions, the engine reports 'multiple'
    (anchor_population.sql, indication_region). Pinned here as the engine's choice."""
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx("M54.2", extra=f"P1 | {SESSION} | M54.16 | C1 | S1"),
        procedures=one_line("20552"),
    )
    assert only(audit_sessions(folder))["region"] == "multiple"


def test_region_from_a_pcs_code_without_region_comes_from_the_diagnosis(extract):
    folder = extract(
        patients=ADULT,
        diagnoses=chronic_dx("M54.16"),
        procedures=f"""
        patient_id | event_date | code    | code_system | site_id | source_id
        P1         | {SESSION}  | 3E0S33Z | ICD10PCS    | S1      | C1
        """,
    )
    assert only(audit_sessions(folder))["region"] == "lumbar_sacral"
