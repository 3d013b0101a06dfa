# FinFactory — `make run` starts the platform, `make test` checks everything CI checks.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
PORT ?= 8000
PYTEST_ARGS ?=
export PATH := $(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

# Ensures PostgreSQL and Redis (starting private ones under .local/ if needed), runs the command,
# then stops whatever it started.
DEVENV := $(BIN)/python -m finfactory.devenv exec --

.PHONY: help venv run test lint migrate shell requirements clean _run _test

help:
	@echo "make run    - bootstrap, migrate, and run web + worker + beat on http://127.0.0.1:$(PORT)"
	@echo "make test   - bootstrap, then lint, import contracts, deploy checks, migrations, OpenAPI, pytest"
	@echo "make migrate | shell | requirements | clean"

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "FinFactory needs Python 3.11: set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

venv: $(VENV)/.installed

run: venv
	@$(DEVENV) $(MAKE) --no-print-directory _run

_run:
	DJANGO_SETTINGS_MODULE=config.settings.dev python manage.py migrate_platform -v 0
	@echo ""
	@echo "  FinFactory is starting (Ctrl-C stops everything):"
	@echo "    API          http://127.0.0.1:$(PORT)/v1/"
	@echo "    API docs     http://127.0.0.1:$(PORT)/v1/docs"
	@echo "    Admin        http://127.0.0.1:$(PORT)/admin/"
	@echo "    Health       http://127.0.0.1:$(PORT)/healthz  http://127.0.0.1:$(PORT)/readyz"
	@DJANGO_SETTINGS_MODULE=config.settings.dev python manage.py ensure_demo_tenant
	@echo "    Demo         walks the API once the server is up (docs/demo.md)"
	@echo ""
# The demo runs beside honcho, not under it (honcho stops every process when one exits): it waits
# for /readyz, walks the API once (skipped while .local/demo-done says it did) and exits. honcho
# runs in the background so that this shell can pass on Ctrl-C / SIGTERM / SIGHUP and wait for it
# to stop its processes; on the way out the EXIT trap stops the demo if it is still running.
	@demo=; honcho=; \
	  trap 'kill -INT $$honcho 2>/dev/null || true' INT; \
	  trap 'kill -TERM $$honcho 2>/dev/null || true' TERM HUP; \
	  trap 'kill -TERM $$demo 2>/dev/null || true' EXIT; \
	  DJANGO_SETTINGS_MODULE=config.settings.dev python manage.py demo --once --wait-for-server 120 \
	    --timeout 180 --base-url http://127.0.0.1:$(PORT) & demo=$$!; \
	  DJANGO_SETTINGS_MODULE=config.settings.dev HOST=127.0.0.1 PORT=$(PORT) \
	    honcho start -f Procfile -p $(PORT) & honcho=$$!; \
	  status=0; wait $$honcho || status=$$?; \
	  while kill -0 $$honcho 2>/dev/null; do wait $$honcho || status=$$?; done; \
	  exit $$status

test: venv
	@$(DEVENV) $(MAKE) --no-print-directory _test

_test:
	ruff check .
	ruff format --check .
	lint-imports --config importlinter.ini
	DJANGO_SETTINGS_MODULE=config.settings.prod \
	  SECRET_KEY="$$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  ALLOWED_HOSTS=api.finfactory.example \
	  ENCRYPTION_KEYS="$$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	  BLIND_INDEX_KEY="$$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
	  python manage.py check --deploy --fail-level WARNING
	DJANGO_SETTINGS_MODULE=config.settings.test python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test python manage.py spectacular --validate --fail-on-warn --file /dev/null
	DJANGO_SETTINGS_MODULE=config.settings.test pytest $(PYTEST_ARGS)

lint: venv
	ruff check .
	ruff format --check .
	lint-imports --config importlinter.ini

migrate: venv
	@$(DEVENV) python manage.py migrate_platform

shell: venv
	@$(DEVENV) python manage.py shell

# Re-pin requirements/*.txt from the *.in files.
requirements: venv
	$(BIN)/python -m pip install --quiet pip-tools
	cd requirements && for f in base dev prod; do \
	  $(BIN)/pip-compile --quiet --strip-extras --no-header --no-emit-index-url --no-emit-find-links $$f.in -o $$f.txt; \
	done

clean:
	rm -rf $(VENV) .local .pytest_cache .ruff_cache
