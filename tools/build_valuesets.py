"""Build the ICD-10-CM value sets of the bmj2025_spine pack from the official release.

Why: the measure names categories ("M47.81x", "C00-C96 except C44"); matching by prefix at run
time is slow and silently accepts codes that do not exist. We expand every category once, here,
against the CDC FY2026 tabular list (PyPI ``simple-icd-10-cm==1.5.0``) and commit the result,
so the audit joins on exact codes. Retired codes that still appear in history are added by hand
with their valid_to date and source.

Run: ``.venv/bin/python tools/build_valuesets.py`` (rewrites
``audit/packs/bmj2025_spine/valuesets/diagnoses_icd10cm.csv``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import simple_icd_10_cm as cm

OUT = (
    Path(__file__).resolve().parents[1]
    / "audit/packs/bmj2025_spine/valuesets/diagnoses_icd10cm.csv"
)
SOURCE = "CDC ICD-10-CM FY2026 tabular list (simple-icd-10-cm 1.5.0); measure spec section 4"
SPEC = "measure spec section 3.5"

# value set -> (roots taken with all descendants, codes excluded with their descendants)
DEFINITIONS: dict[str, tuple[list[str], list[str]]] = {
    "AXIAL": (
        [
            "M54.2", "M54.5", "M54.6", "M54.89", "M54.9", "M47.81", "M47.89", "M47.9",
            "M50.2", "M50.3", "M51.2", "M51.3", "M51.9", "M53.2", "M53.3", "M53.8",
            "M53.9", "M43.1", "M48.0", "M46.1", "M96.1", "M62.830",
        ],
        ["M48.062"],
    ),
    "RADICULAR": (["M54.1", "M54.3", "M54.4", "M50.1", "M51.1", "M47.2", "M48.062"], []),
    "CHRONIC_PAIN": (["G89.2", "G89.4"], []),
    "CLINICAL_TRIAL": (["Z00.6"], []),
    "CANCER": (["__RANGE__C00-C96"], ["C44"]),
    "SPINE_METASTASIS": (["C79.4", "C79.5"], []),
    "INFLAMMATORY_ARTHROPATHY": (
        ["M02", "M05", "M06", "M07", "M08", "M45", "M46.0", "M46.8", "M46.9", "L40.5"],
        [],
    ),
    "VERTEBRAL_FRACTURE": (["S12", "S22.0", "S32.0", "S32.1", "M48.5", "M80.08"], []),
    "SPINAL_INFECTION": (["M46.2", "M46.3", "M46.4", "M46.5", "G06.1", "A18.01"], []),
    "CAUDA_EQUINA": (["G83.4"], []),
    "PREGNANCY": (["__CHAPTER__O", "Z33.1", "Z34", "Z37"], []),
}

# Codes billable in an earlier release, retired since; history still holds them.
RETIRED = {
    "M54.5": ("2021-09-30", "CMS FY2022 ICD-10-CM addenda: M54.5 expanded to M54.50, M54.51, M54.59"),
    "M51.36": ("2024-09-30", "CMS FY2025 ICD-10-CM addenda: M51.36 expanded to M51.360-M51.369"),
    "M51.37": ("2024-09-30", "CMS FY2025 ICD-10-CM addenda: M51.37 expanded to M51.370-M51.379"),
}
# Codes created in a release after FY2016; valid_from is the first day of that fiscal year.
NEW_FROM = {
    "M54.50": "2021-10-01", "M54.51": "2021-10-01", "M54.59": "2021-10-01",
    "M51.360": "2024-10-01", "M51.361": "2024-10-01", "M51.362": "2024-10-01",
    "M51.369": "2024-10-01", "M51.370": "2024-10-01", "M51.371": "2024-10-01",
    "M51.372": "2024-10-01", "M51.379": "2024-10-01",
}


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
    for word in ("lumbosacral", "lumbar", "sacrococcygeal", "sacroil", "sacral", "low back",
                 "lumbago", "sciatica"):
        if word in d:
            return "lumbar_sacral"
    for word in ("cervic", "thoracic", "occipito", "neck"):
        if word in d:
            return "cervical_thoracic"
    return ""


def short_description(code: str) -> str:
    return cm.get_description(code)


def main() -> None:
    rows = []
    for value_set, (roots, excluded) in DEFINITIONS.items():
        for code in expand(roots, excluded):
            valid_from, valid_to, source = NEW_FROM.get(code, ""), "", SOURCE
            if code in RETIRED:
                valid_to, note = RETIRED[code]
                source = f"{SOURCE}; {note}"
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
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
