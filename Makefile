# neurosrnn: two commands on a fresh machine.
#   make demo   create .venv (Python >= 3.12), install, run the demo on embedded defaults
#   make test   create .venv with the test extras, run ruff and the whole pytest suite
#   make docs   build the documentation site into docs/_build/html
# Set PYTHON=/path/to/python3.12 to choose the interpreter yourself.

SHELL := /bin/bash
VENV := .venv
VPY := $(VENV)/bin/python
CANDIDATES := $(PYTHON) python3.12 python3.13 python3 \
	$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) \
	$(wildcard /usr/local/bin/python3.12 /usr/bin/python3.12)

# First interpreter on the list that is Python >= 3.12.
FOUND_PYTHON := $(shell for p in $(CANDIDATES); do \
	command -v $$p >/dev/null 2>&1 || continue; \
	$$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { command -v $$p; break; }; \
	done)

.PHONY: demo test lint venv test-venv clean bench docs

$(VENV)/.base-installed: setup.cfg setup.py pyproject.toml
	@if [ -z "$(FOUND_PYTHON)" ]; then echo "neurosrnn needs Python >= 3.12 (brian2 2.10.1): install one (e.g. 'pyenv install 3.12' or your OS package python3.12) or run 'make PYTHON=/path/to/python3.12 ...'"; exit 1; fi
	@test -x $(VPY) || $(FOUND_PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.base-installed
	$(VPY) -m pip install -q -e ".[test]"
	@touch $@

venv: $(VENV)/.base-installed

test-venv: $(VENV)/.test-installed

demo: $(VENV)/.base-installed
	$(VPY) -m neurosrnn.demo

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(VENV)/.test-installed lint
	$(VPY) -m pytest -q -n 2 --durations=15

docs: $(VENV)/.test-installed
	$(VPY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache *.egg-info \
		docs/_build docs/api/generated docs/gallery docs/tutorials
