# Developer entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python

.PHONY: run test lint format constraints clean

# The project itself is installed editable, so the `youju` command runs this working tree.
$(VENV)/.installed: pyproject.toml requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -e . -c constraints.txt
	touch $@

run: $(VENV)/.installed          ## start the web app on the sample corpus
	$(PY) app.py

test: $(VENV)/.installed         ## the whole test suite (what CI runs)
	$(PY) -m pytest

lint: $(VENV)/.installed         ## ruff (lint and format check) and mypy
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

constraints: $(VENV)/.installed   ## re-pin the full dependency set after changing requirements
	$(PY) -m pip freeze --exclude youju | sed 's/^torch==2.13.0+cpu/torch==2.13.0/' > constraints.txt.new
	{ head -2 constraints.txt; cat constraints.txt.new; } > constraints.txt.tmp && rm constraints.txt.new && mv constraints.txt.tmp constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-output build *.egg-info
