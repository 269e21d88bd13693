# One task runner for people and CI alike.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CONFIG ?= config/monitor.toml
SHARED ?= ../shared

.PHONY: run test lint types unit test-slow bench eval lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required" or 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	# the editable build's advice about folders named like the package is for other layouts
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/monitor --config $(CONFIG) run

test: lint types unit

lint: $(STAMP)
	$(BIN)/ruff check monitor tests bench
	$(BIN)/ruff format --check monitor tests bench

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The signal rules on every labelled set in $(SHARED): the dev set and each stream.
eval: $(STAMP)
	@test -d $(SHARED)/devset || { echo "error: no labelled sets at $(SHARED); set SHARED=path"; exit 1; }
	@for f in $(SHARED)/devset/items.jsonl $(SHARED)/streams/*.jsonl; do \
		echo "== $$f"; $(BIN)/monitor --config $(CONFIG) eval --stream "$$f" || exit 1; done

# Regenerate the locks after changing dependencies in pyproject.toml (the runtime lock,
# without the development tools, is what the container image installs).
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe --strip-extras \
		--output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--constraint requirements.lock --output-file requirements-runtime.lock pyproject.toml

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
