"""constraints.txt pins every dependency of pyproject.toml (runtime and the test extra) to one
version its range allows, so `make demo`, `make test` and CI install what the outputs were
proven with (issue 13, deliverable 5). Add a dependency, then run `make lock`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin (name==version)"
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [
        Requirement(r)
        for r in project["dependencies"]
        + project["optional-dependencies"]["test"]
        + project["optional-dependencies"]["spark"]  # --engine spark; make test installs it
    ]


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_every_dependency_is_pinned_within_its_range(requirement):
    pins = _pins()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{requirement.name} is not in constraints.txt: run make lock"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"constraints.txt pins {name}=={pins[name]}, outside {requirement}: run make lock"
    )


def test_makefile_installs_from_the_constraints():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet -c $(CONSTRAINTS) -e '.[test,spark]'" in makefile
    assert "CONSTRAINTS := constraints.txt" in makefile
