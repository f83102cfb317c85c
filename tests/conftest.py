import pytest

import tests.helpers
from tests.helpers import write_extract


def pytest_addoption(parser):
    parser.addoption(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="the engine in-process runs use (tests.helpers.classified); `--engine spark` runs "
        "every spec vignette on Spark and compares its sessions with DuckDB's (docs/spark.md)",
    )


def pytest_configure(config):
    tests.helpers.ENGINE = config.getoption("engine")


@pytest.fixture
def extract(tmp_path):
    """Write inline tables into a fresh extract folder: extract(patients=..., ...)."""

    def make(**tables):
        return write_extract(tmp_path / "extract", **tables)

    return make


def pytest_collection_modifyitems(items):
    """Tests marked slow run first: on every core (pytest -n auto) a long test started last
    would leave the other cores idle while it ends."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
