"""The spec-test fixture: complete inline tables in, the expected outcome of every patient's
sessions checked, in the style of OpenSAFELY ehrQL's spec tests.

    def test_spine_diagnosis_90_days_before_is_chronic(spec):
        spec(
            patients='''
                patient_id | birth_date
                P1         | 1970-05-01
            ''',
            diagnoses='''
                patient_id | event_date | code   | source_id | site_id
                P1         | 2023-03-03 | M54.50 | C0        | S1      # 90 days before
                P1         | 2023-06-01 | M54.50 | C1        | S1
            ''',
            procedures='''
                patient_id | event_date | code  | site_id | source_id
                P1         | 2023-06-01 | 62323 | S1      | C1
            ''',
            expected={"P1": discordant("AX-EPI")},
        )

``expected`` maps each patient with sessions to the (outcome, reason, recommendation) of its
session, or to a list of them, one per session in the order of sessions.parquet (site, date,
family), when it has several; a patient without a session is left out. The run is returned
(tests.helpers.AuditRun) for further checks: its ``sessions()`` and any step table's ``rows()``.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

import tests.helpers
from audit.config import Settings
from tests.helpers import AuditRun, Outcome, classified, outcome, write_extract


def outcomes_by_patient(sessions: list[dict]) -> dict[str, Outcome | list[Outcome]]:
    """{patient: outcome triple}, or a list of triples in session order for several sessions."""
    grouped: dict[str, list[Outcome]] = {}
    for s in sessions:
        grouped.setdefault(s["patient_id"], []).append(outcome(s))
    return {p: found[0] if len(found) == 1 else found for p, found in sorted(grouped.items())}


@pytest.fixture
def spec(tmp_path):
    """spec(patients=..., diagnoses=..., procedures=..., coverage=..., sites=...,
    expected={patient: triple}, settings=None, period_from=None, period_to=None) -> AuditRun"""
    runs = ExitStack()
    count = 0

    def check(
        *,
        patients: str,
        expected: dict[str, Outcome | list[Outcome]],
        diagnoses: str | None = None,
        procedures: str | None = None,
        coverage: str | None = None,
        sites: str | None = None,
        settings: Settings | None = None,
        **run,
    ) -> AuditRun:
        nonlocal count
        count += 1
        folder = write_extract(
            tmp_path / f"extract{count}",
            patients=patients,
            diagnoses=diagnoses,
            procedures=procedures,
            coverage=coverage,
            sites=sites,
        )
        result = runs.enter_context(classified(folder, settings, **run))
        assert outcomes_by_patient(result.sessions()) == expected
        if tests.helpers.ENGINE == "spark":  # every column of every session, as on DuckDB
            with classified(folder, settings, engine="duckdb", **run) as reference:
                assert result.sessions() == reference.sessions()
        return result

    with runs:
        yield check
