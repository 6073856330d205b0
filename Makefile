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

# Until the server lands, `make run` runs an example workflow in memory (a manager approves it, the
# one-day wait passes in virtual time) and exports the onboarding example as BPMN for a modeler.
run: setup
	$(BIN)/apg-workflow run examples/expense-approval.apg --input '{"amount": 1200, "employee": "Ada"}' \
		--tasks '{"Manager review": {"approved": true}}' --virtual-time
	$(BIN)/apg-workflow validate $(EXAMPLE)
	@mkdir -p build
	$(BIN)/apg-workflow convert $(EXAMPLE) --to bpmn -o build/employee-onboarding.bpmn
	@echo "Open build/employee-onboarding.bpmn in any BPMN modeler (https://demo.bpmn.io)."

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
