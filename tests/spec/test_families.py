"""Measure 3.2: procedure families (index procedures), retired codes still seen in history,
codes that are not index procedures, unlisted 64999, and the region rule (from the code where
the code says so, else from the indication diagnoses, else unspecified)."""

import pytest

from tests.helpers import NOT_ADDRESSED, discordant

pytestmark = pytest.mark.spec


def families(run) -> dict[str, str]:
    """{the code of each one-code session: its family}"""
    return {s["codes"][0]: s["family"] for s in run.sessions()}


def test_current_codes_of_each_family(spec):
    """One patient per family, one code per day on claim C1; M54.50 (AXIAL) on the claim and
    on 2022-06-01 (chronic) makes every session discordant with the family's recommendation."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01       # EPIDURAL
            P2         | 1970-05-01       # FACET_INJ
            P3         | 1970-05-01       # SI_INJ
            P4         | 1970-05-01       # FACET_RFA
            P5         | 1970-05-01       # SI_RFA
            P6         | 1970-05-01       # TRIGGER_POINT
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-06-01 | M54.50 | H0        | S1
            P1         | 2023-01-01 | M54.50 | C1        | S1
            P2         | 2022-06-01 | M54.50 | H0        | S1
            P2         | 2023-01-01 | M54.50 | C1        | S1
            P3         | 2022-06-01 | M54.50 | H0        | S1
            P3         | 2023-01-01 | M54.50 | C1        | S1
            P4         | 2022-06-01 | M54.50 | H0        | S1
            P4         | 2023-01-01 | M54.50 | C1        | S1
            P5         | 2022-06-01 | M54.50 | H0        | S1
            P5         | 2023-01-01 | M54.50 | C1        | S1
            P6         | 2022-06-01 | M54.50 | H0        | S1
            P6         | 2023-01-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-01-02 | 62320 | S1      | C1
            P1         | 2023-01-03 | 62321 | S1      | C1
            P1         | 2023-01-04 | 62322 | S1      | C1
            P1         | 2023-01-05 | 62323 | S1      | C1
            P1         | 2023-01-06 | 64479 | S1      | C1
            P1         | 2023-01-07 | 64480 | S1      | C1
            P1         | 2023-01-08 | 64483 | S1      | C1
            P1         | 2023-01-09 | 64484 | S1      | C1
            P1         | 2023-01-10 | 0228T | S1      | C1
            P1         | 2023-01-11 | 0229T | S1      | C1
            P1         | 2023-01-12 | 0230T | S1      | C1
            P1         | 2023-01-13 | 0231T | S1      | C1
            P2         | 2023-01-02 | 64490 | S1      | C1
            P2         | 2023-01-03 | 64491 | S1      | C1
            P2         | 2023-01-04 | 64492 | S1      | C1
            P2         | 2023-01-05 | 64493 | S1      | C1
            P2         | 2023-01-06 | 64494 | S1      | C1
            P2         | 2023-01-07 | 64495 | S1      | C1
            P2         | 2023-01-08 | 0213T | S1      | C1
            P2         | 2023-01-09 | 0214T | S1      | C1
            P2         | 2023-01-10 | 0215T | S1      | C1
            P2         | 2023-01-11 | 0216T | S1      | C1
            P2         | 2023-01-12 | 0217T | S1      | C1
            P2         | 2023-01-13 | 0218T | S1      | C1
            P3         | 2023-01-02 | 27096 | S1      | C1
            P3         | 2023-01-03 | G0260 | S1      | C1
            P3         | 2023-01-04 | 64451 | S1      | C1
            P4         | 2023-01-02 | 64633 | S1      | C1
            P4         | 2023-01-03 | 64634 | S1      | C1
            P4         | 2023-01-04 | 64635 | S1      | C1
            P4         | 2023-01-05 | 64636 | S1      | C1
            P5         | 2023-01-02 | 64625 | S1      | C1
            P6         | 2023-01-02 | 20552 | S1      | C1
            P6         | 2023-01-03 | 20553 | S1      | C1
        """,
        expected={
            "P1": [discordant("AX-EPI")] * 12,
            "P2": [discordant("AX-JNT")] * 12,
            "P3": [discordant("AX-JNT")] * 3,
            "P4": [discordant("AX-RFA")] * 4,
            "P5": discordant("AX-RFA"),
            "P6": [discordant("AX-IM")] * 2,
        },
    )
    assert families(run) == {
        "62320": "EPIDURAL",
        "62321": "EPIDURAL",
        "62322": "EPIDURAL",
        "62323": "EPIDURAL",
        "64479": "EPIDURAL",
        "64480": "EPIDURAL",
        "64483": "EPIDURAL",
        "64484": "EPIDURAL",
        "0228T": "EPIDURAL",
        "0229T": "EPIDURAL",
        "0230T": "EPIDURAL",
        "0231T": "EPIDURAL",
        "64490": "FACET_INJ",
        "64491": "FACET_INJ",
        "64492": "FACET_INJ",
        "64493": "FACET_INJ",
        "64494": "FACET_INJ",
        "64495": "FACET_INJ",
        "0213T": "FACET_INJ",
        "0214T": "FACET_INJ",
        "0215T": "FACET_INJ",
        "0216T": "FACET_INJ",
        "0217T": "FACET_INJ",
        "0218T": "FACET_INJ",
        "27096": "SI_INJ",
        "G0260": "SI_INJ",
        "64451": "SI_INJ",
        "64633": "FACET_RFA",
        "64634": "FACET_RFA",
        "64635": "FACET_RFA",
        "64636": "FACET_RFA",
        "64625": "SI_RFA",
        "20552": "TRIGGER_POINT",
        "20553": "TRIGGER_POINT",
    }


