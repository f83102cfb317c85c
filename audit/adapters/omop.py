"""OMOP CDM v5.4 adapter: person, observation_period, visit_occurrence, condition_occurrence,
procedure_occurrence and care_site (with optional concept and cost) onto the canonical model.

Research networks hold OMOP; its rows are already resolved facts (no claim versions), so each
condition and procedure row becomes one canonical row. Codes come from the *_source_value
columns, which keep the billing code the audit's value sets use; concept ids are only a fallback
through a small concept table. Tables are read from CSV/Parquet files in a folder, or from a
DuckDB database file. All mapping is SQL (sql/adapters/omop/).
"""

from __future__ import annotations

import time
from pathlib import Path

from audit.adapters._common import (
    AdapterResult,
    Source,
    Staged,
    account,
    empty_relation,
    find_source_file,
    resolve_columns,
    run_adapter_steps,
    stage_table_file,
)
from audit.config import OMOP_SITE_FALLBACKS
from audit.engine import Engine, check_distinct_columns
from audit.errors import InputError
from audit.finder import DB_SUFFIXES, check_usable, list_folder
from audit.inputs import nested_column_error, sha256

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


def _stage_database(engine: Engine, db: Path) -> list[Staged]:
    """Stage the OMOP tables of a DuckDB database file as adapter_src_<key> (src_row = the
    row's position in the table, 1-based), with the one column resolver."""
    tables = engine.describe_database(db)
    plans: dict[str, tuple[str, str, dict[str, str | None]]] = {}
    staged: list[Staged] = []
    for source in SOURCES:
        found = tables.get(source.key)
        s = Staged(source=source, path=None)
        staged.append(s)
        if found is None:
            if source.required:
                raise InputError(f"{db.name}: required OMOP table {source.key!r} missing")
            continue
        schema, table, columns = found
        where = Path(f"{db.name}:{table}")  # named in errors as a file is
        present = [c.name for c in columns]
        check_distinct_columns(where, present)
        mapping = resolve_columns(source, where, present)
        types = {c.name: c for c in columns}
        for theirs in mapping.values():
            if types[theirs].nested:
                raise nested_column_error(where, theirs, types[theirs].type)
        plans[source.staged_as] = (schema, table, {c: mapping.get(c) for c in source.columns})
        s.path = where
        s.fmt = "duckdb"
        s.columns_used = [mapping[c] for c in source.columns if c in mapping]
        s.extra_columns = [c for c in present if c not in mapping.values()]
        s.mapping = dict(mapping)
    rows = engine.stage_database_tables(db, plans)
    digest = sha256(db)
    for s in staged:
        if s.path is None:
            empty_relation(engine, s.source.staged_as, s.source.columns)
        else:
            s.rows = rows[s.source.staged_as]
            s.sha256 = digest
    return staged


def load(engine: Engine, folder: Path, site_fallback: str | None = None) -> AdapterResult:
    """Stage the OMOP tables (files in a folder, or a DuckDB database file), map them onto the
    canonical input_* relations and account for every row. ``site_fallback`` ('provider',
    'unrecorded' or None) places the records whose visit and provider name no care site."""
    started = time.perf_counter()
    if site_fallback not in (None, *OMOP_SITE_FALLBACKS):
        raise InputError(f"omop_site_fallback must be one of {', '.join(OMOP_SITE_FALLBACKS)}")
    folder = Path(folder)
    db = _database_file(folder)
    if db is not None:
        staged = _stage_database(engine, db)
    else:
        listing = list_folder(folder)
        staged = [
            stage_table_file(engine, source, find_source_file(listing, source))
            for source in SOURCES
        ]
    run_adapter_steps(engine, "omop", STEPS, {"site_fallback": site_fallback or "none"})
    sources = site_sources(engine)
    procedures = sources.get("procedures", {})
    if site_fallback is None and procedures and set(procedures) == {"none"}:
        raise InputError(
            f"{folder}: no procedure has a care site (neither its visit nor its provider names "
            "one); choose where to place them: --omop-site-fallback provider (each provider "
            "is a site) or --omop-site-fallback unrecorded (one site, not recorded)"
        )
    result = account(engine, "omop", staged, started)
    result.notes["site_sources"] = sources
    return result


def site_sources(engine: Engine) -> dict[str, dict[str, int]]:
    """Rows of procedures and diagnoses per source of their site (omop_record_sites), in the
    order the sources are tried; for the manifest and the index page."""
    counts = engine.rows(
        "SELECT record_table, site_source, COUNT(*) FROM omop_record_sites GROUP BY ALL"
    )
    out: dict[str, dict[str, int]] = {}
    for table, record_table in (
        ("procedures", "procedure_occurrence"),
        ("diagnoses", "condition_occurrence"),
    ):
        mine = {source: n for t, source, n in counts if t == record_table}
        if mine:
            out[table] = {source: mine[source] for source in SITE_SOURCES if source in mine}
    return out
