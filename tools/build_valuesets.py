"""Build the ICD-10-CM value sets of the bmj2025_spine pack from the official release.

Why: the measure names categories ("M47.81x", "C00-C96 except C44"); matching by prefix at run
time is slow and silently accepts codes that do not exist. We expand every category once, here,
against the CDC FY2026 tabular list (PyPI ``simple-icd-10-cm==1.5.0``) and commit the result,
so the audit joins on exact codes. Retired codes that still appear in history are added by hand
with their valid_to date and source.

The categories each set names are data too (``icd10cm_categories.csv`` in the pack), as are the
codes with validity dates (``icd10cm_retired.csv``).

Run: ``.venv/bin/python tools/build_valuesets.py`` (rewrites
``audit/packs/bmj2025_spine/valuesets/diagnoses_icd10cm.csv``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import simple_icd_10_cm as cm

SOURCE = "CDC ICD-10-CM FY2026 tabular list (simple-icd-10-cm 1.5.0); measure spec section 4"
SPEC = "measure spec section 3.5"

PACK = Path(__file__).resolve().parents[1] / "audit/packs/bmj2025_spine"


def _read(name: str) -> list[dict[str, str]]:
    with (PACK / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def definitions() -> dict[str, tuple[list[str], list[str]]]:
    """value set -> (roots taken with all descendants, subtrees excluded), from the pack's
    icd10cm_categories.csv (modes: include, include_range 'C00-C96', include_chapter 'O')."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for row in _read("icd10cm_categories.csv"):
        roots, excluded = out.setdefault(row["value_set"], ([], []))
        mode, category = row["mode"], row["category"]
        if mode == "exclude":
            excluded.append(category)
        elif mode == "include_range":
            roots.append(f"__RANGE__{category}")
        elif mode == "include_chapter":
            roots.append(f"__CHAPTER__{category}")
        else:
            roots.append(category)
    return out


def dated_codes() -> dict[str, dict[str, str]]:
    """Codes with a valid_from or valid_to (retired, or created after FY2016)."""
    return {row["code"]: row for row in _read("icd10cm_retired.csv")}


def _codes_in_category_range(lo: str, hi: str) -> list[str]:
    cats = sorted(
        c for c in cm.get_all_codes(True) if len(c) == 3 and lo <= c <= hi and cm.is_category(c)
    )
    return cats


def _chapter_categories(letter: str) -> list[str]:
    return sorted(
        c for c in cm.get_all_codes(True) if len(c) == 3 and c[0] == letter and cm.is_category(c)
    )


def expand(roots: list[str], excluded: list[str]) -> list[str]:
    """The code and all its descendants, for each root; minus excluded subtrees."""
    tops: list[str] = []
    for root in roots:
        if root.startswith("__RANGE__"):
            lo, hi = root.removeprefix("__RANGE__").split("-")
            tops.extend(_codes_in_category_range(lo, hi))
        elif root.startswith("__CHAPTER__"):
            tops.extend(_chapter_categories(root.removeprefix("__CHAPTER__")))
        else:
            if not cm.is_valid_item(root):
                raise SystemExit(f"{root} is not in the ICD-10-CM release")
            tops.append(root)
    drop: set[str] = set()
    for ex in excluded:
        drop.add(ex)
        drop.update(cm.get_descendants(ex))
    out: set[str] = set()
    for top in tops:
        for code in [top, *cm.get_descendants(top)]:
            if code not in drop:
                out.add(cm.add_dot(code) if "." not in code else code)
    return sorted(out)


def region(code: str) -> str:
    """Spinal region named by the code's title, for stratification only (measure 3.2)."""
    d = cm.get_description(code).lower()
    if "thoracolumbar" in d or "multiple sites" in d:
        return ""
    if "cervicothoracic" in d:
        return "cervical_thoracic"
    for word in (
        "lumbosacral",
        "lumbar",
        "sacrococcygeal",
        "sacroil",
        "sacral",
        "low back",
        "lumbago",
        "sciatica",
    ):
        if word in d:
            return "lumbar_sacral"
    for word in ("cervic", "thoracic", "occipito", "neck"):
        if word in d:
            return "cervical_thoracic"
    return ""


def short_description(code: str) -> str:
    return cm.get_description(code)


def main() -> None:
    out = PACK / "valuesets" / "diagnoses_icd10cm.csv"
    dated = dated_codes()
    rows = []
    for value_set, (roots, excluded) in definitions().items():
        for code in expand(roots, excluded):
            valid_from, valid_to, source = "", "", SOURCE
            if code in dated:
                valid_from, valid_to = dated[code]["valid_from"], dated[code]["valid_to"]
                source = f"{SOURCE}; {dated[code]['source']}"
            rows.append(
                {
                    "value_set": value_set,
                    "code_system": "ICD10CM",
                    "code": code,
                    "description": short_description(code),
                    "region": region(code) if value_set in ("AXIAL", "RADICULAR") else "",
                    "billable": "true" if cm.is_leaf(code) else "false",
                    "valid_from": valid_from,
                    "valid_to": valid_to,
                    "source": source,
                    "confidence": "verified",
                }
            )
    rows.sort(key=lambda r: (r["value_set"], r["code"]))
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main()
