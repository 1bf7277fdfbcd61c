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
	$(PY) -m bot.app.demo

test: setup lint typecheck  ## lint, types, then the whole suite (PostgreSQL too when TEST_DATABASE_URL is set)
	$(VENV)/bin/pytest -q -p no:cacheprovider

lint: setup  ## ruff (rules and format) and the layer contracts (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: setup
	$(VENV)/bin/mypy bot handlers storage scheduler tests/memory_reader.py

bench: setup  ## print the figures quoted in docs/figures.md
	$(PY) bench/aggregate.py
	$(PY) bench/updates.py
	$(PY) bench/fanout.py
	$(PY) bench/cli_startup.py
	$(PY) bench/dispatch_lag.py

messages: setup  ## extract the Vietnamese texts and merge them into the English catalog
	$(VENV)/bin/pybabel extract --no-default-keywords -k _ -k N_ --no-location --sort-output --width=100 \
		--project=tiendo --version=0.1.0 -o handlers/locale/messages.pot handlers scheduler bot storage
	$(VENV)/bin/pybabel update -i handlers/locale/messages.pot -d handlers/locale -D messages -l en \
		--width=100 --ignore-obsolete --previous --init-missing

clean:
	rm -rf $(VENV) var/demo build *.egg-info
