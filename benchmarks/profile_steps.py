"""Where each step's time goes: DuckDB's EXPLAIN ANALYZE of every SQL step, summarised.

Runs the engine's steps on INPUT_DIR (any input format, default settings) with DuckDB's JSON
profiling on, then prints, per step, its wall time and its costliest operators (operator time
summed over threads, rows out, and what the operator does). Used for the stage analysis in
docs/performance.md.

    .venv/bin/python benchmarks/profile_steps.py INPUT_DIR [--top 5] [--steps a,b] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from audit.config import load_settings
from audit.run import classify


def operators(node: dict[str, Any]) -> list[tuple[float, str, int, str]]:
    """Every operator of a profile tree: (seconds, name, rows out, short detail)."""
    detail = node.get("extra_info") or {}
    text = "; ".join(
        f"{k}: {v if isinstance(v, str) else ', '.join(map(str, v))}"
        for k, v in detail.items()
        if k in ("Conditions", "Join Type", "Groups", "Projections", "Table", "Function")
    )
    rows = int(node.get("intermediate_rows", 0) or 0)
    found = [(float(node.get("timing", 0.0)), str(node.get("name")), rows, text)]
    for child in node.get("children", []):
        found += operators(child)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input_dir", type=Path)
    parser.add_argument("--top", type=int, default=5, help="operators shown per step")
    parser.add_argument("--steps", default="", help="only these steps (comma-separated)")
    parser.add_argument("--keep", type=Path, help="keep the JSON profiles in this folder")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="spine-audit-profile-"))
    folder.mkdir(parents=True, exist_ok=True)
    classified = classify(args.input_dir, load_settings(), profile_dir=folder)
    classified.con.close()
    result = classified.pipeline
    wanted = {s for s in args.steps.split(",") if s}
    for timing in result.timings:
        if wanted and timing.step not in wanted:
            continue
        print(f"{timing.step}: {timing.seconds:.3f} s, {max(timing.rows, 0):,} rows")
        path = folder / f"{timing.step}.json"
        if not path.is_file():
            continue
        tree = json.loads(path.read_text())
        found = [op for top in tree.get("operator", []) for op in operators(top)]
        for seconds, name, rows, text in sorted(found, reverse=True)[: args.top]:
            print(f"    {seconds:7.3f} s  {name:<22} {rows:>12,} rows  {text[:110]}")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
