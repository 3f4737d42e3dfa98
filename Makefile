# Two commands for a fresh machine: `make run` and `make test` (both set up .venv first).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint format openapi clients clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned to the CPU build this machine keeps on disk; the project's range
	# (torch>=2.4) is then already satisfied and nothing larger is downloaded.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev,ray]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/aesvc serve

# Tests write bytecode even where the environment says not to (PYTHONDONTWRITEBYTECODE):
# without the cached .pyc files, every xdist process and every server or CLI a test starts
# compiles the project again, and pytest rewrites every test module's asserts again
# (`pytest --collect-only -m "not slow"`: 10.7 s, then 6.2 s once the files are written;
# `make test-fast` 92.8 and 94.7 s, then 82.2 to 85.4 s, on one host the same day).
TEST_ENV := PYTHONDONTWRITEBYTECODE=

test: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# Skips the tests that start several servers (S3 server, Azurite, API replicas, Ray
# nodes) and the slow ones (faults, kills, restarts, real servers and fresh interpreters as
# processes); `make test` runs everything.
# Two processes (pytest-xdist): 160 s -> 111 s for 1,231 tests on this 2-core machine; with
# work stealing (an idle process takes queued tests from the busy one) 90 s -> 81 s for 1,687.
test-fast: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -m "not cluster and not ray and not slow" -n 2 --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check service tests benchmarks migrations
	$(VENV)/bin/ruff format --check service tests benchmarks
	$(VENV)/bin/mypy service
	$(VENV)/bin/aesvc openapi --check
	$(VENV)/bin/aesvc settings-doc --check
	bash scripts/check_clients.sh

format: $(STAMP)
	$(VENV)/bin/ruff check --fix service tests benchmarks
	$(VENV)/bin/ruff format service tests benchmarks

openapi: $(STAMP)
	$(VENV)/bin/aesvc openapi
	$(VENV)/bin/aesvc settings-doc

# clients/python from openapi/openapi.json (scripts/check_clients.sh checks it is fresh)
clients: openapi
	bash scripts/check_clients.sh --write

clean:
	rm -rf $(VENV) var
