"""What the reports are told about a run: typed, built once by audit.outputs.

The published pages and the public manifest read the run through this context and the
report-sized frames, never through the engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReportContext:
    """The run as the reports see it. Dicts are as in the full manifest (pack, settings,
    reconciliation per table); dates are ISO text (None: not given / no data)."""

    tool_version: str = ""
    pack: dict[str, Any] = field(default_factory=dict)  # Pack.manifest()
    # the guideline as the pack states it: titles, citation, citation_url, trial markers
    guideline: dict[str, Any] = field(default_factory=dict)  # Pack.guideline()
    settings: dict[str, Any] = field(default_factory=dict)  # Settings.to_manifest()
    period_from: str | None = None  # --from, as given
    period_to: str | None = None  # --to, as given
    period_start: str | None = None  # first day of the audit period (audit_period)
    period_end: str | None = None  # last day
    diagnoses_have_site_ids: bool = True
    # data-quality rows: {check, domain, code, rows} of the data_quality step, then the gate's
    data_quality: list[dict[str, Any]] = field(default_factory=list)
    reconciliation: dict[str, Any] = field(default_factory=dict)
    generated_from: list[str] = field(default_factory=list)  # input file names
    site_sources: dict[str, dict[str, int]] | None = None  # OMOP: rows per source of site
    input_format: str | None = None
    input_file_formats: list[str] = field(default_factory=list)
    coding_warning: str | None = None
    # a disclosure profile (name, or its fields) overriding settings["suppression"]
    suppression: str | dict[str, Any] | None = None

    def as_mapping(self) -> dict[str, Any]:
        """The fields by name (what the page templates and the public manifest read)."""
        return asdict(self)
