"""Value sets checked against the official ICD-10-CM release (CDC FY2026, pinned in the test
extras as simple-icd-10-cm 1.5.0), so that a stale list fails CI."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import simple_icd_10_cm as cm

from audit.pack import resolve_pack
from audit.valuesets import render_markdown

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "audit" / "packs" / "bmj2025_spine"
FY2026_START = date(2025, 10, 1)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _icd_rows() -> list[dict[str, str]]:
    return [r for r in _rows(PACK / "valuesets" / "diagnoses_icd10cm.csv")]


def _expand_independently(value_set: str) -> set[str]:
    """The set's codes from its named categories, computed here without the build script."""
    include: set[str] = set()
    exclude: set[str] = set()
    all_codes = cm.get_all_codes(True)
    for row in _rows(PACK / "icd10cm_categories.csv"):
        if row["value_set"] != value_set:
            continue
        mode, cat = row["mode"], row["category"]
        if mode == "include_range":
            lo, hi = cat.split("-")
            tops = [c for c in all_codes if len(c) == 3 and lo <= c <= hi and cm.is_category(c)]
        elif mode == "include_chapter":
            tops = [c for c in all_codes if len(c) == 3 and c[0] == cat and cm.is_category(c)]
        else:
            tops = [cat]
        target = exclude if mode == "exclude" else include
        for top in tops:
            target.add(top)
            target.update(cm.get_descendants(top))
    return {cm.add_dot(c) if "." not in c else c for c in include - exclude}


def test_the_pinned_release_is_fy2026():
    # leaves of the tree, less the 12 blocks that have no children in the tabular list
    billable = {c for c in cm.get_all_codes(False) if cm.is_leaf(c) and "-" not in c}
    assert len(billable) == 74_719
    assert cm.is_valid_item("E11.A")
    assert cm.is_leaf("M51.360") and not cm.is_leaf("M51.36")


def test_every_icd10cm_code_is_real_and_its_billable_flag_matches_the_release():
    for row in _icd_rows():
        code = row["code"]
        assert cm.is_valid_item(code), f"{code} ({row['value_set']}) is not in ICD-10-CM FY2026"
        assert (row["billable"] == "true") == cm.is_leaf(code), f"{code}: billable flag is stale"


def test_retired_codes_carry_a_date_before_fy2026_and_a_source():
    for row in _icd_rows():
        if row["valid_to"]:
            assert date.fromisoformat(row["valid_to"]) < FY2026_START, row["code"]
            assert "addenda" in row["source"], row["code"]
            assert not cm.is_leaf(row["code"]), f"{row['code']} is still billable"


@pytest.mark.parametrize(
    "value_set",
    sorted({r["value_set"] for r in _rows(PACK / "icd10cm_categories.csv")}),
)
def test_each_named_category_expands_to_exactly_its_descendants(value_set):
    in_pack = {r["code"] for r in _icd_rows() if r["value_set"] == value_set}
    expected = _expand_independently(value_set)
    assert in_pack == expected, (
        f"{value_set}: missing {sorted(expected - in_pack)[:5]}, "
        f"extra {sorted(in_pack - expected)[:5]}"
    )
    billable_in_pack = {c for c in in_pack if cm.is_leaf(c)}
    assert billable_in_pack == {c for c in expected if cm.is_leaf(c)}


def test_spec_facts_hold_in_the_pack():
    by_set: dict[str, set[str]] = {}
    for row in _icd_rows():
        by_set.setdefault(row["value_set"], set()).add(row["code"])
    assert {"M54.5", "M54.50", "M54.51", "M54.59"} <= by_set["AXIAL"]
    assert "M48.062" in by_set["RADICULAR"] and "M48.062" not in by_set["AXIAL"]
    assert "M48.061" in by_set["AXIAL"]
    assert {"M51.360", "M51.369", "M51.370", "M51.379"} <= by_set["AXIAL"]
    assert "M54.81" not in by_set["AXIAL"]  # occipital neuralgia is not spine pain
    assert not any(c.startswith("C44") for c in by_set["CANCER"])
    assert {"C4A.0", "C7A.00", "C7B.00", "C96.0"} <= by_set["CANCER"]
    assert {"C79.51", "C79.52", "C79.49"} <= by_set["SPINE_METASTASIS"]
    assert any(c.startswith("L40.5") for c in by_set["INFLAMMATORY_ARTHROPATHY"])
    assert "M45.A0" in by_set["INFLAMMATORY_ARTHROPATHY"]
    assert "M46.1" in by_set["AXIAL"] and "M46.1" not in by_set["INFLAMMATORY_ARTHROPATHY"]
    assert "Z00.6" in by_set["CLINICAL_TRIAL"]
    assert (
        len([c for c in by_set["VERTEBRAL_FRACTURE"] if c.startswith("S12") and cm.is_leaf(c)])
        == 420
    )


def test_a_stale_list_fails(tmp_path):
    """The check above is not vacuous: drop one FY2025 sub-code and it fails."""
    rows = [r for r in _icd_rows() if r["code"] != "M51.362"]
    in_pack = {r["code"] for r in rows if r["value_set"] == "AXIAL"}
    assert in_pack != _expand_independently("AXIAL")


def test_committed_valuesets_doc_is_current():
    current = render_markdown(resolve_pack("bmj2025_spine"))
    committed = (ROOT / "docs" / "valuesets.md").read_text(encoding="utf-8")
    assert committed == current, (
        "docs/valuesets.md is stale: run `spine-audit valuesets --format md > docs/valuesets.md`"
    )


def test_valuesets_command_lists_every_code_as_csv():
    out = subprocess.run(
        [sys.executable, "-m", "audit.cli", "valuesets", "--format", "csv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.strip().splitlines()
    assert lines[0].startswith("value_set,domain,role,code_system,code,")
    total = sum(len(_rows(p)) for p in (PACK / "valuesets").glob("*.csv"))
    assert len(lines) - 1 == total
