# Loket: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test test-sqlite test-postgres lint typecheck bench bench-smoke services tools clean

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

typecheck: install
	$(BIN)/mypy

test-sqlite: install
	LOKET_TEST_DATABASE=sqlite $(BIN)/pytest -q

test-postgres: install services
	LOKET_TEST_DATABASE=postgresql $(BIN)/pytest -q

bench-smoke: install services tools
	$(BIN)/python bench/run_all.py --smoke

test: install services tools lint typecheck test-sqlite test-postgres bench-smoke

bench: install services tools
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
