# berdaya: developer and CI entry points. `make test` / `make demo` set up everything they need
# (the .venv and the local PostgreSQL + RabbitMQ, via scripts/ensure-infra.sh).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_LOCK := requirements/runtime.lock
DEV_LOCK := requirements/dev.lock
PYTEST_ARGS ?=
BROWSER_ARGS ?=
DEMO_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help venv lock audit infra printing browser asyncapi test demo up down lint bench clean translations

help:
	@echo "make venv    create .venv from requirements/dev.lock (hash-checked), then berdaya itself (-e, no deps)"
	@echo "make lock    re-resolve requirements/*.lock after a pin in pyproject.toml changed (LOCK_ARGS='--upgrade')"
	@echo "make infra   make sure PostgreSQL, RabbitMQ and the berdaya_* roles/databases exist"
	@echo "make test    run pytest (PYTEST_ARGS='-m \"not e2e\"' ...), then the browser tests (BROWSER_ARGS=...)"
	@echo "make demo    run the demo (DEMO_ARGS=...)"
	@echo "make up      start all services and the console (DEMO=1: on what make demo left);  make down  stop them"
	@echo "make lint    ruff check + import-linter contracts + the contracts' reference validators + make audit"
	@echo "make audit   pip-audit of the locked dependencies against PyPI's vulnerability data"
	@echo "make bench   run bench/events.py"
	@echo "make soak    faults at random for SOAK_SECONDS (default 600), JSON summary (tests/faults/soak.py)"
	@echo "make translations  extract the console's messages into its catalogs and compile them"
	@echo "make clean   remove .run/ and caches (keeps .venv)"

# The venv is (re)created when it is missing or does not belong to this checkout: entry-point scripts carry
# the absolute path of the venv they were installed into, so a .venv copied or cloned from elsewhere runs
# someone else's python. A creation that fails half-way (e.g. no ensurepip) leaves no .venv behind.
VENV_OK = $(BIN)/python -c '' 2>/dev/null && head -1 $(BIN)/pip 2>/dev/null | grep -qx '\#!$(abspath $(BIN))/python[0-9.]*'

# The lock's own pip first (hash-checked): the pip that `python -m venv` brings (23.x) takes an extra's requirement
# (pip-audit's CacheControl[filecache]) as an unpinned one as soon as PyPI has a newer release, and refuses the lock.
# Every package comes from the lock, each file checked against its hashes (pip itself and the setuptools that
# builds berdaya's editable install included: no build isolation fetching whatever is newest); berdaya is
# installed without resolving anything. tests/security/test_dependencies.py fails when pyproject.toml's pins and
# the lock disagree (make lock).
$(STAMP): pyproject.toml $(DEV_LOCK)
	@if ! { $(VENV_OK); }; then \
	  echo "make: creating $(VENV) with $(PY)"; rm -rf $(VENV); \
	  $(PY) -m venv $(VENV) || { rm -rf $(VENV); \
	    echo "make: '$(PY) -m venv' failed (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }; \
	fi
	awk '/^pip==/ {found = 1} found {print} found && !/\\$$/ {exit}' $(DEV_LOCK) > $(VENV)/pip.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r $(VENV)/pip.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

venv: $(STAMP)

# The locks: the services' dependencies (what the images install) and, constrained to the same versions, the dev
# extra's. pip-compile keeps the pins it finds and adds the hashes of every file PyPI has for each (any platform);
# LOCK_ARGS='--upgrade' or '--upgrade-package NAME' moves them. Python 3.11 like the images.
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links $(LOCK_ARGS)
lock: venv
	$(PIP_COMPILE) -o $(RUNTIME_LOCK) pyproject.toml
	$(PIP_COMPILE) --extra dev -c $(RUNTIME_LOCK) -o $(DEV_LOCK) pyproject.toml

infra:
	bash scripts/ensure-infra.sh

# The gateway renders printouts with WeasyPrint: Debian's pango and fonts (scripts/ensure-printing.sh).
printing:
	bash scripts/ensure-printing.sh

browser:
	bash scripts/ensure-browser.sh

# The official AsyncAPI parser (npm, pinned) in scripts/asyncapi/node_modules: the published contracts' test runs it.
asyncapi:
	bash scripts/ensure-asyncapi.sh

# Two pytest runs: everything under eventlet, then the console in Chromium in a process without it
# (tests/browser/conftest.py says why). Both run; the target fails if either did.
test: venv infra printing browser asyncapi
	@status=0; \
	$(BIN)/pytest $(PYTEST_ARGS) || status=1; \
	$(BIN)/pytest --confcutdir=tests/browser tests/browser $(BROWSER_ARGS) || status=1; \
	exit $$status

demo: venv infra printing
	$(BIN)/berdaya demo $(DEMO_ARGS)

# DEMO=1: serve what `make demo` left (its databases and console users) instead of the local installation.
up: venv infra printing
	$(BIN)/berdaya up $(if $(DEMO),--demo)

down: venv
	$(BIN)/berdaya down

lint: venv asyncapi
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q tests/unit/test_published_contracts.py
	@$(MAKE) --no-print-directory audit

# Known vulnerabilities in the locked versions (the dev lock holds every runtime pin too), from the vulnerabilities
# in PyPI's JSON for each release (OSV's own API is not reachable from our machines). --strict: a package
# whose data cannot be read fails the audit (without it pip-audit skips the package and passes). --disable-pip: the
# hashed lock is audited as written, nothing installed or resolved.
AUDIT_LOCK ?= $(DEV_LOCK)
audit: venv
	@$(BIN)/pip-audit --vulnerability-service pypi --strict --progress-spinner off --disable-pip -r $(AUDIT_LOCK) \
	  || { echo "make: audit FAILED: a known vulnerability (listed above), or PyPI's vulnerability data for a" \
	       "locked release could not be read" >&2; exit 1; }

bench: venv infra
	$(BIN)/python bench/events.py

# The fault tests' workload for SOAK_SECONDS (default 600) with faults at random moments; prints a JSON summary.
# Not part of `make test` (tests/faults runs each fault once there).
.PHONY: soak
soak: venv infra
	$(BIN)/python -m tests.faults.soak

# The console's catalogs: new messages extracted from its code and templates into locale/id (translate them in
# messages.po), then compiled to messages.mo. tests/unit/test_console_catalog.py fails while one is untranslated.
CONSOLE := services/gateway/console
translations: venv
	cd $(CONSOLE) && $(abspath $(BIN))/pybabel extract -F babel.cfg -k N_ -o locale/messages.pot --no-location \
	  --sort-output --omit-header --project berdaya .
	$(BIN)/pybabel update -i $(CONSOLE)/locale/messages.pot -d $(CONSOLE)/locale -D messages -l id \
	  --no-fuzzy-matching --ignore-obsolete --init-missing --width 120
	$(BIN)/pybabel compile -d $(CONSOLE)/locale -D messages --statistics

clean:
	rm -rf .run .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

# Build and run the whole stack with Docker Compose, drive it, scale it, crash replicas, take it down (as root:
# installs Docker from Debian and the compose plugin when missing). See deploy/test-compose.sh, docs/operations.md.
.PHONY: test-deploy
test-deploy:
	bash deploy/test-compose.sh
