"""Run settings: documented defaults, overridden by a TOML file and then by the command line.

Every setting used is recorded in the run manifest, so a report can always say how it was made.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
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
# where an OMOP record whose visit and provider name no care site is placed (audit.adapters.omop)
OMOP_SITE_FALLBACKS = ("provider", "unrecorded")
# the funnel plot's control limits (audit.funnel): exact binomial, or widened for
# overdispersion by a multiplicative or an additive (random-effects) model
FUNNEL_OVERDISPERSION = ("none", "multiplicative", "additive")


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
    # OMOP records whose visit and provider name no care site: "provider" (the provider is the
    # site) or "unrecorded" (one site "(site not recorded)"); unset: they have no site
    omop_site_fallback: str | None = None
    # the funnel plot of the index (docs/reports.md): "none" draws exact binomial limits around
    # the network rate; "multiplicative" or "additive" widen them when the sites vary more than
    # chance allows (NHS/HQIP outlier policy, Spiegelhalter 2005)
    funnel_overdispersion: str = "none"
    # the currency of the input's allowed amounts (ISO 4217 code), stated beside every amount
    # the audit shows or writes; never converted (docs/outputs.md "Spend and providers")
    currency: str = "USD"
    # write internal/case_list.csv and .parquet (discordant sessions with patient ids) and add
    # the case list to the internal workbook; off by default (docs/outputs.md "Case list")
    case_list: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved_as_of(self) -> date:
        return self.as_of_date or date.today()

    def to_manifest(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("extra")
        out["non_counting_statuses"] = list(self.non_counting_statuses)
        out["as_of_date"] = self.resolved_as_of().isoformat()
        if self.omop_site_fallback is None:  # recorded when chosen (manifests stay as they were)
            out.pop("omop_site_fallback")
        return out


_KNOWN = {f.name for f in fields(Settings)} - {"extra"}
_OPTIONS = {  # the command-line option of each setting that has one, for the error message
    "pack": "--pack",
    "as_of_date": "--as-of",
    "suppression": "--suppression",
    "threads": "--threads",
    "memory_limit": "--memory-limit",
    "temp_dir": "--temp-dir",
    "omop_site_fallback": "--omop-site-fallback",
    "funnel_overdispersion": "--funnel-overdispersion",
    "currency": "--currency",
    "case_list": "--case-list",
}
# an ISO 4217 currency code: three capital letters
_CURRENCY = re.compile(r"[A-Z]{3}")
# Bounds that keep a run possible: the day arithmetic of rule 7 stays far from overflow (a
# lookback of a century reaches every record an extract can hold), and a thread count past
# this only makes DuckDB start threads it cannot use (100 000 of them hang the machine).
MAX_DAYS = 36_525
MAX_THREADS = 1024
# DuckDB's memory sizes, restricted to what is unambiguous: a positive number and a unit
# (1000-based KB/MB/GB/TB, 1024-based KiB/MiB/GiB/TiB) or a percentage of the machine's memory.
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)\s*", re.IGNORECASE)


def _label(name: str) -> str:
    option = _OPTIONS.get(name)
    return f"setting {name!r}" + (f" ({option})" if option else "")


def _invalid(name: str, value: Any, why: str) -> ConfigError:
    shown = repr(value.isoformat() if isinstance(value, date) else value)
    return ConfigError(f"{_label(name)} has an invalid value {shown}: {why}")


def _coerce(name: str, value: Any) -> Any:
    """The setting's value in its type, or a ConfigError naming the setting and what it needs."""
    if name in ("chronic_days", "lookback_days", "threads"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(name, value, "a whole number is needed")
        low, high = (1, MAX_THREADS) if name == "threads" else (0, MAX_DAYS)
        if not low <= value <= high:
            raise _invalid(name, value, f"it must be from {low} to {high}")
        return value
    if name in ("other_specific_cause", "decimal_comma", "case_list"):
        if not isinstance(value, bool):
            raise _invalid(name, value, "true or false is needed")
        return value
    if name == "non_counting_statuses":
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
            raise _invalid(name, value, 'a list of statuses is needed, e.g. ["denied", "void"]')
        if not all(isinstance(v, str) for v in value):
            raise _invalid(name, value, "every status must be text")
        if any(not v.strip() for v in value):
            raise _invalid(name, value, "a blank status always counts (measure 3.1)")
        # [] is a choice: every status counts
        return tuple(sorted({v.strip().lower().replace(" ", "_").replace("-", "_") for v in value}))
    if name == "as_of_date":
        if isinstance(value, datetime) or not isinstance(value, date | str):
            raise _invalid(name, value, "a date is needed (YYYY-MM-DD)")
        try:
            return value if isinstance(value, date) else date.fromisoformat(value)
        except ValueError:
            raise _invalid(name, value, "a date is needed (YYYY-MM-DD)") from None
    if name == "suppression":
        if value not in SUPPRESSION_PROFILES:
            raise _invalid(name, value, f"choose one of {', '.join(SUPPRESSION_PROFILES)}")
        return value
    if name == "currency":
        if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
            raise _invalid(name, value, "an ISO 4217 currency code is needed, e.g. USD, EUR, GBP")
        return value
    if name == "omop_site_fallback":
        if value not in OMOP_SITE_FALLBACKS:
            raise _invalid(name, value, f"choose one of {', '.join(OMOP_SITE_FALLBACKS)}")
        return value
    if name == "funnel_overdispersion":
        if value not in FUNNEL_OVERDISPERSION:
            raise _invalid(name, value, f"choose one of {', '.join(FUNNEL_OVERDISPERSION)}")
        return value
    if not isinstance(value, str | os.PathLike):
        raise _invalid(name, value, "text is needed")
    if name == "memory_limit":
        return _memory_limit(str(value))
    if name == "temp_dir":
        return _temp_dir(str(value))
    return None if value == "" else str(value)


def _memory_limit(value: str) -> str | None:
    """ "" keeps DuckDB's own limit; anything else must be a size DuckDB reads the same way."""
    if value == "":
        return None
    match = _MEMORY.fullmatch(value)
    number = float(match.group(1)) if match else 0.0
    if number <= 0 or (match and match.group(2) == "%" and number > 100):
        raise _invalid("memory_limit", value, "a size is needed, e.g. 2GB, 1280MB or 50%")
    return value


def _temp_dir(value: str) -> str | None:
    """The spill folder must be a folder DuckDB can create or write in; checked before any work
    (DuckDB itself finds out only when it first spills, deep into a large run)."""
    if value == "":
        return None
    path = Path(value)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is a file" if existing == path else f"lies under the file {existing}"
        raise _invalid("temp_dir", value, f"the folder to spill to {where}")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise _invalid("temp_dir", value, f"{existing} is not writable")
    return value


# Keys of a settings file that say what to audit and where, not how: they are the command
# line's (INPUT_DIR, --out, --format), so a monthly audit is one file and ``--month``. They are
# never settings: the manifest records them under ``invocation`` (docs/monthly.md).
RUN_KEYS = ("input", "out", "format")
# the placeholders an ``out`` pattern may hold; each is filled with an ISO date or month
OUT_PLACEHOLDERS = ("month", "from", "to")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class RunFile:
    """What a settings file says about the run itself: the input folder, the output pattern and
    the input format, each None when the file is silent. Relative paths are read from ``base``,
    the file's folder, so a scheduled job finds them from any working folder."""

    input: Path | None = None
    out: str | None = None
    format: str | None = None
    base: Path = Path()


def _read_table(path: Path) -> dict[str, Any]:
    """The settings table of a TOML file (top level or [audit]), unknown keys refused."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: settings file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a settings file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the settings file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid TOML file: {exc}") from None
    table = raw.get("audit", raw)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'audit' must be a table ([audit]) of settings")
    unknown = sorted(set(table) - _KNOWN - set(RUN_KEYS))
    if "audit" in raw:  # with an [audit] table, nothing else in the file is read
        unknown += sorted(f"{k} (outside [audit])" for k in set(raw) - {"audit"})
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(unknown)}")
    return table


def load_run_file(path: Path | None, formats: tuple[str, ...]) -> RunFile:
    """The run keys of a settings file (RUN_KEYS); an empty RunFile without a file."""
    if path is None:
        return RunFile()
    table = _read_table(path)
    for key in RUN_KEYS:
        if key in table and (not isinstance(table[key], str) or not table[key].strip()):
            raise ConfigError(f"{path}: {key!r} must be non-empty text")
    if "format" in table and table["format"] not in ("auto", *formats):
        raise ConfigError(
            f"{path}: format {table['format']!r} is unknown; choose one of auto, "
            + ", ".join(formats)
        )
    base = Path(path).parent
    return RunFile(
        input=base / table["input"] if "input" in table else None,
        out=table.get("out"),
        format=table.get("format"),
        base=base,
    )


def month_period(text: str) -> tuple[date, date]:
    """``--month YYYY-MM``: the first and the last day of that calendar month."""
    match = _MONTH.fullmatch(text)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise ConfigError(f"--month {text!r} is not a calendar month (YYYY-MM, e.g. 2025-11)")
    year, month = int(match.group(1)), int(match.group(2))
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date(year, month, 1), date.fromordinal(following.toordinal() - 1)


def expand_out(pattern: str, month: str | None, start: date | None, end: date | None) -> Path:
    """An ``out`` pattern with its placeholders filled: ``{month}`` (YYYY-MM), ``{from}`` and
    ``{to}`` (YYYY-MM-DD). Only these, bare: no format spec, conversion, index or attribute
    (a pattern is a path, never code). The values are dates, so the result holds no character
    the pattern did not; a pattern climbing out with ``..`` is refused."""
    values = {
        "month": month,
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
    }
    parts: list[str] = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ConfigError(
            f"out pattern {pattern!r}: {exc} (use {{month}}, {{from}}, {{to}})"
        ) from None
    for literal, name, spec, conversion in parsed:
        parts.append(literal)
        if name is None:
            continue
        if name not in OUT_PLACEHOLDERS or spec or conversion:
            raise ConfigError(
                f"out pattern {pattern!r}: {{{name}}} is not a placeholder; use only "
                "{month}, {from} and {to}"
            )
        if values[name] is None:
            option = "--month" if name == "month" else f"--{name} (or --month)"
            raise ConfigError(f"out pattern {pattern!r} needs {option} for {{{name}}}")
        parts.append(str(values[name]))
    out = Path("".join(parts))
    if ".." in out.parts:
        raise ConfigError(f"out pattern {pattern!r}: '..' is not allowed in the output path")
    return out


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Defaults, then the TOML file (keys at top level or under [audit]), then overrides. The
    file's run keys (RUN_KEYS) are not settings: load_run_file reads them."""
    values: dict[str, Any] = {}
    if path is not None:
        table = _read_table(path)
        values.update({k: _coerce(k, v) for k, v in table.items() if k not in RUN_KEYS})
    values.update({k: _coerce(k, v) for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    if settings.lookback_days < settings.chronic_days:
        raise ConfigError(
            f"settings need chronic_days <= lookback_days (chronic_days "
            f"{settings.chronic_days}, lookback_days {settings.lookback_days})"
        )
    return settings
