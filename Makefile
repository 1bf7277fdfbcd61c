# Two commands for a newcomer: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-stamp

.PHONY: setup demo test lint typecheck bench messages clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the package with its dev extras

demo: setup  ## run the whole product on SQLite against a loopback Bot API (no token, no internet)
	$(PY) -m bot.demo

test: setup lint typecheck  ## lint, types, then the whole suite (PostgreSQL too when TEST_DATABASE_URL is set)
	$(VENV)/bin/pytest -q -p no:cacheprovider

lint: setup
	$(VENV)/bin/ruff check bot handlers storage scheduler tests bench

typecheck: setup
	$(VENV)/bin/mypy bot handlers storage scheduler

bench: setup  ## print the figures quoted in docs/figures.md
	$(PY) bench/aggregate.py
	$(PY) bench/updates.py
	$(PY) bench/fanout.py

messages: setup  ## re-extract texts; then translate the new entries in the English catalog
	$(VENV)/bin/pybabel extract -k _ --no-location --sort-output -o handlers/locale/messages.pot handlers scheduler bot storage
	$(VENV)/bin/pybabel update -i handlers/locale/messages.pot -d handlers/locale -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) var/demo build *.egg-info
