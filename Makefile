# Every target sets up .venv itself; a second run only reinstalls when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint smoke fuzz fuzz-quick fuzz-api bench clean translations mutate \
	mutate-ci

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
	$(BIN)/lint-imports

# The smoke test installs the wheel without extras into a fresh virtualenv and runs every
# command as a user would; the bounded fuzz run feeds the parsers of untrusted bytes; mutate-ci
# checks the committed mutation report against its recorded figures.
test: lint mutate-ci smoke fuzz-quick
	$(BIN)/pytest

smoke: $(STAMP)
	$(BIN)/python tests/smoke/install_smoke.py

# About 100 s in all: a fixed budget per target (see tests/fuzz/run.py).
fuzz-quick: $(STAMP)
	$(BIN)/python tests/fuzz/run.py --quick

# The long run: 10 minutes per parser (FUZZ_SECONDS=...), corpora kept in tests/fuzz/corpus-work,
# then schemathesis with many examples (fuzz-api).
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz/run.py --seconds $${FUZZ_SECONDS:-600}
	$(MAKE) fuzz-api

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
	$(BIN)/python bench/quarantine.py
	$(BIN)/python bench/attacks_agent.py
	$(BIN)/python bench/attacks_hub_pins.py
	$(BIN)/python bench/attacks_hub_cases.py
	$(BIN)/python bench/limit_costs.py
	$(BIN)/python bench/readme_figures.py --write

# Mutation testing of the critical modules (slow: an hour or more on two cores); figures in
# bench/mutation/, report in docs/mutation-report.md. MODULES=wire make mutate for one module.
MODULES ?= --all
mutate: $(STAMP)
	$(BIN)/python bench/mutate.py run $(MODULES) --jobs 2

# Bounded check for CI: the committed report matches the committed figures.
mutate-ci: $(STAMP)
	$(BIN)/python bench/mutate.py check

# Re-extract the portal's strings and merge them into every catalogue (then translate the new ones).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _translatable -o src/redress/web/locale/messages.pot .
	$(BIN)/pybabel update -i src/redress/web/locale/messages.pot -d src/redress/web/locale -w 100

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
