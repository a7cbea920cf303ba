# Kubarium's two commands:
#
#   make demo    install into .venv (first time), migrate, load the examples once, and run
#                everything (Redis, a Celery worker with beat, Daphne) until Ctrl-C
#   make test    install into .venv (first time) and run the whole test suite;
#                extra pytest arguments go in ARGS:  make test ARGS="-k quantity -x"
#
# Only Python 3.11+ is needed: the first python3.x found on PATH that is recent enough makes the
# virtualenv. The environment variables are described in docs/configuration.md.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: pip runs again only when pyproject.toml is newer.
STAMP := $(VENV)/.kubarium-installed
ARGS ?=

# The first interpreter on PATH that is Python 3.11 or newer (override: make demo PYTHON=...).
PYTHON ?= $(shell for candidate in python3 python3.13 python3.12 python3.11 python; do \
	command -v $$candidate >/dev/null 2>&1 && \
	$$candidate -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && \
	{ echo $$candidate; break; }; done)

.PHONY: demo test install lint help

help:
	@awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' Makefile

demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed
	$(BIN)/python manage.py up

test: $(STAMP)
	$(BIN)/python -m cluster.services run-with-redis -- $(BIN)/python -m pytest $(ARGS)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

# Debian and Ubuntu ship venv without pip unless python3-venv is installed (which needs root):
# then the virtualenv is made without pip, and pip is bootstrapped with get-pip.py.
GET_PIP := import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen("https://bootstrap.pypa.io/get-pip.py", timeout=60).read())

$(BIN)/python:
	@test -n "$(PYTHON)" && $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "Kubarium needs Python 3.11 or newer: none on PATH, or make PYTHON=... (now: '$(PYTHON)')" >&2; \
		exit 1; }
	@echo "Creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "$(PYTHON) -m venv cannot install pip here; bootstrapping pip with get-pip.py"; \
		rm -rf $(VENV) && $(PYTHON) -m venv --without-pip $(VENV) && \
		$(PYTHON) -c '$(GET_PIP)' > $(VENV)/get-pip.py 2>/dev/null && \
		$(BIN)/python $(VENV)/get-pip.py --quiet; } || { \
		rm -rf $(VENV); \
		echo "Could not create $(VENV) with pip. Install python3-venv (apt install python3-venv)," >&2; \
		echo "or point make at another Python 3.11+: make demo PYTHON=/path/to/python3" >&2; \
		exit 1; }
