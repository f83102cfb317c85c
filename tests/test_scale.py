"""Scaling machinery: compressing the step tables changes nothing but memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit import pipeline
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
    assert pipeline._bytes(text) == pytest.approx(expected)


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
    real = pipeline.compress_tables

    def counting(con):
        compressed = real(con)
        calls.append(compressed)
        return compressed

    monkeypatch.setattr(pipeline, "COMPRESS_AT", 0.0)
    monkeypatch.setattr(pipeline, "CHECK_MEMORY_ROWS", 0)
    monkeypatch.setattr(pipeline, "compress_tables", counting)
    assert _sessions(Settings()) == plain
    assert plain and any(calls), "the tables were never compressed"
