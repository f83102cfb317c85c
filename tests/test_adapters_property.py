"""Nothing is lost in the claims adapter: random claim files with voids, replacements, reversals,
duplicates, denials and unknown members still reconcile, source file by source file and table
by table (issue 4, item 3)."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.config import load_settings
from audit.outputs import reconciliation
from audit.run import classify

HEADER = [
    "member_id", "claim_id", "original_claim_id", "line_number", "claim_type", "from_date",
    "through_date", "hcpcs", "modifier_1", "units", "allowed_amount", "billing_provider",
    "facility_id", "frequency_code", "line_status", "dx1", "dx2",
]  # fmt: skip

claim_line = st.fixed_dictionaries(
    {
        "member_id": st.sampled_from(["100001", "100002", "100009"]),
        "claim_id": st.sampled_from(["C1", "C2", "C3", "C4"]),
        "original_claim_id": st.sampled_from(["", "", "C1", "C2"]),
        "line_number": st.sampled_from(["1", "2", "3"]),
        "claim_type": st.sampled_from(["professional", "institutional"]),
        "from_date": st.sampled_from(["20240110", "20240603", "2024-02-30"]),
        "hcpcs": st.sampled_from(["64635", "64493", "62323", "99214", ""]),
        "modifier_1": st.sampled_from(["", "RT", "Q0"]),
        "units": st.sampled_from(["1", "2", "-1"]),
        "allowed_amount": st.sampled_from(["100.00", "-100.00", ""]),
        "facility_id": st.sampled_from(["", "1001"]),
        "frequency_code": st.sampled_from(["1", "1", "7", "8"]),
        "line_status": st.sampled_from(["", "denied", "paid"]),
        "dx1": st.sampled_from(["M5450", "M5416", "", "7242"]),
        "dx2": st.sampled_from(["", "C50911"]),
    }
)


def _write(folder: Path, lines: list[dict], copies: list[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = lines + [lines[i] for i in copies if i < len(lines)]
    with (folder / "claims.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADER, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "through_date": row["from_date"], "billing_provider": "2001"})
    (folder / "members.csv").write_text(
        "member_id,birth_date,birth_year,sex,eligibility_start,eligibility_end\n"
        "100001,19680412,,F,20230101,\n"
        "100002,,1975,M,20230101,20241231\n"
    )


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(claim_line, max_size=12), st.lists(st.integers(0, 11), max_size=3))
def test_random_claim_files_reconcile(lines, copies):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "claims"
        _write(folder, lines, copies)
        settings_ = replace(load_settings(), as_of_date=date(2026, 1, 1))
        # the adapter itself refuses (RuntimeError) to hand on a file that does not balance
        classified = classify(folder, settings_, fmt="claims")
        try:
            adapted = classified.adapted
            for entry in adapted.files:
                if entry.get("reconciliation"):
                    assert entry["reconciliation"]["balanced"], entry
            claims_entry = next(e for e in adapted.files if e["file"] == "claims.csv")
            assert claims_entry["rows"] == len(lines) + sum(i < len(lines) for i in copies)
            for table, entry in reconciliation(classified.engine, adapted.table_rows).items():
                assert entry["balanced"], (table, entry)
        finally:
            classified.con.close()
