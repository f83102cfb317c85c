# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format venv clean docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/spine-audit demo

test: $(STAMP)
	$(BIN)/ruff check audit tests tools benchmarks
	$(BIN)/ruff format --check audit tests tools benchmarks
	$(BIN)/python -m pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check audit tests tools benchmarks

format: $(STAMP)
	$(BIN)/ruff format audit tests tools benchmarks
	$(BIN)/ruff check --fix audit tests tools benchmarks

clean:
	rm -rf $(VENV) out build dist .pytest_cache .ruff_cache
