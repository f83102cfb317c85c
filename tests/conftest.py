import pytest

from tests.helpers import write_extract


@pytest.fixture
def extract(tmp_path):
    """Write inline tables into a fresh extract folder: extract(patients=..., ...)."""

    def make(**tables):
        return write_extract(tmp_path / "extract", **tables)

    return make
