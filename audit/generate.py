"""Seeded synthetic claims / EHR extract in the canonical input model (measure spec section 2).

Why: the audit needs data that looks like a real multi-site extract -- a few very large sites
and many small ones, mostly ordinary visits, about 3% index-procedure lines -- and that
exercises every rule of measure spec section 3 and the claims-data traps of
domain/privacy.md, without any real patient.

Determinism: every random draw comes from a numpy PCG64 stream keyed by (seed, block), one
block per ``BLOCK`` patients, drawn in a fixed order. Chunks only decide how many patients are
buffered before a write, so the same arguments give byte-identical files, CSV is identical
whatever the chunk size (Parquet holds the same rows; its row groups follow the chunks), and
memory stays bounded by the chunk size.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from audit.config import Settings
from audit.resources import packs_dir

__all__ = [
    "BLOCK",
    "DX_CODES",
    "HOSTILE_SITE_NAME",
    "ICD9_CODES",
    "PX_CODES",
    "QUOTED_SITE_NAME",
    "SCHEMAS",
    "TABLES",
    "generate",
]

TABLES = ("patients", "diagnoses", "procedures", "coverage", "sites")
BLOCK = 1000  # patients per random stream: part of the determinism contract, do not change
_CLAIMS_PER_BLOCK = 10_000_000  # claim-number space of one block (source ids stay unique)

SCHEMAS: dict[str, pa.Schema] = {
    "patients": pa.schema(
        [
            ("patient_id", pa.string()),
            ("birth_date", pa.date32()),
            ("birth_year", pa.int32()),
            ("sex", pa.string()),
        ]
    ),
    "diagnoses": pa.schema(
        [
            ("patient_id", pa.string()),
            ("event_date", pa.date32()),
            ("code", pa.string()),
            ("code_system", pa.string()),
            ("source_id", pa.string()),
            ("site_id", pa.string()),
        ]
    ),
    "procedures": pa.schema(
        [
            ("patient_id", pa.string()),
            ("event_date", pa.date32()),
            ("code", pa.string()),
            ("code_system", pa.string()),
            ("site_id", pa.string()),
            ("source_id", pa.string()),
            ("line_number", pa.int32()),
            ("modifiers", pa.string()),
            ("units", pa.int32()),
            ("allowed_amount", pa.decimal128(12, 2)),
            ("status", pa.string()),
            ("provider_id", pa.string()),
        ]
    ),
    "coverage": pa.schema(
        [("patient_id", pa.string()), ("start_date", pa.date32()), ("end_date", pa.date32())]
    ),
    "sites": pa.schema(
        [("site_id", pa.string()), ("site_name", pa.string()), ("site_group", pa.string())]
    ),
}

_EPOCH = date(1970, 1, 1)
_NEVER = -(2**40)  # a cut date before any date: the slot never changed


def _day(d: date | str) -> int:
    return ((date.fromisoformat(d) if isinstance(d, str) else d) - _EPOCH).days


# ---------------------------------------------------------------------------------------------
# The codes come from the guideline pack (its ``synthetic/`` tables), never from this module: a
# pack change reaches the synthetic data. Each code a table says is in a value set is checked
# against the pack's value sets, so the generator cannot drift from what the audit reads.


def _pack_rows(name: str) -> list[dict[str, str]]:
    with (_PACK / "synthetic" / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _value_set_codes() -> set[tuple[str, str]]:
    """(value set, code) of every row of the pack's value sets."""
    out: set[tuple[str, str]] = set()
    for path in sorted((_PACK / "valuesets").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            out.update((r["value_set"], r["code"]) for r in csv.DictReader(fh))
    return out


def _checked(code: str, value_set: str, table: str) -> str:
    """The code, after checking that the value set named for it holds it."""
    if value_set and (value_set, code) not in _IN_VALUE_SETS:
        raise ValueError(
            f"{_PACK / 'synthetic' / table}: {code} is not in value set {value_set} of the pack"
        )
    return code


_PACK = packs_dir() / Settings.pack
_IN_VALUE_SETS = _value_set_codes()

# Diagnoses (ICD-10-CM, checked against the FY2026 release by tests/test_generate.py).
# A slot is a condition whose code changed in a release: code before the cut, first day of
# the new codes, the new codes, and the share still coded the old way after the cut.
_DX_SLOTS: dict[str, tuple[str, str, tuple[str, str], float]] = {
    r["recoding"]: (
        _checked(r["old_code"], r["old_value_set"], "diagnosis_recodings.csv"),
        r["cut_date"],
        (
            _checked(r["new_code_1"], r["new_value_set"], "diagnosis_recodings.csv"),
            _checked(r["new_code_2"], r["new_value_set"], "diagnosis_recodings.csv"),
        ),
        float(r["stale_share"]),
    )
    for r in _pack_rows("diagnosis_recodings.csv")
}
# Weighted pick lists of codes or slots, in the order of the pack's table.
_DX_GROUPS: dict[str, dict[str, float]] = {}
for _r in _pack_rows("diagnosis_picks.csv"):
    _item = _r["item"]
    if _item not in _DX_SLOTS:
        _checked(_item, _r["value_set"], "diagnosis_picks.csv")
    _DX_GROUPS.setdefault(_r["pick_list"], {})[_item] = float(_r["weight"])
# ICD-9-CM codes arriving in an ICD-10 field (privacy.md: must be quarantined, not dropped)
ICD9_CODES = tuple(_DX_GROUPS["ICD9"])


def _dx_vocab() -> tuple[list[str], dict[str, int]]:
    codes: list[str] = []
    for old, _cut, new, _stale in _DX_SLOTS.values():
        codes += [old, *new]
    for group in _DX_GROUPS.values():
        codes += [c for c in group if c not in _DX_SLOTS]
    out = sorted(dict.fromkeys(codes))
    return out, {c: i for i, c in enumerate(out)}


DX_CODES, _DXI = _dx_vocab()
_SLOT_NAMES = [*_DX_SLOTS, *DX_CODES]
_SLOTI = {s: i for i, s in enumerate(_SLOT_NAMES)}
_SLOT_OLD = np.array([_DXI[_DX_SLOTS[s][0]] if s in _DX_SLOTS else _DXI[s] for s in _SLOT_NAMES])
_SLOT_CUT = np.array([_day(_DX_SLOTS[s][1]) if s in _DX_SLOTS else _NEVER for s in _SLOT_NAMES])
_SLOT_NEW = np.array(
    [[_DXI[c] for c in _DX_SLOTS[s][2]] if s in _DX_SLOTS else [_DXI[s]] * 2 for s in _SLOT_NAMES]
)
_SLOT_STALE = np.array([_DX_SLOTS[s][3] if s in _DX_SLOTS else 0.0 for s in _SLOT_NAMES])
_GROUP_INDEX = {g: i for i, g in enumerate(_DX_GROUPS)}
_GROUP_SLOTS = [np.array([_SLOTI[s] for s in group]) for group in _DX_GROUPS.values()]
_GROUP_CUM = [np.cumsum(list(group.values()), dtype=float) for group in _DX_GROUPS.values()]
_SPINE_SLOTS = [
    _GROUP_SLOTS[_GROUP_INDEX[g]] for g in ("AX_LS", "AX_CT", "AX_SI", "RAD_LS", "RAD_CT")
]
_SLOT_SPINE = np.isin(np.arange(len(_SLOT_NAMES)), np.concatenate(_SPINE_SLOTS))

# Code formats seen in extracts: dotted, dotless, lower case, padded, lower dotless.
_N_FMT = 5
_FMT_MIXED = 5  # a site whose rows come in every format
_DX_STRINGS = pa.array(
    [
        v
        for c in DX_CODES
        for v in (c, c.replace(".", ""), c.lower(), f" {c} ", c.replace(".", "").lower())
    ]
)

# ---------------------------------------------------------------------------------------------
# Procedures (HCPCS / CPT). Index families per measure spec 3.2.
EPI, FINJ, SINJ, FRFA, SRFA, TP, UNL, OTH = range(8)
# Code sets: (cervical/thoracic, lumbar/sacral) x (primary, first add-on, second add-on).
# A second add-on equal to the first is billed as units 2 on the add-on line.
_REGIONS = ("cervical_thoracic", "lumbar_sacral")
_CODESETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
for _r in _pack_rows("procedure_codesets.csv"):
    _codes = tuple(
        _checked(_r[c], _r["value_set"], "procedure_codesets.csv")
        for c in ("primary_code", "first_addon", "second_addon")
        if _r[c]
    )
    _regions = _CODESETS.get(_r["codeset"], ((), ()))
    _i = _REGIONS.index(_r["region"])
    _CODESETS[_r["codeset"]] = (_codes, _regions[1]) if _i == 0 else (_regions[0], _codes)
# Procedures of ordinary visits, pick lists (E/M, ancillaries, drugs) and amounts, from the pack
_PX_PICKS: dict[str, list[dict[str, str]]] = {}
for _r in _pack_rows("procedure_picks.csv"):
    _checked(_r["item"], _r["value_set"], "procedure_picks.csv")
    _PX_PICKS.setdefault(_r["pick_list"], []).append(_r)
_ORDINARY = tuple(r["item"] for r in _PX_PICKS["ORDINARY"])
PX_CODES = tuple(dict.fromkeys([c for a, b in _CODESETS.values() for c in a + b] + [*_ORDINARY]))
_PXI = {c: i for i, c in enumerate(PX_CODES)}
_CS = {name: i for i, name in enumerate(_CODESETS)}
_CS_CODES = np.full((len(_CODESETS), 2, 3), -1)
for _name, _regions in _CODESETS.items():
    for _r, _codes in enumerate(_regions):
        for _j, _c in enumerate(_codes):
            _CS_CODES[_CS[_name], _r, _j] = _PXI[_c]
_PX_STRINGS = pa.array(PX_CODES)
_PX_NUMERIC = np.array([c.isdigit() for c in PX_CODES])


def _px_list(pick_list: str) -> np.ndarray:
    """Code indices of a pick list of the pack, in its order."""
    return np.array([_PXI[r["item"]] for r in _PX_PICKS[pick_list]])


def _px_weights(pick_list: str) -> np.ndarray:
    """Cumulative weights of a pick list of the pack."""
    return np.cumsum([float(r["weight"]) for r in _PX_PICKS[pick_list]])


def _codeset_code(codeset: str, ls: np.ndarray | int = 0, line: int = 0) -> np.ndarray:
    """The code index of a code set's line (0 primary, 1-2 add-ons) by region (ls: 1 for
    lumbar/sacral, else cervical/thoracic)."""
    return _CS_CODES[_CS[codeset], np.asarray(ls, dtype=np.int64), line]


# Ordinary line amounts in cents, (low, high).
_AMT_LO = np.zeros(len(PX_CODES), dtype=np.int64)
_AMT_HI = np.zeros(len(PX_CODES), dtype=np.int64)
for _row in _PX_PICKS["ORDINARY"]:
    _AMT_LO[_PXI[_row["item"]]] = int(_row["amount_low"])
    _AMT_HI[_PXI[_row["item"]]] = int(_row["amount_high"])
# primary lines by family, in cents (index lines stay within 150-2500)
_FAM_AMOUNT = np.array(
    [
        (25000, 90000),
        (20000, 70000),
        (15000, 60000),
        (60000, 250000),
        (70000, 250000),
        (15000, 30000),
        (30000, 150000),
        (40000, 250000),
    ]
)
_ADDON_AMOUNT = (15000, 50000)
_MAX_INDEX_AMOUNT = 250000

_EM = _px_list("EVALUATION_MANAGEMENT")
_EM_CUM = _px_weights("EVALUATION_MANAGEMENT")
_EM_SAME_DAY = _px_list("EVALUATION_MANAGEMENT_SAME_DAY")[
    0
]  # the E/M line of a claim with a procedure
_ANC_SPINE = _px_list("ANCILLARY_SPINE")
_ANC_SPINE_CUM = _px_weights("ANCILLARY_SPINE")
_ANC_GEN = _px_list("ANCILLARY_GENERAL")
_ANC_GEN_CUM = _px_weights("ANCILLARY_GENERAL")
_DRUGS = _px_list("DRUG")
_DRUG_UNITS = np.array([int(r["units"]) for r in _PX_PICKS["DRUG"]])

# Modifiers: base (none, 50, RT, LT, 25) x clinical trial (none, Q0, Q1).
_MOD_BASE = (None, *(r["item"] for r in _PX_PICKS["MODIFIER"]))  # M_NONE, M_50 ... below
_MOD_TRIAL = (None, *(r["item"] for r in _PX_PICKS["TRIAL_MODIFIER"]))
_MOD_STRINGS = pa.array(
    [",".join(m for m in (b, t) if m) or None for b in _MOD_BASE for t in _MOD_TRIAL]
)
M_NONE, M_50, M_RT, M_LT, M_25 = range(5)

# Line statuses; blank (None) counts, as does any value not listed in measure spec 3.1.
_STATUS = (None, "paid", "PAID", "pended", "denied", "Denied", "void", "voided", "VOID")
_STATUS = (*_STATUS, "reversed", "entered_in_error")
_ST = {s: i for i, s in enumerate(_STATUS)}
_STATUS_STRINGS = pa.array(list(_STATUS))
_CODE_SYSTEMS = pa.array([None, "ICD10CM", "HCPCS", "CPT"])
SYS_BLANK, SYS_ICD10CM, SYS_HCPCS, SYS_CPT = range(4)

# ---------------------------------------------------------------------------------------------
# Sites
_PLACES = (
    "Riverside", "Northgate", "Lakeview", "Cedar Hill", "Harbor", "Summit", "Oak Valley",
    "Maplewood", "Westbrook", "Pinecrest", "Fairview", "Brookside", "Granite Peak",
    "Silver Lake", "Meadowbrook", "Bayside", "Highland", "Stonebridge", "Willow Creek", "Elmwood",
)  # fmt: skip
_KINDS = (
    "Spine Center", "Pain Clinic", "Pain Management Associates", "Orthopedic Group",
    "Medical Center", "Surgery Center", "Family Practice", "Community Hospital",
    "Interventional Pain Institute", "Health Partners, P.C.",
)  # fmt: skip
HOSTILE_SITE_NAME = "Downtown <script>alert(1)</script> Pain Center"
QUOTED_SITE_NAME = 'O\'Brien & Sons "Back to Work" Spine Clinic'
_SITE_GROUPS = ("North", "South", "East", "West", "Central")

# Patient profiles of spine pain, and indication pain types of an episode.
NONE, CHRONIC, ACUTE, INSUFF = range(4)
AX, RAD, BOTH, NOIND = range(4)


def _cumulative(*weights: float) -> np.ndarray:
    """Cumulative weights, as :func:`_pick` takes them."""
    return np.cumsum(weights, dtype=float)


# family chosen by the episode's indication pain type: EPI FINJ SINJ FRFA SRFA TP UNL OTH
_FAM_CUM = [
    _cumulative(0.22, 0.22, 0.12, 0.15, 0.05, 0.14, 0.01, 0.04),
    _cumulative(0.82, 0.03, 0.02, 0.01, 0.0, 0.02, 0.06, 0.04),
    _cumulative(0.55, 0.12, 0.06, 0.10, 0.03, 0.06, 0.04, 0.04),
    _cumulative(0.10, 0.05, 0.20, 0.0, 0.0, 0.60, 0.0, 0.05),
]
# Exclusions placed before (or after) an index episode: (group, share of eligible episodes,
# days before the procedure from, to). Some fall outside the rule's window on purpose.
_EXCLUSIONS = (
    ("CANCER", 0.03, 0, 330),  # within 365 days: excludes
    ("CANCER", 0.02, 400, 1200),  # older than 365 days: does not exclude
    ("BONE_METS", 0.02, 0, 1500),  # any earlier date: excludes
    ("SKIN_CANCER", 0.02, 0, 300),  # C44: never excludes
    ("FRACTURE", 0.025, 0, 330),
    ("INFECTION", 0.02, 0, 330),
    ("CAUDA", 0.015, 0, 200),
    ("INFLAM", 0.05, 0, 1800),
    ("INFLAM", 0.01, -200, -30),  # recorded only after the procedure: does not exclude
)


@dataclass(frozen=True)
class _Ctx:
    seed: int
    patients: int
    start: int  # first day of the extract (day number)
    end: int  # last day of the extract
    site_cum: np.ndarray  # cumulative site weights (Zipf-like)
    site_fmt: np.ndarray  # dominant diagnosis-code format per site
    site_dx_sys: np.ndarray  # dominant diagnosis code_system per site
    site_px_sys: np.ndarray  # dominant procedure code_system per site
    pid_width: int
    sid_width: int


# ---------------------------------------------------------------------------------------------
# Vectorised helpers


def _pick(rng: np.random.Generator, cum: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with weights given as a cumulative array."""
    return np.searchsorted(cum, rng.random(size) * cum[-1], side="right")


def _quota(rng: np.random.Generator, mask: np.ndarray, share: float) -> np.ndarray:
    """share x (rows in mask) rows, stochastically rounded, chosen at random.

    Why: rare scenarios drawn row by row vanish from small blocks by chance; a quota keeps each
    one's expected rate and gives every block its share.
    """
    rows = np.flatnonzero(mask)
    out = np.zeros(len(mask), dtype=bool)
    out[rng.permutation(rows)[: int(share * len(rows) + rng.random())]] = True
    return out


def _uint(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, size: int):
    """Uniform integers in [lo, hi], elementwise; hi < lo gives lo."""
    lo = np.asarray(lo, dtype=np.int64)
    span = np.maximum(np.asarray(hi, dtype=np.int64) - lo + 1, 1)
    return lo + (rng.random(size) * span).astype(np.int64)


def _minus_years(days: np.ndarray, years: int) -> np.ndarray:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    d = days.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    dom = (d - month.astype("datetime64[D]")).astype(np.int64)
    earlier = month - np.timedelta64(12 * years, "M")
    first = earlier.astype("datetime64[D]")
    dim = ((earlier + 1).astype("datetime64[D]") - first).astype(np.int64)
    return (first + np.minimum(dom, dim - 1)).astype(np.int64)


def _year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _dx_slots(rng: np.random.Generator, groups: np.ndarray | int, n: int) -> np.ndarray:
    """A diagnosis slot per row, drawn from its group (one group for all rows, or one each)."""
    groups = np.broadcast_to(np.asarray(groups), (n,))
    slot = np.zeros(n, dtype=np.int64)
    for g in np.unique(groups):
        m = groups == g
        slot[m] = _GROUP_SLOTS[g][_pick(rng, _GROUP_CUM[g], int(m.sum()))]
    return slot


def _dx_code(rng: np.random.Generator, slot: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The code of each slot as it was coded on that day (the old code before the cut)."""
    n = len(slot)
    new = _SLOT_NEW[slot, (rng.random(n) < 0.5).astype(np.int64)]
    stale = rng.random(n) < _SLOT_STALE[slot]
    return np.where((days < _SLOT_CUT[slot]) | stale, _SLOT_OLD[slot], new)


def _dx_pick(rng: np.random.Generator, groups: np.ndarray | int, days: np.ndarray) -> np.ndarray:
    return _dx_code(rng, _dx_slots(rng, groups, len(days)), days)


def _ids(prefix: str, nums: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """Zero-padded numbers, with a one-letter prefix if given (P000123); nums fit in width."""
    arr = pa.array(nums, mask=None if valid is None else ~valid)
    padded = pc.utf8_lpad(pc.cast(arr, pa.string()), width, "0")
    return pc.utf8_lpad(padded, width + 1, prefix) if prefix else padded


def _money(cents: np.ndarray, valid: np.ndarray) -> pa.Array:
    scaled = pa.array(cents, mask=~valid).cast(pa.decimal128(19, 0)).view(pa.decimal128(19, 2))
    return scaled.cast(pa.decimal128(12, 2))


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.date32(), mask=None if valid is None else ~valid)


def _sort(cols: dict[str, np.ndarray], *keys: str) -> dict[str, np.ndarray]:
    """Rows ordered by the keys, first key first; ties keep their order."""
    order = np.lexsort([np.arange(len(cols[keys[0]]))] + [cols[k] for k in reversed(keys)])
    return {c: v[order] for c, v in cols.items()}


def _take(x: np.ndarray | int, m: np.ndarray) -> np.ndarray:
    """The rows of x (an array, or a scalar for every row) where m holds."""
    return np.broadcast_to(x, m.shape)[m]


def _rank_in_group(group: np.ndarray) -> np.ndarray:
    """0, 1, 2 ... within each run of equal values of a sorted array."""
    return np.arange(len(group)) - np.searchsorted(group, group)


class _Rows:
    """Column arrays appended piecewise (scalars broadcast), concatenated once."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **cols: np.ndarray | int) -> None:
        arrays = {k: np.asarray(v) for k, v in cols.items()}
        n = max(len(a) for a in arrays.values() if a.ndim)
        for k, a in arrays.items():
            self.parts.setdefault(k, []).append(np.broadcast_to(a, (n,)) if a.ndim == 0 else a)

    def get(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.parts.items()}


# ---------------------------------------------------------------------------------------------
# One block of patients


class _Block:
    """All rows of one block of patients.

    Why a class: the stages share many per-patient and per-episode arrays. Each stage is a
    method; they run (and draw random numbers) in a fixed order, which is what keeps the output
    reproducible. Arrays of patients are indexed 0..n-1 within the block; arrays of episodes
    have one entry per index-procedure episode (``ep`` gives its patient).
    """

    def __init__(self, ctx: _Ctx, block: int) -> None:
        self.ctx = ctx
        self.block = block
        self.rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence([ctx.seed, 1, block]))
        )
        self.n = min(BLOCK, ctx.patients - block * BLOCK)
        self.proc = _Rows()  # p, day, code, site, claim, line, mod, units, amt, amt_ok, st, prov
        self.dx = _Rows()  # p, day, code, site, claim
        self.visit = _Rows()  # p, day, site, claim (-1: number later), slot (-1: no dx), extra
        self.cov = _Rows()  # p, start, end
        self._patients()
        self._coverage()
        self._episodes()
        self._index_codes()
        self._index_claims()
        self._claim_diagnoses()
        self._visits()
        self._exclusions()
        self._visit_rows()

    def uniform(self, size: int) -> np.ndarray:
        """``size`` uniform draws in [0, 1) from the block's stream."""
        return self.rng.random(size)

    def _patients(self) -> None:
        """Sex, birth, spine-pain profile, pain type, home site, birth-date completeness."""
        rng, n, ctx, uniform = self.rng, self.n, self.ctx, self.uniform
        self.sex = _pick(rng, _cumulative(0.54, 0.447, 0.008, 0.005), n)  # F, M, U, blank
        kid = uniform(n) < 0.12
        age_at_end = np.clip(rng.normal(54, 17, n), 19, 101)
        kid_age_at_start = 4 + 14 * uniform(n)
        birth = np.where(kid, ctx.start - kid_age_at_start * 365.25, ctx.end - age_at_end * 365.25)
        self.birth = birth.astype(np.int64)
        r = uniform(n)
        chronic = np.where(kid, 0.035, 0.22)
        acute = chronic + np.where(kid, 0.005, 0.03)
        insuff = acute + np.where(kid, 0.005, 0.025)
        self.profile = np.select(
            [r < chronic, r < acute, r < insuff], [CHRONIC, ACUTE, INSUFF], NONE
        )
        self.pain = _pick(rng, _cumulative(0.55, 0.30, 0.15), n)  # AX, RAD, BOTH
        self.home = _pick(rng, ctx.site_cum, n)
        self.dob_mode = _pick(
            rng, _cumulative(0.78, 0.12, 0.095, 0.005), n
        )  # both, date, year, none

    def _coverage(self) -> None:
        """Enrolment; the observation window (records exist only inside it); coverage rows
        (one span, a gap, abutting or overlapping spans, or none)."""
        rng, n, uniform = self.rng, self.n, self.uniform
        S, E, prof = self.ctx.start, self.ctx.end, self.profile
        es = np.where(
            uniform(n) < 0.55,
            S - _uint(rng, 0, 1500, n),  # enrolled before the extract starts
            _uint(rng, S, S + max(E - S - 120, 0), n),
        )
        es = np.where(prof == ACUTE, S - _uint(rng, 30, 1500, n), es)
        # insufficient history: enrolled 10-85 days before the (only) procedure
        self.d_insuff = _uint(rng, S + 120, max(E - 30, S + 120), n)
        es = np.where(prof == INSUFF, self.d_insuff - _uint(rng, 10, 85, n), es)
        es = np.maximum(es, self.birth)
        lo = np.maximum(es, S)
        ongoing = (uniform(n) < 0.78) | (prof != NONE)
        ee = np.where(ongoing, E, np.minimum(_uint(rng, lo + 120, E, n), E))
        self.obs_lo, self.obs_hi = lo, np.maximum(np.minimum(ee, E), lo)
        mode = _pick(rng, _cumulative(0.07, 0.70, 0.12, 0.08, 0.03), n)  # none/one/gap/abut/overlap
        mode = np.where(prof == INSUFF, uniform(n) >= 0.3, mode)
        mode = np.where((mode == 2) & (self.obs_hi - self.obs_lo < 500), 1, mode)
        self.gap = mode == 2
        self.g0 = _uint(rng, lo + 120, self.obs_hi - 280, n)
        self.g1 = self.g0 + _uint(rng, 30, 240, n)
        mid = _uint(rng, es + 30, ee - 30, n)
        lap = _uint(rng, 1, 60, n)
        ar = np.arange(n)
        for m, start, end in (
            (mode == 1, es, ee),
            (self.gap, es, self.g0 - 1),
            (self.gap, self.g1, ee),
            (mode == 3, es, mid),
            (mode == 3, mid + 1, ee),
            (mode == 4, es, np.minimum(mid + lap, ee)),
            (mode == 4, mid, ee),
        ):
            self.cov.add(p=ar[m], start=start[m], end=end[m])

    def _episodes(self) -> None:
        """Index-procedure episodes: date, indication pain type, family, region and site."""
        rng, n, uniform, ctx = self.rng, self.n, self.uniform, self.ctx
        prof = self.profile
        n_ep = np.where((prof == CHRONIC) & (uniform(n) < 0.45), 1 + rng.poisson(0.6, n), 0)
        n_ep = np.where((prof == ACUTE) | (prof == INSUFF), 1, n_ep)
        n_ep = np.where((prof == NONE) & (uniform(n) < 0.012), 1, n_ep)  # no spine indication
        ep = np.repeat(np.arange(n), n_ep)
        k = self.k = len(ep)
        lo, hi = self.obs_lo[ep], self.obs_hi[ep]
        lead = np.select([prof[ep] == CHRONIC, prof[ep] == ACUTE], [120, 365], 0)
        d = _uint(rng, np.minimum(lo + lead, hi), hi, k)
        d = np.where(prof[ep] == INSUFF, self.d_insuff[ep], d)
        # no episode inside a coverage gap; some just after one (history restarts there)
        g0, g1 = self.g0[ep], self.g1[ep]
        after_gap = self.gap[ep] & (((d >= g0) & (d < g1)) | (uniform(k) < 0.25))
        d = np.where(after_gap, np.minimum(g1 + _uint(rng, 5, 80, k), hi), d)
        order = np.lexsort((d, ep))
        self.ep, self.d = ep[order], d[order]
        ep, d = self.ep, self.d
        self.prof_e, self.lo_e, self.hi_e = prof[ep], self.obs_lo[ep], self.obs_hi[ep]

        # patients turning 18 around their first procedure (half on the birthday +-1 day)
        turning = (n_ep > 0) & (prof != NONE) & (uniform(n) < 0.06)
        offset = np.where(uniform(n) < 0.5, _uint(rng, -1, 1, n), _uint(rng, -150, 150, n))
        first = d[np.minimum(np.searchsorted(ep, np.arange(n)), max(k - 1, 0))] if k else 0
        self.birth = np.where(turning, _minus_years(np.asarray(first), 18) + offset, self.birth)
        self.age_e = (d - self.birth[ep]) / 365.25

        ept = np.where(self.prof_e == NONE, NOIND, self.pain[ep])
        self.ept = np.where(uniform(k) < 0.06, NOIND, ept)
        self.fam = np.zeros(k, dtype=np.int64)
        for t in (AX, RAD, BOTH, NOIND):
            m = self.ept == t
            self.fam[m] = _pick(rng, _FAM_CUM[t], int(m.sum()))
        ls = np.where(self.ept == RAD, uniform(k) < 0.8, uniform(k) < 0.7)
        self.ls = ls | np.isin(self.fam, (SINJ, SRFA))  # lumbar/sacral, else cervical/thoracic
        self.site_e = np.where(uniform(k) < 0.55, self.home[ep], _pick(rng, ctx.site_cum, k))
        self.prov_e = 1_000_000_000 + self.site_e * 1000 + 900 + _uint(rng, 0, 3, k)
        # claim numbers: 5 per episode (procedure claim, facility copy, voided original,
        # reversal, separate same-day encounter); visits are numbered after them
        self.claim0 = 1 + 5 * np.arange(k)

    def _index_codes(self) -> None:
        """Primary and add-on codes by family, region and date: retired codes while they were
        current, and a few after retirement (the data-quality check)."""
        rng, k, uniform, fam, d = self.rng, self.k, self.uniform, self.fam, self.d
        y2010, y2012, y2017 = _day("2010-01-01"), _day("2012-01-01"), _day("2017-01-01")
        y2020, y2022 = _day("2020-01-01"), _day("2022-01-01")
        cs = np.full(k, -1)

        def put(mask: np.ndarray, codeset: str | np.ndarray) -> None:
            """First match wins."""
            m = mask & (cs < 0)
            cs[m] = _CS[codeset] if isinstance(codeset, str) else codeset[m]

        sub = uniform(k)
        il = (fam == EPI) & (sub < 0.45)  # interlaminar; else transforaminal
        ultrasound = (sub >= 0.98) & (d >= y2012)
        stale = _quota(rng, il, 0.07) | _quota(rng, fam == FINJ, 0.07)
        stale |= _quota(rng, fam == FRFA, 0.08)
        put(il & ((d < y2017) | stale), "EPI_IL_RETIRED")
        put(il & (uniform(k) < 0.6), "EPI_IL_IMAGING")
        put(il, "EPI_IL")
        put((fam == EPI) & ultrasound, "EPI_TF_US")
        put(fam == EPI, "EPI_TF")
        put((fam == FINJ) & ((d < y2010) | stale), "FINJ_RETIRED")
        put((fam == FINJ) & ultrasound, "FINJ_US")
        put(fam == FINJ, "FINJ")
        si_now = np.array([_CS["SI_27096"], _CS["SI_G0260"], _CS["SI_64451"]])
        put((fam == SINJ) & (d >= y2020), si_now[_pick(rng, _cumulative(0.5, 0.25, 0.25), k)])
        put(fam == SINJ, si_now[(uniform(k) < 0.35).astype(np.int64)])
        put((fam == FRFA) & ((d < y2012) | stale), "FRFA_RETIRED")
        put(fam == FRFA, "FRFA")
        put((fam == SRFA) & (d >= y2020), "SRFA")
        put(fam == SRFA, "SRFA_BEFORE_2020")
        put((fam == TP) & (uniform(k) < 0.6), "TP_1_2")
        put(fam == TP, "TP_3")
        put(fam == UNL, "UNLISTED")
        other = np.array(
            [_CS[c] for c in ("SCS_LEAD", "NEUROLYTIC", "SI_FUSION", "BVN_ABLATION", "CATHETER")]
        )[_pick(rng, _cumulative(3, 1, 1, 1, 3), k)]
        other = np.where((other == _CS["BVN_ABLATION"]) & (d < y2022), _CS["SCS_LEAD"], other)
        other = np.where((other == _CS["CATHETER"]) & (d < y2017), _CS["CATHETER_RETIRED"], other)
        put(fam == OTH, other)
        codes = _CS_CODES[cs, self.ls.astype(np.int64)]
        self.prim, self.add1, self.add2 = codes[:, 0], codes[:, 1], codes[:, 2]
        self.tf = (fam == EPI) & ~il

    def _index_claims(self) -> None:
        """Lines of each episode's claim -- add-ons, bilateral, same-day merges, drug, E/M --
        their statuses, and the facility, voided and reversal copies of the claim."""
        rng, k, uniform, fam = self.rng, self.k, self.uniform, self.fam
        all_ = np.ones(k, dtype=bool)
        n_add = np.where(self.add1 >= 0, _pick(rng, _cumulative(0.35, 0.37, 0.28), k), 0)
        units2 = self.add2 == self.add1  # second level billed as units 2 on the add-on line
        bil_ok = np.isin(fam, (FINJ, SINJ, FRFA, SRFA)) | self.tf
        bil = np.where(
            bil_ok, _pick(rng, _cumulative(0.70, 0.15, 0.10, 0.05), k), 0
        )  # -/50/RT+LT/2
        trial = np.where(_quota(rng, fam <= TP, 0.03), 1 + (uniform(k) < 0.5), 0)  # Q0 / Q1
        merge = _quota(rng, fam == FRFA, 0.25) | _quota(rng, fam == SRFA, 0.4)
        companion = _quota(rng, fam == UNL, 0.35)  # 64999 with a same-claim epidural
        drug = np.isin(fam, (EPI, FINJ, SINJ, TP)) & (uniform(k) < 0.5)
        drug_i = _pick(rng, _cumulative(0.5, 0.35, 0.15), k)
        em = uniform(k) < 0.2
        amount_ok = uniform(k) >= 0.05
        statuses = np.array([_ST["paid"], _ST["PAID"], _ST[None], _ST["pended"]])
        st = statuses[_pick(rng, _cumulative(0.82, 0.05, 0.10, 0.03), k)]
        self.deny_all = _quota(rng, all_, 0.04)
        st = np.where(self.deny_all, np.where(uniform(k) < 0.2, _ST["Denied"], _ST["denied"]), st)
        deny_add = _quota(rng, n_add > 0, 0.08)
        self.split = _quota(rng, all_, 0.08)  # diagnoses on a separate same-day encounter
        no_src = _quota(rng, self.split, 0.4)  # ... and procedure lines without a source id
        self.hdr = _quota(rng, ~self.split, 0.05)  # claim diagnoses dated the day before
        self.fac = _quota(rng, ~self.deny_all, 0.10)  # facility claim for the same procedure
        self.void = _quota(rng, all_, 0.03)  # a voided earlier submission of the claim
        self.rev = _quota(rng, ~self.void, 0.025)  # a reversal of the claim
        voids = np.array([_ST["void"], _ST["voided"], _ST["VOID"], _ST["entered_in_error"]])
        void_st = voids[_pick(rng, _cumulative(0.7, 0.15, 0.1, 0.05), k)]

        # lines of the claim; kind orders them: E/M, primary, LT, add-ons, merged, drug
        lines = _Rows()
        idx = np.arange(k)
        lo, hi = _FAM_AMOUNT[fam, 0], _FAM_AMOUNT[fam, 1]
        a_lo, a_hi = _ADDON_AMOUNT
        minj = _codeset_code("FINJ", self.ls)
        minj = np.where(self.d < _day("2010-01-01"), _codeset_code("FINJ_RETIRED", self.ls), minj)
        minj = np.where(fam == SRFA, _codeset_code("SI_27096"), minj)
        pmod = np.select([bil == 1, bil == 2], [M_50, M_RT], M_NONE) * 3 + trial
        for m, kind, code, mod, units, (amt_lo, amt_hi), index_line in (
            (em, 0, _EM_SAME_DAY, M_25 * 3, 1, (12000, 16000), False),
            (all_, 1, self.prim, pmod, np.where(bil == 3, 2, 1), (lo, hi), True),
            (bil == 2, 2, self.prim, M_LT * 3 + trial, 1, (lo, hi), True),
            (
                n_add >= 1,
                3,
                self.add1,
                0,
                np.where((n_add == 2) & units2, 2, 1),
                (a_lo, a_hi),
                True,
            ),
            ((n_add == 2) & ~units2, 4, self.add2, 0, 1, (a_lo, a_hi), True),
            (merge, 5, minj, 0, 1, (a_lo, a_hi), True),
            (companion, 6, _codeset_code("EPI_TF", self.ls), 0, 1, (lo, hi), True),
            (drug, 7, _DRUGS[drug_i], 0, _DRUG_UNITS[drug_i], (150, 900), False),
        ):
            lines.add(
                e=idx[m],
                kind=kind,
                code=_take(code, m),
                mod=_take(mod, m),
                units=_take(units, m),
                amt=_uint(rng, _take(amt_lo, m), _take(amt_hi, m), int(m.sum())),
                index_line=index_line,
            )
        ln = _sort(lines.get(), "e", "kind")
        e = ln["e"]
        line_no = 1 + _rank_in_group(e)
        status = np.where(deny_add[e] & np.isin(ln["kind"], (3, 4)), _ST["denied"], st[e])
        n_lines = len(e)
        facility_amt = np.minimum(ln["amt"] * (1.2 + 1.3 * uniform(n_lines)), _MAX_INDEX_AMOUNT)
        facility_amt = facility_amt.astype(np.int64)

        for m, offset, st_, sign, prov, amt in (
            (np.ones(n_lines, dtype=bool), 0, status, 1, self.prov_e[e], ln["amt"]),
            (self.fac[e] & ln["index_line"], 1, status, 1, -1, facility_amt),
            (self.void[e], 2, void_st[e], 1, self.prov_e[e], ln["amt"]),
            (self.rev[e], 3, np.full(n_lines, _ST["reversed"]), -1, self.prov_e[e], ln["amt"]),
        ):
            em_ = e[m]
            claim = self.claim0[em_] + offset
            if offset == 0:
                claim = np.where(no_src[em_], -1, claim)
            self.proc.add(
                p=self.ep[em_],
                day=self.d[em_],
                code=ln["code"][m],
                site=self.site_e[em_],
                claim=claim,
                line=line_no[m],
                mod=ln["mod"][m],
                units=sign * ln["units"][m],
                amt=sign * amt[m],
                amt_ok=amount_ok[em_],
                st=st_[m],
                prov=_take(prov, m),
            )

    def _claim_diagnoses(self) -> None:
        """The indication: diagnoses on the procedure claim (and on its copies)."""
        rng, k, uniform, fam, ept, d = self.rng, self.k, self.uniform, self.fam, self.ept, self.d
        self.ax_g = np.where(
            np.isin(fam, (SINJ, SRFA)),
            _GROUP_INDEX["AX_SI"],
            np.where(self.ls, _GROUP_INDEX["AX_LS"], _GROUP_INDEX["AX_CT"]),
        )
        self.rad_g = np.where(self.ls, _GROUP_INDEX["RAD_LS"], _GROUP_INDEX["RAD_CT"])
        g1 = np.select(
            [ept == AX, ept == RAD, ept == BOTH],
            [self.ax_g, self.rad_g, self.ax_g],
            _GROUP_INDEX["NONSPINE_PAIN"],
        )
        g2 = np.where(ept == BOTH, self.rad_g, g1)
        self.dx1 = _dx_pick(rng, g1, d)
        dx2 = _dx_pick(rng, g2, d)
        second = ((ept == BOTH) | ((ept != NOIND) & (uniform(k) < 0.3))) & (dx2 != self.dx1)
        all_ = np.ones(k, dtype=bool)
        childbearing = (self.sex[self.ep] == 0) & (self.age_e >= 18) & (self.age_e <= 45)
        extras = [
            (_quota(rng, all_, 0.08), "CHRONIC_PAIN"),
            (_quota(rng, all_, 0.025), "TRIAL"),
            (_quota(rng, childbearing, 0.12), "PREGNANCY"),  # on the procedure date
            (uniform(k) < 0.25, "UNRELATED"),
        ]
        idx = np.arange(k)
        e = np.concatenate([idx, idx[second], *(idx[m] for m, _ in extras)])
        code = np.concatenate(
            [self.dx1, dx2[second], *(_dx_pick(rng, _GROUP_INDEX[g], d)[m] for m, g in extras)]
        )
        day = np.where(self.hdr, d - 1, d)[e]
        claim = np.where(self.split, self.claim0 + 4, self.claim0)[e]
        self.dx.add(p=self.ep[e], day=day, code=code, site=self.site_e[e], claim=claim)
        for flag, offset in ((self.fac, 1), (self.void, 2), (self.rev, 3)):
            m = flag[e] & ~self.split[e]
            self.dx.add(
                p=self.ep[e[m]],
                day=day[m],
                code=code[m],
                site=self.site_e[e[m]],
                claim=self.claim0[e[m]] + offset,
            )

    def _add_visits(self, m, p, day, site, slot, extra=0, claim=-1) -> None:
        """Visits of patients ``p`` where ``m`` holds; scalars apply to all."""
        self.visit.add(
            p=_take(p, m),
            day=_take(day, m),
            site=_take(site, m),
            claim=_take(claim, m),
            slot=_take(slot, m),
            extra=_take(extra, m),
        )

    def _visits(self) -> None:
        """Ordinary visits over the observation window, and the visits that give each episode
        its history: chronic, acute (first spine diagnosis < 90 days before) or too short."""
        rng, n, uniform, k = self.rng, self.n, self.uniform, self.k
        prof = self.profile
        years = (self.obs_hi - self.obs_lo + 1) / 365.25
        rate = np.select([prof == CHRONIC, prof == INSUFF], [1.8, 1.8], 1.1)
        vp = np.repeat(np.arange(n), rng.poisson(rate * years))
        day = _uint(rng, self.obs_lo[vp], self.obs_hi[vp], len(vp))
        keep = ~(self.gap[vp] & (day >= self.g0[vp]) & (day < self.g1[vp]))
        vp, day = vp[keep], day[keep]
        nv = len(vp)
        site = np.where(uniform(nv) < 0.9, self.home[vp], _pick(rng, self.ctx.site_cum, nv))
        ls = uniform(nv) < 0.7
        axial = np.where(self.pain[vp] == BOTH, uniform(nv) < 0.5, self.pain[vp] == AX)
        spine_g = np.where(
            axial,
            np.where(ls, _GROUP_INDEX["AX_LS"], _GROUP_INDEX["AX_CT"]),
            np.where(ls, _GROUP_INDEX["RAD_LS"], _GROUP_INDEX["RAD_CT"]),
        )
        spine_p = np.array([0.03, 0.5, 0.0, 0.5])[prof[vp]]  # by profile NONE..INSUFF
        g = np.where(uniform(nv) < 0.2, _GROUP_INDEX["WELLNESS"], _GROUP_INDEX["UNRELATED"])
        g = np.where(uniform(nv) < spine_p, spine_g, g)
        g = np.where(uniform(nv) < 0.003, _GROUP_INDEX["ICD9"], g)
        slot = _dx_slots(rng, g, nv)
        lasting_ia = uniform(n) < 0.015  # a lasting inflammatory arthropathy, on some visits
        ia_slot = _dx_slots(rng, _GROUP_INDEX["INFLAM"], n)
        slot = np.where(lasting_ia[vp] & (uniform(nv) < 0.3), ia_slot[vp], slot)
        self._add_visits(np.ones(nv, dtype=bool), vp, day, site, slot, rng.binomial(3, 0.3, nv))

        ep, d, pe, lo = self.ep, self.d, self.prof_e, self.lo_e
        consult_site = np.where(uniform(k) < 0.5, self.site_e, self.home[ep])
        pain_g = np.where(self.ept == RAD, self.rad_g, self.ax_g)
        pain_g = np.where(
            self.ept == NOIND,
            np.where(uniform(k) < 0.5, _GROUP_INDEX["AX_LS"], _GROUP_INDEX["RAD_LS"]),
            pain_g,
        )
        pain_slot = _dx_slots(rng, pain_g, k)
        chronic = (pe == CHRONIC) & (d - lo >= 90)
        self._add_visits(
            chronic, ep, d - _uint(rng, 90, np.minimum(700, d - lo), k), consult_site, pain_slot
        )
        follow_up = (pe != NONE) & (pe != INSUFF) & (uniform(k) < 0.6)
        self._add_visits(follow_up, ep, d - _uint(rng, 7, 60, k), consult_site, pain_slot)
        acute = pe == ACUTE
        early = d - _uint(rng, 120, np.minimum(600, d - lo), k)
        self._add_visits(
            acute, ep, early, self.home[ep], _dx_slots(rng, _GROUP_INDEX["WELLNESS"], k), 1
        )
        self._add_visits(acute, ep, d - _uint(rng, 5, 85, k), consult_site, pain_slot)
        self._add_visits(pe == INSUFF, ep, _uint(rng, lo, d, k), consult_site, pain_slot)
        # split episodes: the claim's diagnoses sit on a same-day E/M encounter at the site
        self._add_visits(self.split, ep, d, self.site_e, -1, claim=self.claim0 + 4)

    def _exclusions(self) -> None:
        """Exclusion diagnoses around index episodes, by quota so every block has its share.

        Each chosen episode (a counting index claim with a spine indication) gets one; dates
        stay inside the observed history.
        """
        rng, k, uniform, d = self.rng, self.k, self.uniform, self.d
        ep, lo, hi = self.ep, self.lo_e, self.hi_e
        site = np.where(uniform(k) < 0.5, self.home[ep], _pick(rng, self.ctx.site_cum, k))
        history = d - lo
        eligible = (self.fam <= TP) & ~self.deny_all & (self.ept != NOIND)
        eligible &= self.prim != _codeset_code("SRFA_BEFORE_2020")
        taken = ~eligible
        perm = rng.permutation(k)
        n_eligible = int(eligible.sum())
        ia_slot = _dx_slots(rng, _GROUP_INDEX["INFLAM"], k)
        for group, share, before_lo, before_hi in _EXCLUSIONS:
            feasible = (history >= before_lo) & (d - before_lo <= hi)
            candidates = perm[~taken[perm] & feasible[perm]]
            m = np.zeros(k, dtype=bool)
            m[candidates[: int(share * n_eligible + 0.5)]] = True
            taken |= m
            day = d - _uint(rng, before_lo, np.minimum(before_hi, history), k)
            if group != "INFLAM":
                self._add_visits(m, ep, day, site, _dx_slots(rng, _GROUP_INDEX[group], k))
                continue
            # a lasting condition: recorded at several visits, recoded when a release changes
            # (M46.80 -> M45.A6)
            self._add_visits(m, ep, day, site, ia_slot)
            for _ in range(3):
                later = np.maximum(day, _uint(rng, lo, hi, k))
                self._add_visits(m & (uniform(k) < 0.6), ep, later, site, ia_slot)

    def _visit_rows(self) -> None:
        """Each visit: an E/M claim with its first diagnosis, unrelated extras and ancillaries."""
        rng, uniform = self.rng, self.uniform
        v = self.visit.get()
        seen = (v["day"] >= self.obs_lo[v["p"]]) & (v["day"] <= self.obs_hi[v["p"]])
        v = {c: x[seen] for c, x in v.items()}
        nv = len(v["p"])
        new = v["claim"] < 0
        v["claim"] = np.where(new, 1 + 5 * self.k + np.cumsum(new) - 1, v["claim"])
        split = v["slot"] < 0  # carries the claim's diagnoses already
        dx1 = _dx_code(rng, np.maximum(v["slot"], 0), v["day"])
        m = ~split
        self.dx.add(
            p=v["p"][m], day=v["day"][m], code=dx1[m], site=v["site"][m], claim=v["claim"][m]
        )
        ex = np.repeat(np.arange(nv), v["extra"])
        code = _dx_pick(rng, _GROUP_INDEX["UNRELATED"], v["day"][ex])
        order = np.lexsort((code, ex))
        ex, code = ex[order], code[order]
        dup = (code == dx1[ex]) | np.r_[False, (ex[1:] == ex[:-1]) & (code[1:] == code[:-1])]
        ex, code = ex[~dup], code[~dup]
        self.dx.add(
            p=v["p"][ex], day=v["day"][ex], code=code, site=v["site"][ex], claim=v["claim"][ex]
        )

        spine = _SLOT_SPINE[v["slot"]] | split
        em = np.where(split, _EM_SAME_DAY, _EM[_pick(rng, _EM_CUM, nv)])
        prov = 1_000_000_000 + v["site"] * 1000 + _uint(rng, 0, 11, nv)
        statuses = [_ST["paid"], _ST[None], _ST["PAID"], _ST["denied"], _ST["pended"], _ST["void"]]
        st = np.array(statuses)[_pick(rng, _cumulative(0.86, 0.07, 0.03, 0.025, 0.01, 0.005), nv)]
        self.proc.add(
            p=v["p"],
            day=v["day"],
            code=em,
            site=v["site"],
            claim=v["claim"],
            line=1,
            mod=np.where(split, M_25 * 3, M_NONE),
            units=1,
            amt=_uint(rng, _AMT_LO[em], _AMT_HI[em], nv),
            amt_ok=uniform(nv) >= 0.03,
            st=st,
            prov=prov,
        )
        av = np.repeat(np.arange(nv), rng.binomial(2, np.where(spine, 0.3, 0.18)))
        na = len(av)
        anc = np.where(
            spine[av],
            _ANC_SPINE[_pick(rng, _ANC_SPINE_CUM, na)],
            _ANC_GEN[_pick(rng, _ANC_GEN_CUM, na)],
        )
        order = np.lexsort((anc, av))
        av, anc = av[order], anc[order]
        keep = ~np.r_[False, (av[1:] == av[:-1]) & (anc[1:] == anc[:-1])]
        av, anc = av[keep], anc[keep]
        na = len(av)
        self.proc.add(
            p=v["p"][av],
            day=v["day"][av],
            code=anc,
            site=v["site"][av],
            claim=v["claim"][av],
            line=2 + _rank_in_group(av),
            mod=M_NONE,
            units=1,
            amt=_uint(rng, _AMT_LO[anc], _AMT_HI[anc], na),
            amt_ok=uniform(na) >= 0.03,
            st=st[av],
            prov=prov[av],
        )

    def tables(self) -> tuple[dict[str, pa.Table], dict[str, np.ndarray]]:
        """The four patient tables sorted by patient, and each row's global patient number."""
        rng, ctx, uniform = self.rng, self.ctx, self.uniform
        base = self.block * BLOCK + 1  # patient number of local patient 0
        claim_base = self.block * _CLAIMS_PER_BLOCK

        def pid(p: np.ndarray) -> pa.Array:
            return _ids("P", base + p, ctx.pid_width)

        def noisy(dominant: np.ndarray, cum: np.ndarray, choices: np.ndarray) -> np.ndarray:
            """The site's habit, with one row in ten done differently."""
            return np.where(
                uniform(len(dominant)) < 0.1, choices[_pick(rng, cum, len(dominant))], dominant
            )

        pr = _sort(self.proc.get(), "p", "day", "claim", "line")
        npr = len(pr["p"])
        sys_ = noisy(
            ctx.site_px_sys[pr["site"]],
            _cumulative(1, 2, 1),
            np.array([SYS_BLANK, SYS_HCPCS, SYS_CPT]),
        )
        sys_ = np.where((sys_ == SYS_CPT) & ~_PX_NUMERIC[pr["code"]], SYS_HCPCS, sys_)
        procedures = pa.table(
            [
                pid(pr["p"]),
                _dates(pr["day"]),
                _PX_STRINGS.take(pr["code"]),
                _CODE_SYSTEMS.take(sys_),
                _ids("S", pr["site"] + 1, ctx.sid_width),
                _ids("", claim_base + pr["claim"], 12, pr["claim"] >= 0),
                pa.array(pr["line"].astype(np.int32)),
                _MOD_STRINGS.take(pr["mod"]),
                pa.array(pr["units"].astype(np.int32)),
                _money(pr["amt"], pr["amt_ok"]),
                _STATUS_STRINGS.take(pr["st"]),
                _ids("", pr["prov"], 10, (pr["prov"] >= 0) & (uniform(npr) >= 0.03)),
            ],
            schema=SCHEMAS["procedures"],
        )

        dx = _sort(self.dx.get(), "p", "day", "claim")
        ndx = len(dx["p"])
        fmt = ctx.site_fmt[dx["site"]]
        fmt = np.where(
            fmt == _FMT_MIXED, _pick(rng, _cumulative(0.5, 0.2, 0.1, 0.1, 0.1), ndx), fmt
        )
        fmt = noisy(fmt, _cumulative(0.5, 0.2, 0.1, 0.1, 0.1), np.arange(_N_FMT))
        sys_ = noisy(
            ctx.site_dx_sys[dx["site"]], _cumulative(1, 1), np.array([SYS_BLANK, SYS_ICD10CM])
        )
        diagnoses = pa.table(
            [
                pid(dx["p"]),
                _dates(dx["day"]),
                _DX_STRINGS.take(dx["code"] * _N_FMT + fmt),
                _CODE_SYSTEMS.take(sys_),
                _ids("", claim_base + dx["claim"], 12),
                _ids("S", dx["site"] + 1, ctx.sid_width, uniform(ndx) >= 0.07),
            ],
            schema=SCHEMAS["diagnoses"],
        )

        ar = np.arange(self.n)
        patients = pa.table(
            [
                pid(ar),
                _dates(self.birth, self.dob_mode <= 1),
                pa.array(_year(self.birth).astype(np.int32), mask=self.dob_mode % 2 == 1),
                pa.array(["F", "M", "U", None]).take(self.sex),
            ],
            schema=SCHEMAS["patients"],
        )

        cv = _sort(self.cov.get(), "p", "start")
        coverage = pa.table(
            [pid(cv["p"]), _dates(cv["start"]), _dates(cv["end"])], schema=SCHEMAS["coverage"]
        )
        tables = {
            "patients": patients,
            "diagnoses": diagnoses,
            "procedures": procedures,
            "coverage": coverage,
        }
        keys = {"patients": ar, "diagnoses": dx["p"], "procedures": pr["p"], "coverage": cv["p"]}
        return tables, {t: base + p for t, p in keys.items()}


def _sites(
    seed: int, sites: int, sid_width: int, hostile_names: bool = False
) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """Sites table; per site: Zipf-like size weight and coding habits.

    ``hostile_names`` gives two large sites a markup-laden and a quoted name, so tests of the
    reports see them; off by default, as a demo reader would take the markup for a bug.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0])))
    pool = [f"{p} {k}" for k in _KINDS for p in _PLACES]
    pool = [pool[i] for i in rng.permutation(len(pool))]
    names = [
        pool[i % len(pool)] + (f" {i // len(pool) + 1}" if i >= len(pool) else "")
        for i in range(sites)
    ]
    rank = rng.permutation(sites)  # size rank of each site: 0 is the largest
    by_rank = np.argsort(rank)
    specials = (HOSTILE_SITE_NAME, QUOTED_SITE_NAME) if hostile_names else ()
    for r, name in zip(range(1, sites), specials, strict=False):
        names[int(by_rank[r])] = name
    groups = [_SITE_GROUPS[i] for i in _pick(rng, _cumulative(1, 1, 1, 1, 0.5), sites)]
    habits = {
        "site_cum": np.cumsum(1.0 / (rank + 1.0) ** 1.25),
        # dotted, dotless, lower, padded, lower dotless, mixed
        "site_fmt": _pick(rng, _cumulative(0.6, 0.2, 0.1, 0.0, 0.0, 0.1), sites),
        "site_dx_sys": np.where(rng.random(sites) < 0.2, SYS_BLANK, SYS_ICD10CM),
        "site_px_sys": np.array([SYS_HCPCS, SYS_CPT, SYS_BLANK])[
            _pick(rng, _cumulative(0.55, 0.3, 0.15), sites)
        ],
    }
    table = pa.table(
        [_ids("S", np.arange(1, sites + 1), sid_width), pa.array(names), pa.array(groups)],
        schema=SCHEMAS["sites"],
    )
    return table, habits


def _csv_bytes(table: pa.Table) -> np.ndarray:
    """The rows as CSV bytes, newline-terminated; a cell is quoted only when it must be.

    Why not pyarrow.csv: its writer quotes every string or refuses commas, and modifiers such
    as ``50,Q1`` hold commas (RFC 4180 quoting, as Python's csv module writes it).
    """
    cells = []
    for col, field in zip(table.columns, table.schema, strict=True):
        text = pc.cast(col.combine_chunks(), pa.string())
        if pa.types.is_string(field.type):
            special = pc.match_substring_regex(text, '[",\r\n]')
            if pc.any(special).as_py():
                escaped = pc.replace_substring(text, '"', '""')
                text = pc.if_else(special, pc.binary_join_element_wise('"', escaped, '"', ""), text)
        cells.append(pc.fill_null(text, ""))
    rows = pc.binary_join_element_wise(*cells, ",")
    bounds = np.frombuffer(rows.buffers()[1], dtype=np.int32)
    bounds = bounds[rows.offset : rows.offset + len(rows) + 1]
    data = np.frombuffer(rows.buffers()[2], dtype=np.uint8)[bounds[0] : bounds[-1]]
    return np.insert(data, bounds[1:] - bounds[0], ord("\n"))


class _Sink:
    """One output table, written piecewise to a partial file that is renamed at the end."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: str) -> None:
        self.final = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.rows = 0
        self.parquet = fmt == "parquet"
        if self.parquet:
            self.writer = pq.ParquetWriter(str(self.partial), schema, compression="zstd")
        else:
            self.file = self.partial.open("wb")
            # a quoted header makes sniffing readers (DuckDB's read_csv looks at the first 20k
            # rows) expect quotes, so a late quoted cell such as "50,Q1" still parses
            self.file.write((",".join(f'"{n}"' for n in schema.names) + "\n").encode())

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self.rows += table.num_rows
        if self.parquet:
            self.writer.write_table(table)
            return
        for i in range(0, table.num_rows, 100_000):  # keeps string offsets far below 2 GiB
            self.file.write(_csv_bytes(table.slice(i, 100_000)).tobytes())

    def close(self) -> None:
        (self.writer if self.parquet else self.file).close()


def generate(
    out_dir: Path,
    patients: int,
    sites: int,
    seed: int,
    fmt: str = "csv",
    start: date = date(2019, 1, 1),
    end: date = date(2025, 12, 31),
    progress: Callable[[str], None] | None = None,
    *,
    chunk_size: int = 50_000,
    hostile_names: bool = False,
) -> dict[str, int]:
    """Write the canonical tables (spec section 2) into out_dir as <table>.csv or .parquet.

    Tables: patients, diagnoses, procedures, coverage, sites; returns rows written per table.
    Events fall between ``start`` and ``end``. ``chunk_size`` (patients per write) bounds
    memory and never changes the data. ``hostile_names`` names two large sites with markup and
    quotes (for tests of escaping). Files appear only when complete.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if patients < 0 or sites < 1 or chunk_size < 1:
        raise ValueError("patients must be >= 0, sites >= 1 and chunk_size >= 1")
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sid_width = max(3, len(str(sites)))
    site_table, habits = _sites(seed, sites, sid_width, hostile_names)
    ctx = _Ctx(
        seed=seed,
        patients=patients,
        start=_day(start),
        end=_day(end),
        pid_width=max(6, len(str(patients))),
        sid_width=sid_width,
        **habits,
    )
    sinks = {t: _Sink(out_dir / f"{t}.{fmt}", SCHEMAS[t], fmt) for t in TABLES}
    try:
        sinks["sites"].write(site_table)
        cached: tuple[int, tuple[dict[str, pa.Table], dict[str, np.ndarray]]] | None = None
        for lo in range(0, patients, chunk_size):
            hi = min(lo + chunk_size, patients)  # patient numbers lo+1 .. hi
            parts: dict[str, list[pa.Table]] = {t: [] for t in TABLES if t != "sites"}
            for b in range(lo // BLOCK, (hi - 1) // BLOCK + 1):
                if cached is None or cached[0] != b:
                    cached = (b, _Block(ctx, b).tables())
                tables, keys = cached[1]
                for t, table in tables.items():
                    i0, i1 = np.searchsorted(keys[t], [lo + 1, hi + 1])
                    parts[t].append(table.slice(int(i0), int(i1 - i0)))
            for t, ps in parts.items():
                sinks[t].write(pa.concat_tables(ps))
            if progress is not None:
                progress(f"generated {hi:,} of {patients:,} patients")
    except BaseException:
        for s in sinks.values():
            s.close()
            s.partial.unlink(missing_ok=True)
        raise
    for s in sinks.values():
        s.close()
    for s in sinks.values():
        os.replace(s.partial, s.final)
    return {t: sinks[t].rows for t in TABLES}
