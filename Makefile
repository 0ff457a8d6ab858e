# make run   start a demo shop (creates .venv and installs on first use)
# make test  lint, type-check the core, and run the tests on SQLite and PostgreSQL

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest postgres browser install clean

run: $(STAMP)
	$(BIN)/replenish init --demo
	$(BIN)/replenish run

test: $(STAMP) postgres browser lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

# Start the local PostgreSQL cluster if it is not up; without it the PostgreSQL half
# of the database tests is skipped (and the test summary says so).
postgres:
	@pg_isready -q -h 127.0.0.1 2>/dev/null \
		|| pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql 2>/dev/null | tail -n 1) main start 2>/dev/null \
		|| echo "PostgreSQL is not running and could not be started: its tests will be skipped"

# The browser tests drive Debian's Chromium (/usr/bin/chromium) with Playwright; install
# it, and fonts for Chinese pages, when missing. Without it those tests are skipped.
browser:
	@command -v chromium >/dev/null 2>&1 \
		|| apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 \
		|| (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1) \
		|| echo "Chromium could not be installed: the browser tests will be skipped"

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis
