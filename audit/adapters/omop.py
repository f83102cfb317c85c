"""OMOP CDM v5.4 adapter: person, observation_period, visit_occurrence, condition_occurrence,
procedure_occurrence and care_site (with optional concept and cost) onto the canonical model.

Research networks hold OMOP; its rows are already resolved facts (no claim versions), so each
condition and procedure row becomes one canonical row. Codes come from the *_source_value
columns, which keep the billing code the audit's value sets use; concept ids are only a fallback
through a small concept table. Tables are read from CSV/Parquet files in a folder, or from a
DuckDB database file. All mapping is SQL (sql/adapters/omop/).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb

from audit.adapters._common import (
    AdapterResult,
    Source,
    Staged,
    account,
    run_adapter_steps,
    stage_table_file,
)
from audit.config import OMOP_SITE_FALLBACKS
from audit.errors import InputError
from audit.finder import DB_SUFFIXES, check_usable, list_folder
from audit.inputs import check_distinct_columns, first_line, nested_column_error, sha256

PERSON = Source(
    key="person",
    stems=("person",),
    columns=(
        "person_id",
        "year_of_birth",
        "month_of_birth",
        "day_of_birth",
        "birth_datetime",
        "gender_concept_id",
        "gender_source_value",
    ),
    required=True,
    required_columns=("person_id",),
    one_of=(("year_of_birth", "birth_datetime"),),
    feeds=("patients",),
    reconciles_to="patients",
)
OBSERVATION_PERIOD = Source(
    key="observation_period",
    stems=("observation_period",),
    columns=("person_id", "observation_period_start_date", "observation_period_end_date"),
    required_columns=("person_id", "observation_period_start_date"),
    feeds=("coverage",),
    reconciles_to="coverage",
)
VISIT_OCCURRENCE = Source(
    key="visit_occurrence",
    stems=("visit_occurrence",),
    columns=("visit_occurrence_id", "person_id", "care_site_id", "visit_start_date", "provider_id"),
    required_columns=("visit_occurrence_id",),
)
CONDITION_OCCURRENCE = Source(
    key="condition_occurrence",
    stems=("condition_occurrence",),
    columns=(
        "condition_occurrence_id",
        "person_id",
        "condition_concept_id",
        "condition_start_date",
        "condition_start_datetime",
        "condition_source_value",
        "condition_source_concept_id",
        "visit_occurrence_id",
        "provider_id",
    ),
    required=True,
    required_columns=("person_id",),
    one_of=(("condition_start_date", "condition_start_datetime"),),
    feeds=("diagnoses",),
    reconciles_to="diagnoses",
)
PROCEDURE_OCCURRENCE = Source(
    key="procedure_occurrence",
    stems=("procedure_occurrence",),
    columns=(
        "procedure_occurrence_id",
        "person_id",
        "procedure_concept_id",
        "procedure_date",
        "procedure_datetime",
        "procedure_source_value",
        "procedure_source_concept_id",
        "modifier_concept_id",
        "modifier_source_value",
        "quantity",
        "visit_occurrence_id",
        "provider_id",
    ),
    required=True,
    required_columns=("person_id",),
    one_of=(("procedure_date", "procedure_datetime"),),
    feeds=("procedures",),
    reconciles_to="procedures",
)
CARE_SITE = Source(
    key="care_site",
    stems=("care_site",),
    columns=("care_site_id", "care_site_name", "care_site_source_value"),
    required_columns=("care_site_id",),
    feeds=("sites",),
    reconciles_to="sites",
)
PROVIDER = Source(
    key="provider",
    stems=("provider",),
    columns=("provider_id", "care_site_id"),
    required_columns=("provider_id",),
)
CONCEPT = Source(
    key="concept",
    stems=("concept",),
    columns=("concept_id", "concept_code", "vocabulary_id"),
    required_columns=("concept_id", "concept_code", "vocabulary_id"),
)
COST = Source(
    key="cost",
    stems=("cost",),
    columns=("cost_event_id", "cost_domain_id", "amount_allowed"),
    required_columns=("cost_event_id", "amount_allowed"),
)

SOURCES = (
    PERSON,
    OBSERVATION_PERIOD,
    VISIT_OCCURRENCE,
    CONDITION_OCCURRENCE,
    PROCEDURE_OCCURRENCE,
    CARE_SITE,
    PROVIDER,
    CONCEPT,
    COST,
)
# the sources of a record's site, in the order they are tried (omop_record_sites)
SITE_SOURCES: tuple[str, ...] = (
    "visit_care_site",
    "provider_care_site",
    "provider",
    "not_recorded",
    "none",
)

# the order of the SQL steps in sql/adapters/omop/ is the order of their dependencies
STEPS: tuple[str, ...] = (
    "omop_vocabularies",
    "omop_concepts",
    "omop_visits",
    "omop_providers",
    "omop_record_sites",
    "input_patients",
    "input_coverage",
    "input_sites",
    "input_diagnoses",
    "input_procedures",
    "omop_source_accounting",
)


# a DuckDB type written out (information_schema.columns.data_type) that holds more than one value
_NESTED_SQL_TYPE = re.compile(r"\[|^(STRUCT|MAP|UNION)\(")


def _database_file(path: Path) -> Path | None:
    """A DuckDB database given directly, or the only one in a folder without table files."""
    if path.is_file():
        if path.name.lower().endswith(DB_SUFFIXES):
            return path
        raise InputError(f"{path}: not a folder or a DuckDB database file")
    listing = list_folder(path)
    if listing.find(("person",)) is not None:
        return None
    dbs = listing.ending(DB_SUFFIXES)
    if len(dbs) > 1:
        raise InputError(f"{path}: several DuckDB files ({', '.join(p.name for p in dbs)})")
    return check_usable(dbs[0]) if dbs else None


def _stage_database_table(
    con: duckdb.DuckDBPyConnection, source: Source, db: Path, tables: dict[str, tuple[str, str]]
) -> Staged:
    """Stage one OMOP table of the attached database as adapter_src_<key> (src_row = the row's
    position in the table, 1-based)."""
    staged = Staged(source=source, path=None)
    found = tables.get(source.key)
    if found is None:
        if source.required:
            raise InputError(f"{db.name}: required OMOP table {source.key!r} missing")
        cols = ", ".join(f'"{c}" VARCHAR' for c in source.columns)
        con.execute(f"CREATE OR REPLACE TABLE adapter_src_{source.key} (src_row BIGINT, {cols})")
        return staged
    schema, table = found
    described = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = "
        "'omop_db' AND table_schema = $s AND table_name = $t ORDER BY ordinal_position",
        {"s": schema, "t": table},
    ).fetchall()
    present = [name for name, _ in described]
    where = Path(f"{db.name}:{table}")  # named in errors as the file is
    check_distinct_columns(where, present)
    by_lower = {c.lower(): c for c in present}
    mapping = {c: by_lower[c] for c in source.columns if c in by_lower}
    types = dict(described)
    for theirs in mapping.values():
        if _NESTED_SQL_TYPE.search(types[theirs]):
            raise nested_column_error(where, theirs, types[theirs])
    for column in source.required_columns:
        if column not in mapping:
            raise InputError(f"{db.name}: table {table}: required column {column!r} missing")
    for group in source.one_of:
        if not any(c in mapping for c in group):
            raise InputError(
                f"{db.name}: table {table}: needs at least one of the columns {', '.join(group)}"
            )
    select = ", ".join(
        f'CAST("{mapping[c]}" AS VARCHAR) AS "{c}"'
        if c in mapping
        else f'CAST(NULL AS VARCHAR) AS "{c}"'
        for c in source.columns
    )
    con.execute(
        # S608: key from the Source allow-list; schema and table quoted, from the catalogue
        f"CREATE OR REPLACE TABLE adapter_raw_{source.key} AS "  # noqa: S608
        f'SELECT {select} FROM omop_db."{schema}"."{table}"'
    )
    con.execute(
        # S608: key from the Source allow-list
        f"CREATE OR REPLACE VIEW adapter_src_{source.key} AS SELECT "  # noqa: S608
        "CAST(rowid + 1 AS BIGINT) AS src_row, "
        + ", ".join(f'"{c}"' for c in source.columns)
        + f" FROM adapter_raw_{source.key}"
    )
    staged.path = Path(f"{db.name}:{table}")
    staged.fmt = "duckdb"
    # S608: key from the Source allow-list
    staged.rows = con.execute(f"SELECT COUNT(*) FROM adapter_raw_{source.key}").fetchone()[0]  # noqa: S608
    staged.columns_used = list(mapping.values())
    staged.extra_columns = [c for c in present if c not in mapping.values()]
    staged.mapping = dict(mapping)
    return staged


def _stage_database(con: duckdb.DuckDBPyConnection, db: Path) -> list[Staged]:
    try:
        con.execute("ATTACH $path AS omop_db (READ_ONLY)", {"path": str(db)})
    except duckdb.Error as exc:
        raise InputError(f"{db.name}: cannot open DuckDB database: {first_line(exc)}") from None
    try:
        listed = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = 'omop_db' ORDER BY table_schema = 'main' DESC, table_schema"
        ).fetchall()
        tables: dict[str, tuple[str, str]] = {}
        for schema, table in listed:
            tables.setdefault(table.lower(), (schema, table))
        staged = [_stage_database_table(con, s, db, tables) for s in SOURCES]
    finally:
        con.execute("DETACH omop_db")
    digest = sha256(db)
    for s in staged:
        if s.path is not None:
            s.sha256 = digest
    return staged


def load(
    con: duckdb.DuckDBPyConnection, folder: Path, site_fallback: str | None = None
) -> AdapterResult:
    """Stage the OMOP tables (files in a folder, or a DuckDB database file), map them onto the
    canonical input_* relations and account for every row. ``site_fallback`` ('provider',
    'unrecorded' or None) places the records whose visit and provider name no care site."""
    started = time.perf_counter()
    if site_fallback not in (None, *OMOP_SITE_FALLBACKS):
        raise InputError(f"omop_site_fallback must be one of {', '.join(OMOP_SITE_FALLBACKS)}")
    folder = Path(folder)
    db = _database_file(folder)
    if db is not None:
        staged = _stage_database(con, db)
    else:
        listing = list_folder(folder)
        staged = [stage_table_file(con, source, listing.find(source.stems)) for source in SOURCES]
    run_adapter_steps(con, "omop", STEPS, {"site_fallback": site_fallback or "none"})
    sources = site_sources(con)
    procedures = sources.get("procedures", {})
    if site_fallback is None and procedures and set(procedures) == {"none"}:
        raise InputError(
            f"{folder}: no procedure has a care site (neither its visit nor its provider names "
            "one); choose where to place them: --omop-site-fallback provider (each provider "
            "is a site) or --omop-site-fallback unrecorded (one site, not recorded)"
        )
    result = account(con, "omop", staged, started)
    result.notes["site_sources"] = sources
    return result


def site_sources(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Rows of procedures and diagnoses per source of their site (omop_record_sites), in the
    order the sources are tried; for the manifest and the index page."""
    counts = con.execute(
        "SELECT record_table, site_source, COUNT(*) FROM omop_record_sites GROUP BY ALL"
    ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for table, record_table in (
        ("procedures", "procedure_occurrence"),
        ("diagnoses", "condition_occurrence"),
    ):
        mine = {source: n for t, source, n in counts if t == record_table}
        if mine:
            out[table] = {source: mine[source] for source in SITE_SOURCES if source in mine}
    return out
