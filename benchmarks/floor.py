"""The floor: one DuckDB query that reads every input column the audit needs, once.

Nothing the audit does can be cheaper than reading its input; the benchmark reports the audit's
wall time as a multiple of this. Usage: python benchmarks/floor.py INPUT_DIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

from audit.finder import list_folder
from audit.inputs import CANONICAL


def floor_query(folder: Path) -> tuple[str, dict[str, str]]:
    """A single statement reading every canonical column of every table present."""
    parts, params = [], {}
    listing = list_folder(folder)
    for table, spec in CANONICAL.items():
        path = listing.find((table,))
        if path is None:
            continue
        con = duckdb.connect()
        reader = "read_parquet" if path.name.lower().endswith(".parquet") else "read_csv"
        present = [
            d[0]
            for d in con.execute(
                # reader is read_csv or read_parquet (a literal); the path is bound
                f"SELECT * FROM {reader}($p) LIMIT 0",  # noqa: S608
                {"p": str(path)},
            ).description
        ]
        cols = [c for c in spec["columns"] if c in present]
        params[table] = str(path)
        aggregates = (
            ", ".join(f'COUNT("{c}")' for c in cols)
            + ", "
            + ", ".join(
                f'MAX(LENGTH(CAST("{c}" AS VARCHAR)))'
                for c in cols
                if c.endswith("_id") or c == "code"
            )
        )
        # S608: reader a literal; aggregates over the canonical allow-list; paths bound
        parts.append(f"(SELECT {aggregates} FROM {reader}(${table}))")  # noqa: S608
    # S608: parts built above from literals
    return "SELECT * FROM " + " CROSS JOIN ".join(  # noqa: S608
        f"{p} AS t{i}" for i, p in enumerate(parts)
    ), params


def main() -> None:
    folder = Path(sys.argv[1])
    sql, params = floor_query(folder)
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(sql, params).fetchall()
    print(f"floor {time.perf_counter() - started:.3f} s")


if __name__ == "__main__":
    main()
