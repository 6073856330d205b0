# The two commands: `make run` and `make test`. Both set everything up from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
EXAMPLE ?= examples/employee-onboarding.apg

.PHONY: run test setup lint format check-python clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "APG Workflow needs Python 3.11 or newer; set PYTHON=python3.11 (found " + sys.version.split()[0] + ")")'

$(STAMP): pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

# `make run`: the whole platform (API, worker, timers, schedules) in one process on SQLite
# (./apg-workflow.db), with the examples deployed and a demo administrator whose password it prints.
HOST ?= 127.0.0.1
PORT ?= 8000
run: setup
	$(BIN)/apg-workflow db upgrade
	$(BIN)/apg-workflow deploy examples/expense-approval.apg
	$(BIN)/apg-workflow deploy $(EXAMPLE)
	$(BIN)/apg-workflow server --demo --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# pytest's own exit code is kept: 5 (no tests collected) fails the target like any other failure.
test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .hypothesis
