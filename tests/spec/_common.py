"""Small builders shared by the spec tests: dates relative to a session, standard inline tables.

The tables stay inline in each test; these only spare repeating the same patient and the same
"chronic spine pain" history in every file.
"""

from __future__ import annotations

from datetime import date, timedelta

# The default session date of the spec tests (as_of_date is 2026-01-01 in tests/helpers.py).
SESSION = date(2023, 6, 1)

# An adult whose age never matters.
ADULT = """
patient_id | birth_date
P1         | 1970-05-01
"""


def shift(days: int, ref: date = SESSION) -> str:
    """ISO date `days` after ref (negative: before)."""
    return (ref + timedelta(days=days)).isoformat()


def before(days: int, ref: date = SESSION) -> str:
    """ISO date `days` before ref."""
    return shift(-days, ref)


def chronic_dx(
    code: str = "M54.50",
    session: date = SESSION,
    patient: str = "P1",
    site: str = "S1",
    extra: str = "",
) -> str:
    """A spine diagnosis 120 days before the session (rule 7: chronic) on claim C0 and the same
    code on the session's claim C1 (rule 3: the indication); `extra` adds rows."""
    return f"""
    patient_id | event_date          | code   | source_id | site_id
    {patient}  | {before(120, session)} | {code} | C0        | {site}
    {patient}  | {session.isoformat()}  | {code} | C1        | {site}
    {extra}
    """


def one_line(
    code: str = "62323",
    session: date = SESSION,
    patient: str = "P1",
    site: str = "S1",
    source: str = "C1",
) -> str:
    """One procedure line on the session's claim."""
    return f"""
    patient_id | event_date            | code   | site_id | source_id
    {patient}  | {session.isoformat()} | {code} | {site}  | {source}
    """


def only(sessions: list[dict]) -> dict:
    """The one session of a run (fails with the sessions shown when there is not exactly one)."""
    assert len(sessions) == 1, sessions
    return sessions[0]


def code_per_patient(
    codes: list[str], event_date: str, code_system: str = "", procedure: str = "62323"
) -> dict[str, str]:
    """Tables for one patient per code: each has the chronic AXIAL history of chronic_dx, one
    procedure line on SESSION and `code` dated event_date on another claim. Saves one run per
    code in the tests that walk through a code list; the patient id is the code."""
    patients = ["patient_id | birth_date"]
    diagnoses = ["patient_id | event_date | code | source_id | site_id | code_system"]
    procedures = ["patient_id | event_date | code | site_id | source_id"]
    for code in codes:
        patients.append(f"{code} | 1970-05-01")
        diagnoses.append(f"{code} | {before(120)} | M54.50 | C0 | S1 |")
        diagnoses.append(f"{code} | {SESSION} | M54.50 | C1 | S1 |")
        diagnoses.append(f"{code} | {event_date} | {code} | C9 | S1 | {code_system}")
        procedures.append(f"{code} | {SESSION} | {procedure} | S1 | C1")
    return {
        "patients": "\n".join(patients),
        "diagnoses": "\n".join(diagnoses),
        "procedures": "\n".join(procedures),
    }


def outcomes_by_patient(sessions: list[dict]) -> dict[str, tuple]:
    """{patient_id: (outcome, reason, recommendation)} for runs with one session per patient."""
    out = {s["patient_id"]: (s["outcome"], s["reason"], s["recommendation"]) for s in sessions}
    assert len(out) == len(sessions), sessions
    return out


def one_patient_each(cases: list[dict]) -> dict[str, str]:
    """Tables with one patient per case (patient K<i> for cases[i]), to check many cases in one
    run. Keys of a case, all optional:
      procedure (62323), proc_system, modifiers, status: the one line on SESSION (claim C1, S1);
      dx (M54.50), dx_system: the indication diagnosis on SESSION on claim C1;
      history (M54.50 120 days before on claim C0: chronic; None for no history row);
      birth_date (1970-05-01), birth_year."""
    patients = ["patient_id | birth_date | birth_year"]
    diagnoses = ["patient_id | event_date | code | source_id | site_id | code_system"]
    procedures = [
        "patient_id | event_date | code | code_system | site_id | source_id | modifiers | status"
    ]
    for i, case in enumerate(cases):
        pid = f"K{i}"
        patients.append(
            f"{pid} | {case.get('birth_date', '1970-05-01')} | {case.get('birth_year', '')}"
        )
        history = case.get("history", "M54.50")
        if history:
            diagnoses.append(f"{pid} | {before(120)} | {history} | C0 | S1 |")
        diagnoses.append(
            f"{pid} | {SESSION} | {case.get('dx', 'M54.50')} | C1 | S1 "
            f"| {case.get('dx_system', '')}"
        )
        procedures.append(
            f"{pid} | {SESSION} | {case.get('procedure', '62323')} "
            f"| {case.get('proc_system', '')} | S1 | C1 | {case.get('modifiers', '')} "
            f"| {case.get('status', '')}"
        )
    return {
        "patients": "\n".join(patients),
        "diagnoses": "\n".join(diagnoses),
        "procedures": "\n".join(procedures),
    }


def per_case(sessions: list[dict], cases: list, key=None) -> list:
    """The sessions of a one_patient_each run in case order, as key(session) (default: the
    outcome triple); a case without a session gives None."""
    key = key or (lambda s: (s["outcome"], s["reason"], s["recommendation"]))
    found = {}
    for s in sessions:
        assert s["patient_id"] not in found, f"more than one session for {s['patient_id']}"
        found[s["patient_id"]] = key(s)
    return [found.get(f"K{i}") for i in range(len(cases))]


def audit_tables(folder, *tables: str, settings=None, **run) -> dict[str, list[dict]]:
    """Several step tables of ONE in-process run (tests.helpers.audit_table runs once per
    table); as_of_date fixed as in tests.helpers."""
    from dataclasses import replace

    from audit.config import load_settings
    from audit.run import classify

    settings = settings or load_settings()
    settings = replace(settings, as_of_date=settings.as_of_date or date(2026, 1, 1))
    classified = classify(folder, settings, **run)
    try:
        out = {}
        for table in tables:
            rel = classified.con.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in rel.description]
            out[table] = [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
        return out
    finally:
        classified.con.close()
