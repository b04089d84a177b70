# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
REQ_STAMP := $(VENV)/.req-$(shell cat requirements.txt | sha1sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test test-fast lint fmt seed bench install install-dev browser migrate

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(REQ_STAMP): requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	rm -f $(VENV)/.req-*; touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.dev-*; touch $@

install: $(REQ_STAMP)
install-dev: $(REQ_STAMP) $(DEV_STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || { echo "could not install chromium"; exit 1; }; \
	  else echo "warning: /usr/bin/chromium is missing and you are not root: browser tests will be skipped"; fi; \
	fi

migrate: install
	$(PY) manage.py migrate --noinput -v 0

seed: migrate
	$(PY) manage.py load_seeds --demo-coding

run: seed
	@echo ""
	@echo "  Coding workbench: http://$(HOST):$(PORT)/"
	@echo "  Demo logins (demo only):  pi / pi-demo-2026   coder1 / coder1-demo-2026"
	@echo "                            coder2 / coder2-demo-2026   coder3 / coder3-demo-2026"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install-dev browser
	$(PY) manage.py makemigrations --check --dry-run -v 0
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: install-dev
	$(PY) -m pytest -q -m "not browser" $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Benchmarks run on a PostgreSQL database of their own, created if missing
# (BENCHMARKS.md). SIZE=small|medium|large; BENCH_ARGS="--repeat 5 --only ...".
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wb_bench
bench: install-dev
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench --size $${SIZE:-medium} $(BENCH_ARGS)
