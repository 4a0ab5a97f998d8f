# berdaya: developer and CI entry points. `make test` / `make demo` set up everything they need
# (the .venv and the local PostgreSQL + RabbitMQ, via scripts/ensure-infra.sh).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help venv infra test demo up down lint bench clean

help:
	@echo "make venv    create .venv and pip install -e '.[dev]' (again only when pyproject.toml changes)"
	@echo "make infra   make sure PostgreSQL, RabbitMQ and the berdaya_* roles/databases exist"
	@echo "make test    run pytest (PYTEST_ARGS='-m \"not e2e\"' ...)"
	@echo "make demo    run the demo (DEMO_ARGS=...)"
	@echo "make up      start all services;  make down  stop them"
	@echo "make lint    ruff check + import-linter contracts"
	@echo "make bench   run bench/events.py"
	@echo "make clean   remove .run/ and caches (keeps .venv)"

# A venv whose creation failed half-way (e.g. no ensurepip) is removed, so the next run retries.
$(BIN)/python:
	$(PY) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "make: '$(PY) -m venv' failed (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

venv: $(STAMP)

infra:
	bash scripts/ensure-infra.sh

test: venv infra
	$(BIN)/pytest $(PYTEST_ARGS)

demo: venv infra
	$(BIN)/berdaya demo $(DEMO_ARGS)

up: venv infra
	$(BIN)/berdaya up

down: venv
	$(BIN)/berdaya down

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: venv infra
	$(BIN)/python bench/events.py

clean:
	rm -rf .run .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