def test_codes_that_are_not_index_procedures_make_no_session(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2022-06-01 | M54.50 | H0        | S1
            P1         | 2023-01-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-01-02 | 62324 | S1      | C1
            P1         | 2023-01-03 | 62325 | S1      | C1
            P1         | 2023-01-04 | 62326 | S1      | C1
            P1         | 2023-01-05 | 62327 | S1      | C1
            P1         | 2023-01-06 | 62318 | S1      | C1
            P1         | 2023-01-07 | 62319 | S1      | C1
            P1         | 2023-01-08 | 62280 | S1      | C1
            P1         | 2023-01-09 | 62281 | S1      | C1
            P1         | 2023-01-10 | 62282 | S1      | C1
            P1         | 2023-01-11 | 63650 | S1      | C1
            P1         | 2023-01-12 | 64628 | S1      | C1
            P1         | 2023-01-13 | 64629 | S1      | C1
            P1         | 2023-01-14 | 27279 | S1      | C1
            P1         | 2023-01-15 | 64999 | S1      | C1
            P1         | 2023-01-16 | 64640 | S1      | C1
        """,
        expected={},
    )
    assert run.rows("index_lines") == []


def test_retired_procedure_codes_still_classify(spec):
    """Each session is dated while its code was current or shortly after it was retired (62311,
    62310: 2016-12-31; 64622, 64626: 2011-12-31; 64475, 64470: 2009-12-31), with its
    indication diagnosis on the claim and 120 days before."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
            P5         | 1970-05-01
            P6         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code  | source_id | site_id
            P1         | 2017-11-01 | M54.5 | C0        | S1
            P1         | 2018-03-01 | M54.5 | C1        | S1
            P2         | 2015-11-02 | M54.5 | C0        | S1
            P2         | 2016-03-01 | M54.5 | C1        | S1
            P3         | 2014-11-01 | M54.5 | C0        | S1
            P3         | 2015-03-01 | M54.5 | C1        | S1
            P4         | 2010-11-01 | M54.2 | C0        | S1
            P4         | 2011-03-01 | M54.2 | C1        | S1
            P5         | 2007-11-02 | M54.5 | C0        | S1
            P5         | 2008-03-01 | M54.5 | C1        | S1
            P6         | 2011-11-02 | M54.2 | C0        | S1
            P6         | 2012-03-01 | M54.2 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2018-03-01 | 62311 | S1      | C1
            P2         | 2016-03-01 | 62310 | S1      | C1
            P3         | 2015-03-01 | 64622 | S1      | C1
            P4         | 2011-03-01 | 64626 | S1      | C1
            P5         | 2008-03-01 | 64475 | S1      | C1
            P6         | 2012-03-01 | 64470 | S1      | C1
        """,
        expected={
            "P1": discordant("AX-EPI"),
            "P2": discordant("AX-EPI"),
            "P3": discordant("AX-RFA"),
            "P4": discordant("AX-RFA"),
            "P5": discordant("AX-JNT"),
            "P6": discordant("AX-JNT"),
        },
    )
    assert families(run) == {
        "62311": "EPIDURAL",
        "62310": "EPIDURAL",
        "64622": "FACET_RFA",
        "64626": "FACET_RFA",
        "64475": "FACET_INJ",
        "64470": "FACET_INJ",
    }


def test_retired_procedure_code_after_retirement_is_reported(spec):
    """62311 was retired on 2016-12-31."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2017-11-01 | M54.50 | C0        | S1
            P1         | 2018-03-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2018-03-01 | 62311 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    rows = run.rows("data_quality", where="check_name = 'retired_code_used_after_retirement'")
    assert [(r["domain"], r["code"], r["row_count"]) for r in rows] == [("procedure", "62311", 1)]


def test_retired_m54_5_on_a_2023_claim_is_still_axial(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code  | source_id | site_id
            P1         | 2023-02-01 | M54.5 | C0        | S1
            P1         | 2023-06-01 | M54.5 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 62323 | S1      | C1
        """,
        expected={"P1": discordant("AX-EPI")},
    )
    assert [list(s["pain_types"]) for s in run.sessions()] == [["AXIAL"]]


def test_other_procedure_code_systems_and_spellings(spec):
    """CPT is an alias of HCPCS; OPCS-4 and ICD-10-PCS codes map where a code exists. The spec
    states the normalisation for diagnosis codes only (3.4); the engine applies the same one to
    procedure codes (procedures_checked.sql), so 'g0260' and 'a521' classify. A HCPCS code
    under another code system (P11) matches nothing: no session."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
            P5         | 1970-05-01
            P6         | 1970-05-01
            P7         | 1970-05-01
            P8         | 1970-05-01
            P9         | 1970-05-01
            P10        | 1970-05-01
            P11        | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.50 | C0        | S1
            P1         | 2023-06-01 | M54.50 | C1        | S1
            P2         | 2023-02-01 | M54.50 | C0        | S1
            P2         | 2023-06-01 | M54.50 | C1        | S1
            P3         | 2023-02-01 | M54.50 | C0        | S1
            P3         | 2023-06-01 | M54.50 | C1        | S1
            P4         | 2023-02-01 | M54.50 | C0        | S1
            P4         | 2023-06-01 | M54.50 | C1        | S1
            P5         | 2023-02-01 | M54.50 | C0        | S1
            P5         | 2023-06-01 | M54.50 | C1        | S1
            P6         | 2023-02-01 | M54.50 | C0        | S1
            P6         | 2023-06-01 | M54.50 | C1        | S1
            P7         | 2023-02-01 | M54.50 | C0        | S1
            P7         | 2023-06-01 | M54.50 | C1        | S1
            P8         | 2023-02-01 | M54.50 | C0        | S1
            P8         | 2023-06-01 | M54.50 | C1        | S1
            P9         | 2023-02-01 | M54.50 | C0        | S1
            P9         | 2023-06-01 | M54.50 | C1        | S1
            P10        | 2023-02-01 | M54.50 | C0        | S1
            P10        | 2023-06-01 | M54.50 | C1        | S1
            P11        | 2023-02-01 | M54.50 | C0        | S1
            P11        | 2023-06-01 | M54.50 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code    | code_system | site_id | source_id
            P1         | 2023-06-01 | 62323   | CPT         | S1      | C1
            P2         | 2023-06-01 | 62323   | cpt         | S1      | C1
            P3         | 2023-06-01 | 62323   | HCPCS       | S1      | C1
            P4         | 2023-06-01 | g0260   |             | S1      | C1
            P5         | 2023-06-01 | 0228t   | HCPCS       | S1      | C1
            P6         | 2023-06-01 | A52.1   | OPCS4       | S1      | C1
            P7         | 2023-06-01 | a521    | OPCS        | S1      | C1
            P8         | 2023-06-01 | 3E0S33Z | ICD10PCS    | S1      | C1
            P9         | 2023-06-01 | 3E0S33Z | ICD-10-PCS  | S1      | C1
            P10        | 2023-06-01 | 3E0U3BZ | ICD10PCS    | S1      | C1
            P11        | 2023-06-01 | 62323   | OPCS4       | S1      | C1
        """,
        expected={
            "P1": discordant("AX-EPI"),
            "P2": discordant("AX-EPI"),
            "P3": discordant("AX-EPI"),
            "P4": discordant("AX-JNT"),
            "P5": discordant("AX-EPI"),
            "P6": discordant("AX-EPI"),
            "P7": discordant("AX-EPI"),
            "P8": discordant("AX-EPI"),
            "P9": discordant("AX-EPI"),
            "P10": discordant("AX-JNT"),
        },
    )
    assert {s["patient_id"]: s["family"] for s in run.sessions()} == {
        "P1": "EPIDURAL",
        "P2": "EPIDURAL",
        "P3": "EPIDURAL",
        "P4": "SI_INJ",
        "P5": "EPIDURAL",
        "P6": "EPIDURAL",
        "P7": "EPIDURAL",
        "P8": "EPIDURAL",
        "P9": "EPIDURAL",
        "P10": "FACET_INJ",
    }


def test_unlisted_64999_with_spine_indication_is_reported_not_classified(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-06-01 | M54.16 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64999 | S1      | C1
        """,
        expected={},
    )
    rows = run.rows(
        "data_quality", where="check_name = 'unlisted_nervous_system_procedure_possible_drg_rf'"
    )
    assert [(r["code"], r["row_count"]) for r in rows] == [("64999", 1)]


def test_unlisted_64999_without_spine_indication_is_not_reported(spec):
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code  | source_id | site_id
            P1         | 2023-06-01 | E11.9 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64999 | S1      | C1
        """,
        expected={},
    )
    rows = run.rows(
        "data_quality", where="check_name = 'unlisted_nervous_system_procedure_possible_drg_rf'"
    )
    assert rows == []


def regions(run) -> dict[str, str]:
    return {s["patient_id"]: s["region"] for s in run.sessions()}


def test_region(spec):
    """P1, P2: the code says the region, whatever the diagnosis; P3, P4: no region in the code
    (trigger point), so from the diagnosis; P5: neither says."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
            P2         | 1970-05-01
            P3         | 1970-05-01
            P4         | 1970-05-01
            P5         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.12 | C0        | S1
            P1         | 2023-06-01 | M54.12 | C1        | S1
            P2         | 2023-02-01 | M54.16 | C0        | S1
            P2         | 2023-06-01 | M54.16 | C1        | S1
            P3         | 2023-02-01 | M54.2  | C0        | S1
            P3         | 2023-06-01 | M54.2  | C1        | S1
            P4         | 2023-02-01 | M54.16 | C0        | S1
            P4         | 2023-06-01 | M54.16 | C1        | S1
            P5         | 2023-02-01 | M54.89 | C0        | S1
            P5         | 2023-06-01 | M54.89 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 64483 | S1      | C1         # lumbar or sacral
            P2         | 2023-06-01 | 64479 | S1      | C1         # cervical or thoracic
            P3         | 2023-06-01 | 20552 | S1      | C1
            P4         | 2023-06-01 | 20552 | S1      | C1
            P5         | 2023-06-01 | 20552 | S1      | C1
        """,
        expected={
            "P1": discordant("RAD-EPI"),
            "P2": discordant("RAD-EPI"),
            "P3": discordant("AX-IM"),
            "P4": NOT_ADDRESSED,
            "P5": discordant("AX-IM"),
        },
    )
    assert regions(run) == {
        "P1": "lumbar_sacral",
        "P2": "cervical_thoracic",
        "P3": "cervical_thoracic",
        "P4": "lumbar_sacral",
        "P5": "unspecified",
    }


def test_region_from_diagnoses_of_both_regions_is_multiple(spec):
    """The spec names cervical/thoracic, lumbar/sacral and unspecified only; where the codes say
    nothing and the indications name both regions, the engine reports 'multiple'
    (anchor_population.sql, indication_region). Pinned here as the engine's choice."""
    run = spec(
        patients="""
            patient_id | birth_date
            P1         | 1970-05-01
        """,
        diagnoses="""
            patient_id | event_date | code   | source_id | site_id
            P1         | 2023-02-01 | M54.2  | C0        | S1
            P1         | 2023-06-01 | M54.2  | C1        | S1
            P1         | 2023-06-01 | M54.16 | C1        | S1
        """,
        procedures="""
            patient_id | event_date | code  | site_id | source_id
            P1         | 2023-06-01 | 20552 | S1      | C1
        """,
        expected={"P1": discordant("AX-IM")},
    )
    assert regions(run) == {"P1": "multiple"}


def test_region_from_a_pcs_code_without_region_comes_from_the_diagnosis(spec):
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
            patient_id | event_date | code    | code_system | site_id | source_id
            P1         | 2023-06-01 | 3E0S33Z | ICD10PCS    | S1      | C1
        """,
        expected={"P1": discordant("RAD-EPI")},
    )
    assert regions(run) == {"P1": "lumbar_sacral"}
