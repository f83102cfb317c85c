"""Guideline packs: a guideline's recommendations, merges, exclusion rules and value sets, as data.

A pack is a folder (``audit/packs/<name>/``) holding ``pack.toml`` and CSV files. The SQL reads
the tables loaded here and nothing about a specific guideline is written in SQL or Python.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from audit.errors import PackError
from audit.resources import packs_dir

# table name in DuckDB -> (file in the pack, required columns)
PACK_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pack_recommendations": (
        "recommendations.csv",
        (
            "recommendation_id",
            "pain_type",
            "family",
            "priority",
            "direction",
            "strength",
            "summary",
            "citation",
        ),
    ),
    "pack_session_merges": ("session_merges.csv", ("family", "merges_into", "preference")),
    "pack_exclusion_rules": (
        "exclusion_rules.csv",
        ("rule_order", "reason", "value_set", "min_days_before", "max_days_before", "switch"),
    ),
    "pack_value_set_definitions": (
        "value_set_definitions.csv",
        ("value_set", "domain", "role", "label", "definition", "spec_reference"),
    ),
    # measure 3.5 rules 1-7: why a session is out of the population, in the order applied
    "pack_population_rules": (
        "population_rules.csv",
        ("rule_order", "rule", "reason", "label", "spec_rule"),
    ),
    # the steps of the attrition table, from all counting sessions to discordant ones (the
    # out_of_population step stands for one step per population rule)
    "pack_attrition_steps": (
        "attrition_steps.csv",
        ("step_order", "kind", "rule", "outcome", "label", "spec_rule"),
    ),
    # recommendations no procedure code can trigger: shown as not measurable, with the count of
    # possible cases (a code in possible_case_value_set with an indication_value_set diagnosis)
    "pack_unmeasurable_recommendations": (
        "unmeasurable_recommendations.csv",
        (
            "recommendation_id",
            "family",
            "possible_case_value_set",
            "indication_value_set",
            "label",
            "possible_case_label",
            "meaning",
            "source",
            "valid_from",
            "valid_to",
        ),
    ),
}
# pack.toml keys a pack must state: there is no default in code for any of them.
REQUIRED_META: dict[str, type] = {
    "name": str,
    "version": str,
    "title": str,
    "citation": str,
    "citation_url": str,
    "measure_spec": str,
    "audit_title": str,
    "short_title": str,
    "trial_markers": str,
    "population_min_age": int,
}
# What an attrition step counts (attrition_steps.csv, column outcome).
ATTRITION_OUTCOMES = (
    "all",
    "out_of_population",
    "in_population",
    "clinical_trial",
    "not_addressed",
    "discordant",
)
ATTRITION_KINDS = ("start", "minus", "subtotal", "end")
VALUE_SET_COLUMNS = (
    "value_set",
    "code_system",
    "code",
    "description",
    "region",
    "billable",
    "valid_from",
    "valid_to",
    "source",
    "confidence",
)
# Column types for the small pack tables (everything else is text).
_TYPES = {
    "priority": "INTEGER",
    "preference": "INTEGER",
    "rule_order": "INTEGER",
    "rule": "INTEGER",
    "step_order": "INTEGER",
    "min_days_before": "INTEGER",
    "max_days_before": "INTEGER",
}


@dataclass(frozen=True)
class Notice:
    """A problem worth telling the user, with its level: one result of the pack's definition
    check, or a warning of the run (the CLI prints them; errors stop the run). Not a gate
    "finding", which is one offending cell of a data-quality check."""

    level: str  # "error" or "warning"
    check: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "check": self.check, "message": self.message}


@dataclass(frozen=True)
class Pack:
    name: str
    path: Path
    meta: dict[str, Any]
    version_hash: str

    def manifest(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.meta["version"],
            "title": self.meta["title"],
            "citation": self.meta["citation"],
            "value_set_sha256": self.version_hash,
            "min_age": self.min_age,
        }

    @property
    def min_age(self) -> int:
        """Measure 3.5 rule 1: the youngest age in the population (``population_min_age``)."""
        return int(self.meta["population_min_age"])

    @property
    def measure_spec(self) -> str:
        """The measure specification (name and version) this pack implements."""
        return str(self.meta["measure_spec"])

    def guideline(self) -> dict[str, str]:
        """What the reports say about the guideline and the audit: titles, citation, link."""
        keys = ("title", "citation", "citation_url", "audit_title", "short_title", "trial_markers")
        out = {k: str(self.meta[k]) for k in keys}
        # optional plain-language texts for the index page (a pack may leave them out)
        for k in ("plain_recommends", "plain_why", "plain_population"):
            out[k] = str(self.meta.get(k) or "")
        out["min_age"] = str(self.min_age)
        return out

    def value_set_files(self) -> list[Path]:
        return sorted((self.path / "valuesets").glob("*.csv"))


def resolve_pack(name_or_path: str) -> Pack:
    """A pack shipped with the tool by name, or a pack folder by path."""
    candidate = Path(name_or_path)
    path = candidate if candidate.is_dir() else packs_dir() / name_or_path
    if not (path / "pack.toml").is_file():
        shipped = ", ".join(sorted(p.name for p in packs_dir().iterdir() if p.is_dir()))
        raise PackError(f"guideline pack {name_or_path!r} not found (shipped packs: {shipped})")
    try:
        meta = tomllib.loads((path / "pack.toml").read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{path / 'pack.toml'}: {exc}") from None
    _check_meta(path / "pack.toml", meta)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".csv", ".toml"))
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode())
        digest.update(b"\0")
        digest.update(file.read_bytes())
    return Pack(name=str(meta["name"]), path=path, meta=meta, version_hash=digest.hexdigest())


def _check_meta(path: Path, meta: dict[str, Any]) -> None:
    """Refuse a pack.toml that leaves out a required key or gives it the wrong type: the tool
    holds no default for guideline knowledge (a minimum age of 18 written in code would
    silently apply to a guideline that says otherwise)."""
    for key, kind in REQUIRED_META.items():
        if key not in meta:
            raise PackError(f"{path}: required key {key!r} is missing")
        value = meta[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise PackError(f"{path}: {key} must be a whole number, not {value!r}")
        if kind is str and (not isinstance(value, str) or not value.strip()):
            raise PackError(f"{path}: {key} must be a non-empty text")
    if not 0 <= meta["population_min_age"] <= 130:
        raise PackError(f"{path}: population_min_age must be between 0 and 130")


def _load_csv(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, columns: tuple[str, ...]
) -> None:
    if not path.is_file():
        raise PackError(f"{path}: pack file missing")
    header = con.execute(
        "SELECT * FROM read_csv($p, all_varchar = true, header = true, delim = ',', "
        "quote = '\"') LIMIT 0",
        {"p": str(path)},
    ).description
    present = [d[0] for d in header]
    missing = [c for c in columns if c not in present]
    if missing:
        raise PackError(f"{path}: missing column(s) {', '.join(missing)}")
    select = ", ".join(
        f'TRY_CAST(NULLIF(TRIM("{c}"), \'\') AS {_TYPES[c]}) AS "{c}"'
        if c in _TYPES
        else f'NULLIF(TRIM("{c}"), \'\') AS "{c}"'
        for c in columns
    )
    con.execute(
        # S608: table and columns from PACK_TABLES (allow-list); path bound
        f"CREATE OR REPLACE TABLE {table} AS SELECT {select} "  # noqa: S608
        "FROM read_csv($p, all_varchar = true, header = true, delim = ',', quote = '\"')",
        {"p": str(path)},
    )


def load_pack(con: duckdb.DuckDBPyConnection, pack: Pack) -> None:
    """Load every table of the pack into DuckDB (tables named pack_*)."""
    for table, (file_name, columns) in PACK_TABLES.items():
        _load_csv(con, table, pack.path / file_name, columns)
    files = pack.value_set_files()
    if not files:
        raise PackError(f"{pack.path / 'valuesets'}: no value-set CSV files")
    con.execute(
        "CREATE OR REPLACE TABLE pack_value_set_rows ("
        + ", ".join(f'"{c}" VARCHAR' for c in VALUE_SET_COLUMNS)
        + ", source_file VARCHAR)"
    )
    for file in files:
        _load_csv(con, "pack_value_set_file", file, VALUE_SET_COLUMNS)
        con.execute(
            # S608: columns from VALUE_SET_COLUMNS (allow-list); values bound
            "INSERT INTO pack_value_set_rows SELECT "  # noqa: S608
            + ", ".join(f'"{c}"' for c in VALUE_SET_COLUMNS)
            + ", $f FROM pack_value_set_file",
            {"f": file.name},
        )
    con.execute("DROP TABLE pack_value_set_file")


def definition_check(con: duckdb.DuckDBPyConnection) -> list[Notice]:
    """Check the loaded pack before a run, as OHDSI Circe checks a cohort definition."""
    notices: list[Notice] = []

    def rows(sql: str) -> list[tuple]:
        return con.execute(sql).fetchall()

    for (vs,) in rows(
        "SELECT DISTINCT value_set FROM pack_value_set_rows WHERE value_set NOT IN "
        "(SELECT value_set FROM pack_value_set_definitions) ORDER BY 1"
    ):
        notices.append(
            Notice("error", "undefined_value_set", f"value set {vs} has codes but no definition")
        )
    for vs, code_system, code, windows, overlapping in rows(
        "WITH coded AS (SELECT value_set, code_system, UPPER(REPLACE(code, '.', '')) AS code, "
        "COALESCE(TRY_CAST(valid_from AS DATE), DATE '0001-01-01') AS lo, "
        "COALESCE(TRY_CAST(valid_to AS DATE), DATE '9999-12-31') AS hi FROM pack_value_set_rows) "
        "SELECT a.value_set, a.code_system, a.code, "
        "STRING_AGG(DISTINCT CAST(a.lo AS VARCHAR) || '..' || CAST(a.hi AS VARCHAR), ', '), "
        "BOOL_OR(EXISTS (SELECT 1 FROM coded b WHERE b.value_set = a.value_set "
        "AND b.code_system = a.code_system AND b.code = a.code AND b.lo <= a.hi AND a.lo <= b.hi "
        "AND (b.lo <> a.lo OR b.hi <> a.hi))) OR COUNT(*) > COUNT(DISTINCT a.lo || a.hi) "
        "FROM coded a GROUP BY ALL HAVING COUNT(*) > 1 ORDER BY ALL"
    ):
        if overlapping:
            notices.append(
                Notice(
                    "error",
                    "overlapping_validity",
                    f"{code_system} {code} is in {vs} more than once with overlapping "
                    f"validity windows ({windows})",
                )
            )
        else:
            notices.append(
                Notice(
                    "error",
                    "duplicate_code",
                    f"{code_system} {code} is in {vs} more than once ({windows}); keep one "
                    "row per code and widen its window",
                )
            )
    for code_system, code, sets in rows(
        "SELECT r.code_system, UPPER(REPLACE(r.code, '.', '')), "
        "STRING_AGG(DISTINCT r.value_set, ' and ' ORDER BY r.value_set) "
        "FROM pack_value_set_rows r JOIN pack_value_set_definitions d USING (value_set) "
        "WHERE d.role IN ('pain_type', 'family') "
        "GROUP BY r.code_system, UPPER(REPLACE(r.code, '.', '')), d.role "
        "HAVING COUNT(DISTINCT r.value_set) > 1 ORDER BY 1, 2"
    ):
        notices.append(Notice("error", "conflicting_sets", f"{code_system} {code} is in {sets}"))
    for vs, role in rows(
        "SELECT d.value_set, d.role FROM pack_value_set_definitions d "
        "LEFT JOIN pack_value_set_rows r USING (value_set) WHERE r.value_set IS NULL "
        "ORDER BY 1"
    ):
        notices.append(
            Notice("warning", "empty_value_set", f"value set {vs} ({role}) has no codes")
        )
    for rec, fam in rows(
        "SELECT DISTINCT r.recommendation_id, r.family FROM pack_recommendations r "
        "LEFT JOIN pack_value_set_rows v ON v.value_set = r.family "
        "WHERE v.value_set IS NULL ORDER BY 1, 2"
    ):
        notices.append(
            Notice(
                "warning",
                "family_without_codes",
                f"recommendation {rec} names family {fam}, which has no codes: "
                "it can never be triggered",
            )
        )
    for vs, code, valid_from, valid_to in rows(
        "SELECT value_set, code, valid_from, valid_to FROM pack_value_set_rows "
        "WHERE TRY_CAST(valid_from AS DATE) > TRY_CAST(valid_to AS DATE) ORDER BY 1, 2"
    ):
        notices.append(
            Notice(
                "error",
                "inverted_validity",
                f"{vs} {code}: valid_from {valid_from} is after valid_to {valid_to}",
            )
        )
    notices += _check_population_rules(rows)
    notices += _check_attrition_steps(rows)
    for (vs,) in rows(
        "SELECT value_set FROM pack_value_set_definitions WHERE role = 'family' "
        "AND label IS NULL ORDER BY 1"
    ):
        notices.append(
            Notice("error", "missing_label", f"family {vs} has no label for the reports")
        )
    for table, column in (
        ("pack_recommendations", "family"),
        ("pack_session_merges", "family"),
        ("pack_session_merges", "merges_into"),
        ("pack_exclusion_rules", "value_set"),
        ("pack_unmeasurable_recommendations", "family"),
        ("pack_unmeasurable_recommendations", "possible_case_value_set"),
        ("pack_unmeasurable_recommendations", "indication_value_set"),
    ):
        for (name,) in rows(
            # S608: table and column from the definition check's fixed list
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} NOT IN "  # noqa: S608
            "(SELECT value_set FROM pack_value_set_definitions) ORDER BY 1"
        ):
            notices.append(
                Notice(
                    "error",
                    "unknown_reference",
                    f"{table}.{column} names {name}, which is not defined",
                )
            )
    notices += _check_unmeasurable(rows)
    return notices


def _check_unmeasurable(rows: Callable[[str], list[tuple]]) -> list[Notice]:
    """unmeasurable_recommendations.csv: each row a recommendation x family of
    recommendations.csv, its validity dates real dates (YYYY-MM-DD) in order: a mistyped
    valid_to must not silently leave the window open."""
    notices = []
    for rec, fam in rows(
        "SELECT u.recommendation_id, u.family FROM pack_unmeasurable_recommendations u "
        "LEFT JOIN pack_recommendations r "
        "ON r.recommendation_id = u.recommendation_id AND r.family = u.family "
        "WHERE r.recommendation_id IS NULL ORDER BY 1, 2"
    ):
        notices.append(
            Notice(
                "error",
                "unknown_reference",
                f"unmeasurable_recommendations.csv names {rec} x {fam}, which is not a "
                "recommendation of recommendations.csv",
            )
        )
    for rec, fam, valid_from, valid_to in rows(
        "SELECT recommendation_id, family, valid_from, valid_to "
        "FROM pack_unmeasurable_recommendations "
        "WHERE (valid_from IS NOT NULL AND TRY_CAST(valid_from AS DATE) IS NULL) "
        "OR (valid_to IS NOT NULL AND TRY_CAST(valid_to AS DATE) IS NULL) "
        "OR TRY_CAST(valid_from AS DATE) > TRY_CAST(valid_to AS DATE) ORDER BY 1, 2"
    ):
        notices.append(
            Notice(
                "error",
                "invalid_validity",
                f"unmeasurable_recommendations.csv {rec} x {fam}: valid_from "
                f"{valid_from or '(empty)'}, valid_to {valid_to or '(empty)'} must be dates "
                "(YYYY-MM-DD), the first not after the second",
            )
        )
    return notices


def _check_population_rules(rows: Callable[[str], list[tuple]]) -> list[Notice]:
    """population_rules.csv: one row per reason, each with an order, a rule number and a
    label; every reason of exclusion_rules.csv among them (else its sessions would be shown
    under a made-up label)."""
    notices = []
    for (problem,) in rows(
        "SELECT 'row ' || CAST(ROW_NUMBER() OVER () AS VARCHAR) || ' has no ' || "
        "CASE WHEN rule_order IS NULL THEN 'rule_order' WHEN rule IS NULL THEN 'rule' "
        "WHEN reason IS NULL THEN 'reason' ELSE 'label' END FROM pack_population_rules "
        "WHERE rule_order IS NULL OR rule IS NULL OR reason IS NULL OR label IS NULL"
    ):
        notices.append(Notice("error", "population_rules", f"population_rules.csv: {problem}"))
    for column in ("rule_order", "reason"):
        for (value,) in rows(
            # S608: column from the fixed tuple above
            f"SELECT {column} FROM pack_population_rules WHERE {column} IS NOT NULL "  # noqa: S608
            "GROUP BY 1 HAVING COUNT(*) > 1 ORDER BY 1"
        ):
            notices.append(
                Notice(
                    "error",
                    "population_rules",
                    f"population_rules.csv: {column} {value} appears more than once",
                )
            )
    for (reason,) in rows(
        "SELECT DISTINCT reason FROM pack_exclusion_rules WHERE reason NOT IN "
        "(SELECT reason FROM pack_population_rules WHERE reason IS NOT NULL) ORDER BY 1"
    ):
        notices.append(
            Notice(
                "error",
                "unknown_reference",
                f"pack_exclusion_rules.reason names {reason}, which population_rules.csv "
                "does not list",
            )
        )
    return notices


def _check_attrition_steps(rows: Callable[[str], list[tuple]]) -> list[Notice]:
    """attrition_steps.csv: each outcome once, known kinds, a start first and an end last."""
    notices = []
    outcomes = ", ".join(f"'{o}'" for o in ATTRITION_OUTCOMES)
    kinds = ", ".join(f"'{k}'" for k in ATTRITION_KINDS)
    for step, kind, outcome, label in rows(
        # S608: the allowed values are the module's constants
        "SELECT step_order, kind, outcome, label FROM pack_attrition_steps "  # noqa: S608
        f"WHERE step_order IS NULL OR label IS NULL OR kind IS NULL OR kind NOT IN ({kinds}) "
        f"OR outcome IS NULL OR outcome NOT IN ({outcomes}) ORDER BY 1"
    ):
        notices.append(
            Notice(
                "error",
                "attrition_steps",
                f"attrition_steps.csv: step {step} (kind {kind}, outcome {outcome}, label "
                f"{label}) needs a step_order, a label, a kind ({', '.join(ATTRITION_KINDS)}) "
                f"and an outcome ({', '.join(ATTRITION_OUTCOMES)})",
            )
        )
    counts = dict(rows("SELECT outcome, COUNT(*) FROM pack_attrition_steps GROUP BY 1"))
    for outcome in ATTRITION_OUTCOMES:
        if counts.get(outcome, 0) != 1:
            notices.append(
                Notice(
                    "error",
                    "attrition_steps",
                    f"attrition_steps.csv: outcome {outcome} must have exactly one step "
                    f"(has {counts.get(outcome, 0)})",
                )
            )
    ordered = [k for (k,) in rows("SELECT kind FROM pack_attrition_steps ORDER BY step_order")]
    if ordered and (ordered[0] != "start" or ordered[-1] != "end"):
        notices.append(
            Notice(
                "error",
                "attrition_steps",
                "attrition_steps.csv: the first step must be the start, the last the end",
            )
        )
    return notices
