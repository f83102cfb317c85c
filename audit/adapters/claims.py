"""Claims adapter: a claim-line file and a member/eligibility file onto the canonical model.

Payers hold one row per claim line with the header repeated; a naive audit counts voided,
replaced, reversed and duplicated lines. Only the final version of each claim reaches the
canonical procedures; every other line is accounted for by reason (see
docs/inputs-formats.md). All mapping is SQL (sql/adapters/claims/); this module only finds and
stages the files and applies the optional column map.
"""

from __future__ import annotations

import csv
import time
import tomllib
from pathlib import Path

from audit.adapters._common import (
    AdapterResult,
    Source,
    account,
    find_source_file,
    run_adapter_steps,
    stage_table_file,
)
from audit.engine import Engine
from audit.errors import InputError
from audit.finder import Listing, list_folder

DX_COUNT = 25
_ORDINALS = ("1ST", "2ND", "3RD", "4TH")

CLAIM_COLUMNS: tuple[str, ...] = (
    "member_id",
    "claim_id",
    "original_claim_id",
    "line_number",
    "claim_type",
    "from_date",
    "through_date",
    "service_date",
    "hcpcs",
    "modifier_1",
    "modifier_2",
    "modifier_3",
    "modifier_4",
    "units",
    "allowed_amount",
    "paid_amount",
    "place_of_service",
    "billing_provider",
    "rendering_provider",
    "facility_id",
    "frequency_code",
    "bill_type",
    "processed_date",
    "line_status",
    "denial_code",
    "revenue_code",
    "dx_version",
    "principal_dx",
    *(f"dx{n}" for n in range(1, DX_COUNT + 1)),
)

_CLAIM_ALIASES: dict[str, tuple[str, ...]] = {
    "member_id": ("bene_id", "patient_id"),
    "claim_id": ("clm_id",),
    "original_claim_id": ("orig_claim_id", "prior_claim_id"),
    "line_number": ("line_num", "clm_line_num"),
    "from_date": ("clm_from_dt",),
    "through_date": ("clm_thru_dt",),
    "service_date": ("line_service_date",),
    "hcpcs": ("hcpcs_cd", "hcpcs_code"),
    "units": ("line_srvc_cnt",),
    "allowed_amount": ("line_alowd_chrg_amt",),
    "paid_amount": ("line_nch_pmt_amt",),
    "place_of_service": ("pos", "line_place_of_srvc_cd"),
    "frequency_code": ("claim_frequency_code", "clm_freq_cd"),
    "bill_type": ("type_of_bill",),
    "processed_date": ("paid_date",),
    "line_status": ("status",),
    "principal_dx": ("prncpal_dgns_cd",),
    **{f"modifier_{n}": (f"modifier{n}", f"hcpcs_{_ORDINALS[n - 1]}_mdfr_cd") for n in range(1, 5)},
    **{f"dx{n}": (f"dx_{n}", f"dx{n:02d}", f"icd_dgns_cd{n}") for n in range(1, DX_COUNT + 1)},
}

CLAIMS = Source(
    key="claims",
    stems=("claims",),
    columns=CLAIM_COLUMNS,
    required=True,
    required_columns=("member_id", "claim_id", "hcpcs"),
    one_of=(("from_date", "service_date"), ("facility_id", "billing_provider")),
    feeds=("procedures", "diagnoses"),
    reconciles_to="procedures",
    aliases=_CLAIM_ALIASES,
)

MEMBERS = Source(
    key="members",
    stems=("members",),
    columns=(
        "member_id",
        "birth_date",
        "birth_year",
        "sex",
        "eligibility_start",
        "eligibility_end",
    ),
    required=True,
    required_columns=("member_id",),
    one_of=(("birth_date", "birth_year"),),
    feeds=("patients", "coverage"),
    reconciles_to="patients",
    aliases={
        "member_id": ("bene_id", "patient_id"),
        "birth_date": ("dob", "bene_birth_dt"),
        "birth_year": ("year_of_birth",),
        "sex": ("gender", "bene_sex_ident_cd"),
        "eligibility_start": ("enrollment_start", "start_date"),
        "eligibility_end": ("enrollment_end", "end_date"),
    },
)

SITES = Source(
    key="sites",
    stems=("sites",),
    columns=("site_id", "site_name", "site_group"),
    required_columns=("site_id",),
    feeds=("sites",),
    reconciles_to="sites",
)

SOURCES = (CLAIMS, MEMBERS, SITES)
MAP_SUFFIXES = (".csv", ".toml")

# the order of the SQL steps in sql/adapters/claims/ is the order of their dependencies
STEPS: tuple[str, ...] = (
    "claims_lines",
    "claims_versions",
    "claims_line_dispositions",
    "input_procedures",
    "input_diagnoses",
    "input_patients",
    "input_coverage",
    "input_sites",
    "claims_source_accounting",
)


def read_column_map(listing: Listing) -> dict[str, dict[str, str]]:
    """{source key: {our name: their name}} from column_map.csv (columns file, our_name,
    their_name) or column_map.toml ([claims] / [members] tables of our_name = "their name")."""
    path = listing.find(("column_map",), MAP_SUFFIXES)
    if path is None:
        return {}
    pairs: list[tuple[str, str, str]] = []
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
            for key, table in data.items():
                if not isinstance(table, dict):
                    raise InputError(f"{path.name}: [{key}] must be a table of our_name = 'theirs'")
                pairs.extend((key, ours, str(theirs)) for ours, theirs in table.items())
        else:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                header = [h.strip() for h in reader.fieldnames or []]
                if header[:3] != ["file", "our_name", "their_name"]:
                    raise InputError(f"{path.name}: header must be file,our_name,their_name")
                for row in reader:
                    values = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                    if any(values.values()):
                        pairs.append((values["file"], values["our_name"], values["their_name"]))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path.name}: cannot read column map: {exc}") from None
    sources = {s.key: s for s in SOURCES}
    out: dict[str, dict[str, str]] = {}
    for key, ours, theirs in pairs:
        if key not in sources:
            raise InputError(f"{path.name}: unknown file {key!r} (expected claims, members, sites)")
        if ours not in sources[key].columns:
            raise InputError(f"{path.name}: {ours!r} is not a column of the {key} file")
        if not theirs:
            raise InputError(f"{path.name}: no source column given for {key}.{ours}")
        if ours in out.setdefault(key, {}):
            raise InputError(f"{path.name}: {key}.{ours} is mapped twice")
        out[key][ours] = theirs
    return out


def load(engine: Engine, folder: Path) -> AdapterResult:
    """Stage claims.csv|parquet, members.csv|parquet (and sites.csv, optional), map them onto
    the canonical input_* relations and account for every claim line."""
    started = time.perf_counter()
    listing = list_folder(folder)
    overrides = read_column_map(listing)
    staged = []
    for source in SOURCES:
        path = find_source_file(listing, source)
        staged.append(stage_table_file(engine, source, path, overrides.get(source.key)))
    run_adapter_steps(engine, "claims", STEPS)
    return account(engine, "claims", staged, started)
