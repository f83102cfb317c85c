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


def pytest_sessionfinish(session, exitstatus):
    """Stop the one SparkSession of this process (tests.helpers.spark_session), if started."""
    for spark in tests.helpers._SPARK:
        spark.stop()
    tests.helpers._SPARK.clear()


@pytest.fixture(scope="session")
def spark():
    """The one local SparkSession the Spark tests of this process share."""
    pytest.importorskip("pyspark")
    return tests.helpers.spark_session()


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
