"""Write a run's output folder: row-level files into internal/, the reports into shareable/,
the landing page on top, and the manifests. The folder itself (a temporary folder moved into
place, the ownership marker) is audit.publish's; what the reports are told is audit.context's.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from audit import __version__
from audit.adapters import AdapterResult
from audit.config import Settings
from audit.context import ReportContext
from audit.csvfile import write_csv
from audit.disclosure import resolve_profile
from audit.engine import Engine
from audit.gate import GateResult, gate_html_context, write_gate_outputs
from audit.inputs import sha256
from audit.pack import Notice, Pack
from audit.payer import (
    CASE_LIST_SCHEMA,
    PROVIDER_SCHEMA,
    case_list_table,
    disclose_providers,
    write_table,
)
from audit.pipeline import PipelineResult
from audit.publish import INTERNAL, SHAREABLE, OutputFolder
from audit.workbook import Sheet

# sessions.parquet, in this column order (measure spec 5: the first twelve are the contract)
SESSION_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "site_id",
    "session_date",
    "family",
    "region",
    "pain_types",
    "outcome",
    "reason",
    "recommendation",
    "codes",
    "allowed_amount",
    "age",
    "rule",
    "line_count",
    "merged_families",
    "indication_codes",
    "has_trial_modifier",
    "has_trial_diagnosis",
    "exclusion_code",
    "exclusion_date",
    "chronic_evidence_code",
    "chronic_evidence_date",
    "history_start",
    "source_ids",
    "provider_ids",
    "billing_provider_ids",
)
SESSION_ORDER: tuple[str, ...] = ("site_id", "session_date", "patient_id", "family")
QUARANTINE_COLUMNS = ("table_name", "file_name", "row_number", "column_name", "reason", "value")
MANIFEST_NAME = "manifest.json"  # internal/ (full) and shareable/ (public)
# rows of one line (the items of a FHIR claim) are ordered by what they say
QUARANTINE_ORDER = "table_name, row_number, file_name, column_name, reason, value"


INTERNAL_WORKBOOK = "spine-audit-internal.xlsx"
PROVIDER_SPEND_COLUMNS = (
    "site_id",
    "period_type",
    "period_start",
    "provider_role",
    "provider_id",
    "recommendation",
    "family",
    "discordant_sessions",
    "discordant_patients",
    "allowed_amount",
)


def write_payer_outputs(engine: Engine, internal: Path, settings: Settings) -> list[Sheet]:
    """internal/providers.csv and .parquet (always: counts through the suppression profile in
    a pass of their own), internal/case_list.csv and .parquet (only with the case_list
    setting); returns them as sheets of the internal workbook."""
    providers = disclose_providers(
        engine.frame(
            # S608: columns are module constants
            f"SELECT {', '.join(PROVIDER_SPEND_COLUMNS)} FROM provider_spend "  # noqa: S608
            "ORDER BY site_id, period_type, period_start, provider_role, provider_id, "
            "recommendation, family"
        ),
        resolve_profile(settings.suppression),
        settings.currency,
    )
    write_table(providers, PROVIDER_SCHEMA, internal, "providers")
    # the sheet holds the whole audit period per provider; the monthly rows (nine in ten rows
    # of a large network, a million cells at 20M input rows) stay in providers.csv / .parquet
    whole = providers[providers["period_type"] == "all"]
    sheets = [
        Sheet(
            "Providers",
            "Discordant sessions and allowed amounts by site, provider role and provider, "
            "whole audit period",
            PROVIDER_SCHEMA.names,
            [
                [
                    "*" if c in _PROVIDER_HIDDEN and pd.isna(v) else v
                    for c, v in zip(PROVIDER_SCHEMA.names, row, strict=True)
                ]
                for row in whole.itertuples(index=False, name=None)
            ],
            "Internal: provider ids. Counts through the suppression profile (* hidden); a "
            "session counts for every provider on its lines, its amount is split by line. "
            "By month: internal/providers.csv.",
        )
    ]
    if settings.case_list:
        cases = case_list_table(
            engine.frame(
                # S608: columns are module constants
                f"SELECT {', '.join(c for c in CASE_LIST_SCHEMA.names if c not in _DERIVED)} "  # noqa: S608
                "FROM case_list ORDER BY site_id, session_date, patient_id, family"
            ),
            settings.currency,
        )
        write_table(cases, CASE_LIST_SCHEMA, internal, "case_list")
        sheets.append(
            Sheet(
                "Case list",
                "Discordant sessions for clinical review",
                CASE_LIST_SCHEMA.names,
                list(cases.itertuples(index=False, name=None)),
                "Internal: patient ids. Never share; never linked from the shareable pages.",
            )
        )
    return sheets


_PROVIDER_HIDDEN = frozenset(
    {"discordant_sessions", "discordant_patients", "allowed_amount_discordant"}
)
_DERIVED = frozenset({"evidence", "currency"})  # made in Python (audit.payer)


@dataclass
class RunResult:
    out_dir: Path
    sessions: int
    outcomes: dict[str, int]
    quarantined: int
    notices: list[Notice]  # the pack's definition check, then run warnings (the CLI prints them)
    pipeline: PipelineResult
    manifest: dict[str, Any] = field(default_factory=dict)


def write_table_csv(engine: Engine, table: str, path: Path) -> int:
    """A quarantine-shaped table (QUARANTINE_COLUMNS) as CSV, in QUARANTINE_ORDER, streamed."""
    rows = (
        row
        for batch in engine.batches(
            # S608: table is one of two fixed names; columns and order are module constants
            f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM {table} "  # noqa: S608
            f"ORDER BY {QUARANTINE_ORDER}"
        )
        for row in zip(*(c.to_pylist() for c in batch.columns), strict=True)
    )
    return write_csv(path, QUARANTINE_COLUMNS, rows)


def reconciliation(engine: Engine, table_rows: dict[str, int]) -> dict[str, Any]:
    """Per canonical table: rows read = counted + not counting by status + quarantined."""
    rows = engine.rows(
        "SELECT table_name, disposition, detail, row_count FROM input_reconciliation"
    )
    out: dict[str, Any] = {}
    for table, n_rows in table_rows.items():
        entry: dict[str, Any] = {
            "input_rows": n_rows,
            "counted": {},
            "not_counting_status": {},
            "quarantined": {},
        }
        for t, disposition, detail, n in rows:
            if t == table:
                entry[disposition][detail if detail is not None else "(blank)"] = n
        total = sum(
            sum(entry[k].values()) for k in ("counted", "not_counting_status", "quarantined")
        )
        entry["accounted_rows"] = total
        entry["balanced"] = total == n_rows
        out[table] = entry
    return out


# An extract with more than this share of its diagnoses in code systems without verified value
# sets is warned about: the pack cannot see most of its spine-pain visits and indications.
CODING_WARNING_SHARE = 0.5


def _diagnosis_coding(engine: Engine) -> dict[str, Any]:
    """How much of the extract's diagnoses the pack's value sets can see, per code system
    (diagnosis_coding), and a warning when most diagnoses are in a code system whose value sets
    are missing, provisional or partial: the in-population count is then undercounted."""
    rows = engine.rows(
        "SELECT code_system, diagnoses, matched_diagnoses, value_sets, value_sets_with_codes, "
        "value_sets_defined FROM diagnosis_coding"
    )
    systems = [
        {
            "code_system": system,
            "diagnoses": int(n),
            "matched_diagnoses": int(matched),
            "matched_share": round(matched / n, 4) if n else None,
            "value_sets": status,
            "value_sets_with_codes": int(with_codes),
            "value_sets_defined": int(defined),
        }
        for system, n, matched, status, with_codes, defined in rows
    ]
    total = sum(s["diagnoses"] for s in systems)
    weak = [s for s in systems if s["value_sets"] != "verified"]
    share = round(sum(s["diagnoses"] for s in weak) / total, 4) if total else None
    warning = None
    if share is not None and share > CODING_WARNING_SHARE:
        named = "; ".join(
            f"{s['code_system']}: {_share_text(s['diagnoses'] / total)} of diagnoses, "
            f"{_share_text(s['matched_share'] or 0)} of them matched, "
            + (
                "no value sets in the pack"
                if s["value_sets"] == "none"
                else f"{s['value_sets_with_codes']} of {s['value_sets_defined']} value sets, "
                "provisional"
            )
            for s in weak
        )
        warning = (
            f"{_share_text(share)} of the diagnoses are in code systems without verified value "
            f"sets ({named}). Spine-pain visits, indications and exclusions coded there are "
            "missed, so the in-population count is undercounted."
        )
    return {
        "code_systems": systems,
        "share_without_verified_value_sets": share,
        "undercount_warning": warning,
    }


def _share_text(share: float) -> str:
    return f"{share * 100:.0f}%" if share >= 0.01 or share == 0 else "<1%"


def report_frames(engine: Engine) -> dict[str, Any]:
    """The report-sized frames the published pages are made from."""
    return {
        "site_period_counts": engine.frame("SELECT * FROM site_period_counts"),
        "site_outcome_counts": engine.frame("SELECT * FROM site_outcome_counts"),
        "site_attrition": engine.frame("SELECT * FROM site_attrition ORDER BY site_id, step"),
        "unmeasurable": engine.frame(
            "SELECT recommendation_id, family, label, possible_case_label, meaning "
            "FROM pack_unmeasurable_recommendations ORDER BY recommendation_id, family"
        ),
        "possible_cases": engine.frame(
            "SELECT site_id, recommendation, family, possible_cases "
            "FROM unmeasurable_possible_cases ORDER BY site_id, recommendation, family"
        ),
        "site_trend_counts": engine.frame("SELECT * FROM site_trend_counts"),
        "site_attrition_patients": engine.frame("SELECT * FROM site_attrition_patients"),
        "recommendations": engine.frame(
            "SELECT r.recommendation_id, r.pain_type, r.family, r.summary, "
            "d.label AS family_label FROM pack_recommendations AS r "
            "LEFT JOIN pack_value_set_definitions AS d ON d.value_set = r.family "
            "ORDER BY r.recommendation_id, r.family"
        ),
    }


def run_id(manifest: dict[str, Any]) -> str:
    """A run's identity: a digest of what decides its outputs (tool and pack versions, settings,
    period, input format, and every input file's name and SHA-256). The same inputs and
    settings give the same id, so reruns stay byte-identical; any change gives another."""
    decisive = {
        k: manifest[k] for k in ("tool", "measure", "pack", "settings", "period", "input_format")
    }
    decisive["inputs"] = [(f.get("file"), f.get("sha256")) for f in manifest["inputs"]]
    text = json.dumps(decisive, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# the libraries whose versions can change an output's bytes (constraints.txt pins them)
VERSIONED_LIBRARIES = ("duckdb", "pyarrow", "pandas", "jinja2")


def versions(pack: Pack) -> dict[str, str]:
    """What made the outputs: Python, the libraries that write them, the tool, the pack and the
    digest of the pack's files (value sets included). ``spine-audit verify`` names any that
    differ on the machine that reruns a run."""
    found = {"python": platform.python_version()}
    for name in VERSIONED_LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return {
        **found,
        "spine-audit": __version__,
        "pack": f"{pack.name} {pack.meta['version']}",
        "pack_sha256": pack.version_hash,
    }


def write_outputs(
    engine: Engine,
    folder: OutputFolder,
    adapted: AdapterResult,
    settings: Settings,
    pack: Pack,
    notices: list[Notice],
    pipeline: PipelineResult,
    period_from: date | None,
    period_to: date | None,
    gate: Callable[[], GateResult],
    invocation: dict[str, Any] | None = None,
) -> RunResult:
    """Write every output into the temporary ``folder``: the reports into ``shareable/``, the
    row-level files and the full manifest into ``internal/``, the landing page on top. ``gate``
    waits for the data-quality gate and is called only once everything that does not need it
    is written. ``invocation`` (command line, input and output folders) goes into the internal
    manifest alone, outside the run id."""
    internal = folder.internal
    engine.write_parquet(
        # S608: columns are module constants
        f"SELECT {', '.join(SESSION_COLUMNS)} FROM session_outcomes",  # noqa: S608
        internal / "sessions.parquet",
        SESSION_ORDER,
    )
    internal_sheets = write_payer_outputs(engine, internal, settings)
    (internal / "quarantine").mkdir()
    write_table_csv(engine, "quarantine", internal / "quarantine" / "quarantine.csv")
    write_table_csv(engine, "value_issues", internal / "quarantine" / "value_issues.csv")

    recon = reconciliation(engine, adapted.table_rows)
    unbalanced = [t for t, r in recon.items() if not r["balanced"]]
    if unbalanced:  # a bug, never the user's input: fail loudly rather than publish
        raise RuntimeError(f"reconciliation does not balance for {', '.join(unbalanced)}")
    outcomes = dict(
        engine.rows(
            "SELECT outcome, COUNT(*) FROM session_outcomes GROUP BY outcome ORDER BY outcome"
        )
    )
    reasons = dict(
        engine.rows(
            "SELECT COALESCE(reason, recommendation, outcome), COUNT(*) FROM session_outcomes "
            "GROUP BY ALL ORDER BY 1"
        )
    )
    data_quality = [
        {"check": c, "domain": d, "code": code, "rows": n}
        for c, d, code, n in engine.rows(
            "SELECT check_name, domain, code, row_count FROM data_quality"
        )
    ]
    coding = _diagnosis_coding(engine)
    [(start, end)] = engine.rows("SELECT period_start, period_end FROM audit_period")
    quarantined = engine.row_count("quarantine")
    value_issues = engine.row_count("value_issues")
    sessions = engine.row_count("session_outcomes")
    [(diagnoses_with_site,)] = engine.rows(
        "SELECT COUNT(*) FROM value_set_diagnoses WHERE role = 'pain_type' AND site_id IS NOT NULL"
    )

    context = ReportContext(
        tool_version=__version__,
        pack=pack.manifest(),
        guideline=pack.guideline(),
        settings=settings.to_manifest(),
        period_from=period_from.isoformat() if period_from else None,
        period_to=period_to.isoformat() if period_to else None,
        period_start=start.isoformat() if start else None,
        period_end=end.isoformat() if end else None,
        diagnoses_have_site_ids=diagnoses_with_site > 0,
        data_quality=data_quality,
        reconciliation=recon,
        generated_from=[e["file"] for e in adapted.files if e.get("file")],
        site_sources=adapted.notes.get("site_sources"),
        input_format=adapted.fmt,
        input_file_formats=sorted({str(e["format"]) for e in adapted.files if e.get("format")}),
        coding_warning=coding["undercount_warning"],
    )
    from audit.report import write_aggregate_outputs  # imported late: heavier dependencies

    write_aggregate_outputs(
        folder.shareable,
        report_frames(engine),
        context,
        late_checks=lambda: gate_html_context(gate()),
        internal_workbook=(internal / INTERNAL_WORKBOOK, internal_sheets),
    )
    gate_result = gate()
    write_gate_outputs(internal, gate_result)
    manifest = {
        "tool": {"name": "spine-audit", "version": __version__},
        "measure": pack.measure_spec,
        "pack": pack.manifest(),
        "settings": settings.to_manifest(),
        "period": {
            "from": context.period_from,
            "to": context.period_to,
            "first_day": context.period_start,
            "last_day": context.period_end,
        },
        "input_format": adapted.fmt,
        "inputs": adapted.files,
        "adapter_dispositions": adapted.dispositions,
        **adapted.notes,  # site_sources (OMOP), ndjson_files_not_read (FHIR): when there are
        "reconciliation": recon,
        "quarantined_rows": quarantined,
        "value_issues": value_issues,
        "definition_check": [f.as_dict() for f in notices],
        "data_quality": data_quality,
        "data_quality_gate": gate_result.manifest(),
        "diagnosis_coding": coding,
        "results": {
            "sessions": sessions,
            "sessions_by_outcome": outcomes,
            "sessions_by_reason_or_recommendation": reasons,
            "diagnoses_have_site_ids": context.diagnoses_have_site_ids,
        },
    }
    rid = run_id(manifest)
    manifest = {
        "tool": manifest.pop("tool"),
        "run_id": rid,
        "versions": versions(pack),
        **manifest,
        "invocation": invocation,
    }
    write_landing_page(folder.tmp, folder.files(), manifest["run_id"], settings.suppression)
    # every file the run wrote and its SHA-256 (the manifest itself cannot list its own hash)
    manifest["outputs"] = {rel: sha256(folder.tmp / rel) for rel in folder.files()}
    (internal / MANIFEST_NAME).write_text(
        json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )
    warnings = [Notice("warning", "diagnosis_coding", coding["undercount_warning"])]
    return RunResult(
        out_dir=folder.tmp,
        sessions=sessions,
        outcomes=outcomes,
        quarantined=quarantined,
        notices=notices + (warnings if coding["undercount_warning"] else []),
        pipeline=pipeline,
        manifest=manifest,
    )


def write_landing_page(root: Path, files: list[str], run: str, suppression: str) -> Path:
    """``index.html`` on top of the output folder: what each sub-folder holds and which one may
    be shared. It names files and folders only, and links to the shareable reports alone."""
    from audit.report import environment

    def entries(sub: str) -> list[str]:
        names = {
            f.split("/")[1] + ("/" if f.count("/") > 1 else "")
            for f in files
            if f.startswith(f"{sub}/")
        }
        return sorted(names)

    html = (
        environment()
        .get_template("landing.html.j2")
        .render(
            tool_version=__version__,
            run_id=run,
            suppression=f"profile {suppression}",
            shareable=entries(SHAREABLE),
            internal=sorted({*entries(INTERNAL), MANIFEST_NAME}),
        )
    )
    path = root / "index.html"
    path.write_text(html, encoding="utf-8", newline="")
    return path
