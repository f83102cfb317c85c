"""What an analyst would write: the session classification in pandas (melt / merge / groupby).

Reference only, for the benchmark's "naive" ratio: it implements the core of measure 3.3-3.5
(counting lines, families, sessions, indication by same date, age, chronicity, cancer,
recommendation) the straightforward way, without the merges, coverage, or quarantine.
Usage: python benchmarks/naive_pandas.py INPUT_DIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from audit.resources import packs_dir

NON_COUNTING = {"denied", "void", "voided", "reversed", "cancelled", "entered_in_error"}


def main() -> None:
    folder = Path(sys.argv[1])
    started = time.perf_counter()
    vs = pd.concat(
        pd.read_csv(p, dtype=str)
        for p in (packs_dir() / "bmj2025_spine" / "valuesets").glob("*.csv")
    )
    vs["ncode"] = vs["code"].str.replace(".", "", regex=False).str.upper()
    families = dict(
        zip(
            vs.loc[vs.code_system == "HCPCS", "ncode"],
            vs.loc[vs.code_system == "HCPCS", "value_set"],
            strict=True,
        )
    )
    dx_sets = vs[vs.code_system == "ICD10CM"][["ncode", "value_set"]]

    patients = pd.read_parquet(folder / "patients.parquet")
    procedures = pd.read_parquet(folder / "procedures.parquet")
    diagnoses = pd.read_parquet(folder / "diagnoses.parquet")

    procedures["code"] = procedures["code"].str.strip().str.upper()
    status = procedures["status"].fillna("").str.strip().str.lower()
    procedures = procedures[~status.isin(NON_COUNTING)]
    procedures["family"] = procedures["code"].map(families)
    lines = procedures.dropna(subset=["family"])
    sessions = lines.groupby(["patient_id", "site_id", "event_date", "family"], as_index=False).agg(
        allowed_amount=("allowed_amount", "sum"), codes=("code", lambda c: sorted(set(c)))
    )

    diagnoses["ncode"] = diagnoses["code"].str.replace(".", "", regex=False).str.strip().str.upper()
    dx = diagnoses.merge(dx_sets, on="ncode")
    merged = sessions.merge(dx, on="patient_id", suffixes=("", "_dx"))
    merged["days_before"] = (
        pd.to_datetime(merged["event_date"]) - pd.to_datetime(merged["event_date_dx"])
    ).dt.days
    merged["same_day_pain"] = (merged["days_before"] == 0) & merged["value_set"].isin(
        ["AXIAL", "RADICULAR"]
    )
    merged["axial"] = merged["same_day_pain"] & (merged["value_set"] == "AXIAL")
    merged["radicular"] = merged["same_day_pain"] & (merged["value_set"] == "RADICULAR")
    merged["chronic"] = merged["value_set"].isin(["AXIAL", "RADICULAR"]) & merged[
        "days_before"
    ].between(90, 730)
    merged["cancer"] = (merged["value_set"] == "CANCER") & merged["days_before"].between(0, 365)
    keys = ["patient_id", "site_id", "event_date", "family"]
    flags = merged.groupby(keys, as_index=False)[["axial", "radicular", "chronic", "cancer"]].any()
    out = sessions.merge(flags, on=keys, how="left").merge(patients, on="patient_id", how="left")
    birth = pd.to_datetime(out["birth_date"])
    out["age"] = (pd.to_datetime(out["event_date"]) - birth).dt.days // 365
    out["outcome"] = "discordant"
    out.loc[~out["chronic"].fillna(False).astype(bool), "outcome"] = "out_of_population"
    out.loc[out["cancer"].fillna(False).astype(bool), "outcome"] = "out_of_population"
    out.loc[out["age"] < 18, "outcome"] = "out_of_population"
    out = out.sort_values(["site_id", "event_date", "patient_id", "family"])
    out.to_parquet(folder.parent / f"{folder.name}-naive-sessions.parquet")
    print(f"naive pandas: {len(out)} sessions in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
