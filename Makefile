# papertrends: `make run` and `make test` are all a fresh clone needs (Python 3.11 + make).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_FILES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' \) -print)

export PATH := $(BIN):$(PATH)
export PAPERTRENDS_HOME ?= $(CURDIR)/.papertrends
export DAGSTER_HOME ?= $(PAPERTRENDS_HOME)/dagster

.PHONY: install run test lint format dev bench clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint requirements.lock --editable '.[dev]'
	@touch $(STAMP)

# dbt's manifest, parsed when stale by the preparer every entry point uses (orchestration/dbt_project.py)
$(MANIFEST): $(STAMP) $(DBT_FILES)
	$(BIN)/python -m orchestration.dbt_project
	@touch $(MANIFEST)

install: $(STAMP) $(MANIFEST)

## Run the whole graph on the bundled sample listing (today's date, UTC).
run: install
	$(BIN)/papertrends run --listing data/samples/hf_papers_sequence.txt

## Every test (unit, dbt, GE, Dagster end to end), one worker per core; a test module's tests
## stay on one worker (they share its fixtures).
test: install
	$(BIN)/python -m pytest --numprocesses auto --dist loadscope

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint dbt_project

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix dbt_project

## The Dagster UI on http://127.0.0.1:3000 with the same home as the CLI.
dev: install
	@mkdir -p $(DAGSTER_HOME)
	@$(BIN)/python -c "from orchestration import env; env.home().ensure()"
	$(BIN)/dg dev --host 127.0.0.1 --port 3000

bench: install
	$(BIN)/python bench/keyphrase_quality.py
	$(BIN)/python bench/keyphrase_speed.py --runs 3
	$(BIN)/python bench/keyphrase_incremental.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/ui_run.py

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
