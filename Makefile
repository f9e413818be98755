# Loket: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test test-sqlite test-postgres lint typecheck bench bench-smoke services tools clean audit-deps

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/loket demo --host $(HOST) --port $(PORT)

services:
	bash scripts/ensure-services.sh

tools:
	bash scripts/ensure-tools.sh

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Known vulnerabilities in the installed dependency set (pip-audit); says so plainly when the
# advisory data cannot be reached, and fails then only with LOKET_REQUIRE_AUDIT=1 (scripts/audit-deps.sh).
# Ruff's security rules (S, bandit's) run in `lint`.
audit-deps: install
	VENV=$(VENV) bash scripts/audit-deps.sh

typecheck: install
	$(BIN)/mypy

test-sqlite: install
	LOKET_TEST_DATABASE=sqlite $(BIN)/pytest -q

test-postgres: install services
	LOKET_TEST_DATABASE=postgresql $(BIN)/pytest -q

bench-smoke: install services tools
	$(BIN)/python bench/run_all.py --smoke

test: install services tools lint audit-deps typecheck test-sqlite test-postgres bench-smoke

bench: install services tools
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
