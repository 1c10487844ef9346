# Every target sets up .venv itself; a second run only reinstalls when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean translations fuzz-api

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/redress db upgrade
	$(BIN)/redress serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Schemathesis against the hub and the agent (all checks, stateful phase) with many examples per
# operation and a fresh seed; `make test` runs the same tests with a few examples and a fixed seed.
FUZZ_API_EXAMPLES ?= 100
fuzz-api: $(STAMP)
	REDRESS_FUZZ_EXAMPLES=$(FUZZ_API_EXAMPLES) REDRESS_FUZZ_SEED=random \
		$(BIN)/pytest tests/api/test_schemathesis.py -q

bench: $(STAMP)
	$(BIN)/python bench/hash_throughput.py
	$(BIN)/python bench/video_throughput.py
	$(BIN)/python bench/robustness.py
	$(BIN)/python bench/hub_throughput.py
	$(BIN)/python bench/browser_hashing.py
	$(BIN)/python bench/pdq_index.py
	$(BIN)/python bench/agent.py

# Re-extract the portal's strings and merge them into every catalogue (then translate the new ones).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _translatable -o src/redress/web/locale/messages.pot .
	$(BIN)/pybabel update -i src/redress/web/locale/messages.pot -d src/redress/web/locale -w 100

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
