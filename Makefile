# EaseBack: `make run` serves the app, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint check-python install collectstatic bench audit clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null || { \
	  echo "EaseBack needs Python 3.12 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install Python 3.13 (e.g. 'pyenv install 3.13' or your system's python3.13 package),"; \
	  echo "then run again, or point at it: make run PYTHON=python3.13"; exit 1; }

$(STAMP): requirements/dev.lock | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.lock
	@touch $@

install: check-python $(STAMP)

run: install
	DJANGO_DEBUG=true $(BIN)/python manage.py migrate --no-input
	DJANGO_DEBUG=true $(BIN)/python manage.py seed_demo
	DJANGO_DEBUG=true $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

# DATABASE_URL, when set, is used as it is (CI sets it to the local PostgreSQL).
test: lint
	DJANGO_DEBUG=true $(BIN)/python -m pytest $(PYTEST_ARGS)

audit: install
	$(BIN)/pip-audit --strict --disable-pip -r requirements/prod.lock

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
