"""Run settings: documented defaults, overridden by a TOML file and then by the command line.

Every setting used is recorded in the run manifest, so a report can always say how it was made.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from audit.errors import ConfigError

DEFAULT_NON_COUNTING_STATUSES = (
    "denied",
    "void",
    "voided",
    "reversed",
    "cancelled",
    "entered_in_error",
)
SUPPRESSION_PROFILES = ("cms", "opensafely", "nhs", "none")


@dataclass(frozen=True)
class Settings:
    """All settings of one run. Defaults are the measure specification's."""

    # measure 3.5 rule 7: a spine diagnosis this many days or more before makes a session chronic
    chronic_days: int = 90
    # measure 3.5 rule 7: ... and at most this many days before
    lookback_days: int = 730
    # measure 3.5 rule 6 can be switched off
    other_specific_cause: bool = True
    # measure 3.1: procedure line statuses that do not count (compared case-insensitively)
    non_counting_statuses: tuple[str, ...] = DEFAULT_NON_COUNTING_STATUSES
    # the guideline pack: a name shipped with the tool, or a path to a pack folder
    pack: str = "bmj2025_spine"
    # dates after this are impossible (quarantined as future_date); default: the day of the run
    as_of_date: date | None = None
    # disclosure control for everything published (privacy.md): cms, opensafely, nhs or none
    suppression: str = "cms"
    # numbers written as text use a decimal comma ("1.200,50", "1,5"); by default a decimal
    # point ("1,200.50", "1.5"). Never guessed from the data: a number that does not fit the
    # notation is quarantined (invalid_number). docs/inputs.md, "Numbers"
    decimal_comma: bool = False
    # DuckDB resources (recorded; they never change results). The memory limit keeps a 100M-row
    # run under 2 GiB of resident memory; past it DuckDB spills to temp_dir (default: a fresh
    # folder in the system temporary folder, removed at the end of the run).
    threads: int | None = None
    memory_limit: str = "1280MB"
    temp_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved_as_of(self) -> date:
        return self.as_of_date or date.today()

    def to_manifest(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("extra")
        out["non_counting_statuses"] = list(self.non_counting_statuses)
        out["as_of_date"] = self.resolved_as_of().isoformat()
        return out


_KNOWN = {f.name for f in fields(Settings)} - {"extra"}


def _coerce(name: str, value: Any) -> Any:
    try:
        if name in ("chronic_days", "lookback_days", "threads"):
            if isinstance(value, bool) or int(value) != value:
                raise ValueError
            return int(value)
        if name in ("other_specific_cause", "decimal_comma"):
            if not isinstance(value, bool):
                raise ValueError
            return value
        if name == "non_counting_statuses":
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return tuple(
                sorted({v.strip().lower().replace(" ", "_").replace("-", "_") for v in value})
            )
        if name == "as_of_date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if name == "suppression":
            if value not in SUPPRESSION_PROFILES:
                raise ValueError
            return value
        return None if value in ("", None) else str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name!r} has an invalid value: {value!r}") from None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Defaults, then the TOML file (keys at top level or under [audit]), then overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: settings file not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not a valid TOML file: {exc}") from None
        table = raw.get("audit", raw)
        unknown = sorted(set(table) - _KNOWN)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s): {', '.join(unknown)}")
        values.update({k: _coerce(k, v) for k, v in table.items()})
    values.update({k: _coerce(k, v) for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    if settings.chronic_days < 0 or settings.lookback_days < settings.chronic_days:
        raise ConfigError("settings need 0 <= chronic_days <= lookback_days")
    return settings
