"""Scaling machinery: compressing the step tables changes nothing but memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit import engine, pipeline
from audit.config import Settings
from audit.run import SESSION_COLUMNS, classify

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.1 GiB", 1.1 * 2**30),
        ("1280.0 MiB", 1280 * 2**20),
        ("976.5 KiB", 976.5 * 2**10),
        ("512 bytes", 512),
        ("unlimited", float("inf")),
    ],
)
def test_memory_limit_text_is_read_in_bytes(text, expected):
    assert engine._bytes(text) == pytest.approx(expected)


def _sessions(settings: Settings) -> list[tuple]:
    classified = classify(SAMPLE, settings)
    try:
        return classified.con.execute(
            f"SELECT {', '.join(SESSION_COLUMNS)} FROM session_outcomes ORDER BY ALL"
        ).fetchall()
    finally:
        classified.con.close()


def test_compressing_after_every_step_gives_the_same_sessions(monkeypatch):
    plain = _sessions(Settings())
    calls = []
    real = engine.compress_tables

    def counting(con):
        compressed = real(con)
        calls.append(compressed)
        return compressed

    monkeypatch.setattr(engine, "COMPRESS_AT", 0.0)
    monkeypatch.setattr(engine, "CHECK_MEMORY_ROWS", 0)
    monkeypatch.setattr(engine, "compress_tables", counting)
    assert _sessions(Settings()) == plain
    assert plain and any(calls), "the tables were never compressed"


def test_profile_dir_gets_one_duckdb_profile_per_table_step(tmp_path):
    """benchmarks/profile_steps.py reads these: EXPLAIN ANALYZE of every table step, as JSON."""
    import json

    classify(SAMPLE, Settings(), profile_dir=tmp_path).con.close()
    tables = [s for s in pipeline.STEPS if s not in pipeline.VIEW_STEPS]
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == sorted(tables)
    profile = json.loads((tmp_path / "diagnoses_kept.json").read_text())
    assert profile["operator"], "a profile lists the operators of the step"
