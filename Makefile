# The two commands of the README: `make up` and `make test`. Both create .venv and install the project
# first (only Python 3.11+ is needed on the machine; everything else comes from PyPI at install time).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Reinstall when the dependencies change, or when a top-level package appears (the editable install
# only maps packages that existed when it ran).
PACKAGES := $(wildcard */__init__.py)

.PHONY: up test install lint format docs clean

$(STAMP): pyproject.toml $(PACKAGES)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "merchflow needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## run the whole engine on embedded defaults until Ctrl-C
up: $(STAMP)
	$(VENV)/bin/merchflow up

## run every test, after the static checks (ruff, import-linter contracts)
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .

## regenerate the settings table in README.md from the Settings class
docs: $(STAMP)
	$(PY) -m merchflow.settings_doc README.md

clean:
	rm -rf .data .pytest_cache
