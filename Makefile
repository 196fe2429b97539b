# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8050
# One OpenMP thread per worker: faster on 2 cores and fork-safe for background jobs.
export OMP_NUM_THREADS ?= 1

.PHONY: run test lint bench corpus services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# The tests cover the Spark engine too: the [spark] extra (pyspark; Spark runs on Java 17+).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,spark]'
	touch $@ $(VENV)/.installed-app

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,spark,bench]'
	touch $@ $(VENV)/.installed-app $(VENV)/.installed-test

## run: start the app on the built-in demo data at http://$(HOST):$(PORT)
run: $(VENV)/.installed-app
	$(BIN)/c2c serve --host $(HOST) --port $(PORT)

## services: what the tests start — Chromium + its driver, Redis, PostgreSQL, Java for Spark
## (installed as root)
SERVICES := chromium chromium-driver redis-server postgresql openjdk-17-jre-headless
services:
	@command -v chromedriver >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1 \
	  && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v java >/dev/null 2>&1 \
	  || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SERVICES); \
	  else echo "tests need: sudo apt-get install $(SERVICES)"; exit 1; fi; }

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

## test: install, lint and run the whole suite (unit, CLI and headless-browser tests)
test: $(VENV)/.installed-test services lint
	mkdir -p .tmp
	TMPDIR=$(CURDIR)/.tmp $(BIN)/python -m pytest -q

## corpus: rebuild the loader corpus in tests/data/corpus and its table of outcomes (OUTCOMES.md)
corpus: $(VENV)/.installed-test
	$(BIN)/python -m tests.corpus.build

## bench: every benchmark in bench/, each recording its JSON (with the machine, versions and
## load average) in bench/results.json; about 25 minutes
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/bench_app.py
	$(BIN)/python bench/bench_load.py
	mkdir -p .tmp
	$(BIN)/python bench/bench_member_rows.py
	TMPDIR=$(CURDIR)/.tmp $(BIN)/python bench/bench_scale.py
	$(BIN)/python bench/load.py --seconds 120
	@if $(BIN)/python -c 'import pyspark' 2>/dev/null && command -v java >/dev/null 2>&1; then \
	  TMPDIR=$(CURDIR)/.tmp $(BIN)/python bench/bench_spark.py; \
	else echo "bench_spark.py skipped: needs the [spark] extra and Java"; fi
	TMPDIR=$(CURDIR)/.tmp $(BIN)/python bench/bench_browser.py

clean:
	rm -rf $(VENV) .tmp
