"""The scale benchmark: spine-audit end to end against the floor, at 1M to 100M input rows.

One command (see docs/performance.md):

    .venv/bin/python benchmarks/run_benchmark.py --data /tmp/spine-bench --sizes 1M,10M,20M,100M

For each size it generates a Parquet extract (once; kept in --data), then times whole processes
with /usr/bin/time -v: the floor (one DuckDB query reading every input column the audit needs),
`spine-audit run` end to end (reports included), the same run under --memory-limit, and for the
small sizes a naive pandas classification. It checks that the memory-limited run gives the same
sessions.parquet, and writes the table to docs/performance.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas
import pyarrow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# total input rows per patient of the generator (diagnoses + procedures + patients + coverage)
ROWS_PER_PATIENT = 22.2
MARKER = "<!-- analysis: kept when the benchmark rewrites the table above -->"
SIZES = {"1M": 1_000_000, "10M": 10_000_000, "20M": 20_000_000, "100M": 100_000_000}


def timed(cmd: list[str], cwd: Path | None = None) -> dict[str, float]:
    """Wall, CPU and peak RSS of one whole process, from /usr/bin/time -v."""
    # S603: argv is /usr/bin/time and the benchmark's own commands
    result = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=cwd)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result.stderr[-2000:]}")
    err = result.stderr

    def grab(label: str) -> str:
        return re.search(rf"{re.escape(label)}: (.+)", err).group(1).strip()

    wall_text = grab("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in wall_text.split(":")]
    wall = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    return {
        "wall": wall,
        "cpu": float(grab("User time (seconds)")) + float(grab("System time (seconds)")),
        "rss_gib": int(grab("Maximum resident set size (kbytes)")) / 1024 / 1024,
    }


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def ensure_data(data: Path, label: str) -> tuple[Path, int]:
    folder = data / f"rows-{label}"
    patients = round(SIZES[label] / ROWS_PER_PATIENT)
    sites = max(20, patients // 5000)
    if not (folder / "procedures.parquet").is_file():
        # S603: argv is this venv's spine-audit with numbers
        subprocess.run(  # noqa: S603
            [
                str(BIN / "spine-audit"),
                "generate",
                "--patients",
                str(patients),
                "--sites",
                str(sites),
                "--seed",
                "2025",
                "--format",
                "parquet",
                "-q",
                str(folder),
            ],
            check=True,
        )
    con = duckdb.connect()
    rows = sum(
        con.execute("SELECT COUNT(*) FROM read_parquet($p)", {"p": str(p)}).fetchone()[0]
        for p in folder.glob("*.parquet")
    )
    return folder, rows


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # S108: a default the user overrides with --data; only synthetic data
    parser.add_argument("--data", type=Path, default=Path("/tmp/spine-bench"))  # noqa: S108
    parser.add_argument("--sizes", default="1M,10M,20M,100M")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    rows_out = []
    for label in args.sizes.split(","):
        folder, rows = ensure_data(args.data, label)
        repeat = args.repeat if SIZES[label] <= 20_000_000 else 1
        floor = median_of(
            [
                timed([sys.executable, str(ROOT / "benchmarks" / "floor.py"), str(folder)])
                for _ in range(repeat)
            ]
        )
        out = args.data / f"out-{label}"
        audit_runs = [
            timed([str(BIN / "spine-audit"), "run", str(folder), "--out", str(out), "-q"])
            for _ in range(repeat)
        ]
        audit = median_of(audit_runs)
        reference = digest(out / "internal" / "sessions.parquet")
        limited = {}
        for limit in ("2GB", "1GB"):
            lim_out = args.data / f"out-{label}-{limit}"
            spill = args.data / f"spill-{label}"
            limited[limit] = timed(
                [
                    str(BIN / "spine-audit"),
                    "run",
                    str(folder),
                    "--out",
                    str(lim_out),
                    "-q",
                    "--memory-limit",
                    limit,
                    "--temp-dir",
                    str(spill),
                ]
            )
            limited[limit]["same"] = digest(lim_out / "internal" / "sessions.parquet") == reference
            limited[limit]["spill_left"] = spill.exists() and any(spill.iterdir())
            shutil.rmtree(lim_out, ignore_errors=True)
        naive = None
        if SIZES[label] <= 10_000_000:
            naive = timed(
                [sys.executable, str(ROOT / "benchmarks" / "naive_pandas.py"), str(folder)]
            )
        rows_out.append((label, rows, floor, audit, limited, naive))
        print(label, rows, floor, audit, limited, naive, flush=True)
    write_report(args.out, rows_out)


def write_report(path: Path, results: list) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = (
        int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        / 1024
        / 1024
    )
    lines = [
        "# Performance",
        "",
        f"Measured on {date.today().isoformat()} with `benchmarks/run_benchmark.py` on a "
        f"{os.cpu_count()}-core machine ({cpu}), {mem:.0f} GiB memory; Python "
        f"{platform.python_version()}, duckdb {duckdb.__version__}, pandas {pandas.__version__}, "
        f"pyarrow {pyarrow.__version__}. Parquet inputs from `spine-audit generate` (in the page "
        "cache). Figures are whole-process medians from `/usr/bin/time -v` (wall seconds, CPU "
        "seconds = user + system, peak RSS).",
        "",
        "The **floor** is one DuckDB query that reads every input column the audit needs, once "
        "(`benchmarks/floor.py`). **Ratio** = audit wall time / floor wall time.",
        "",
        "| input rows | floor wall | audit wall | audit CPU | audit peak RSS | ratio | "
        "`--memory-limit 2GB` wall / RSS | `--memory-limit 1GB` wall / RSS | same sessions | "
        "naive pandas wall / RSS (ratio) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for label, rows, floor, audit, limited, naive in results:
        ratio = audit["wall"] / floor["wall"]
        naive_text = (
            f"{naive['wall']:.1f} s / {naive['rss_gib']:.2f} GiB "
            f"({naive['wall'] / floor['wall']:.1f}×)"
            if naive
            else "not run"
        )
        same = all(v["same"] and not v["spill_left"] for v in limited.values())
        lines.append(
            f"| {rows:,} ({label}) | {floor['wall']:.2f} s | {audit['wall']:.2f} s | "
            f"{audit['cpu']:.1f} s | {audit['rss_gib']:.2f} GiB | {ratio:.1f}× | "
            f"{limited['2GB']['wall']:.1f} s / {limited['2GB']['rss_gib']:.2f} GiB | "
            f"{limited['1GB']['wall']:.1f} s / {limited['1GB']['rss_gib']:.2f} GiB | "
            f"{'yes' if same else 'NO'} | {naive_text} |"
        )
    if len(results) >= 2:
        by_label = {r[0]: r for r in results}
        if "10M" in by_label and "100M" in by_label:
            growth = by_label["100M"][3]["wall"] / by_label["10M"][3]["wall"]
            lines += ["", f"Growth 10M → 100M: {growth:.1f}× (linear would be 10×)."]
    # the hand-written analysis below the marker survives a rerun
    kept = ""
    if path.is_file() and MARKER in path.read_text(encoding="utf-8"):
        kept = path.read_text(encoding="utf-8").split(MARKER, 1)[1]
    path.write_text("\n".join(lines) + "\n\n" + MARKER + kept, encoding="utf-8")


if __name__ == "__main__":
    main()
