# The two commands a newcomer needs are `make demo` and `make test`; both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/changeproof demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/ledger.py $(BENCH_ARGS)
	$(BIN)/python bench/ingest.py $(BENCH_ARGS) $(INGEST_ARGS)
	$(BIN)/python bench/gate.py $(BENCH_ARGS) $(GATE_ARGS)
	$(BIN)/python bench/cli.py $(BENCH_ARGS)
	$(BIN)/python bench/api.py $(BENCH_ARGS)

# Fails when a command, option, exit code or linked page is undocumented.
docs: $(STAMP)
	$(BIN)/pytest -q tests/unit/test_docs.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
