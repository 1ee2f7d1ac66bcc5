# The two commands a newcomer needs: `make run` and `make test`. Everything else is a building block.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test unit integration lint protos check-protos lint-protos clean bench-availability bench-pipeline

install: $(STAMP)

# Re-install only when the dependency pins change, so a second `make run` starts in seconds.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: install
	@$(PY) -m services.devstack run

test: install check-protos lint
	@$(PY) -m pytest -q -p no:cacheprovider

lint: install
	@$(VENV)/bin/ruff check services tests
	@$(VENV)/bin/ruff format --check --quiet services tests

unit: install
	@$(PY) -m pytest -q -p no:cacheprovider tests/unit

integration: install
	@$(PY) -m pytest -q -p no:cacheprovider tests/integration

# Generate Python code from protos/ into services/api (imports rewritten to be package-relative,
# so `calendar.*` never shadows the standard library's `calendar`).
protos: install
	@$(PY) -m services.devstack.protogen --out services/api

# The build fails when the committed generated code is stale, and when buf lint finds problems.
check-protos: install lint-protos
	@$(PY) -m services.devstack.protogen --check --out services/api

node_modules/.bin/buf: package.json package-lock.json
	@npm install --silent --no-audit --no-fund
	@touch $@

lint-protos: node_modules/.bin/buf
	@cd protos && ../node_modules/.bin/buf lint

# Not a test (not part of `make test`): ListCourseEventTimeSlots under open-loop load with the whole
# platform running; writes bench/results/availability.{md,json,png}. ~5 minutes. See bench/README.md.
bench-availability: install
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@BENCH_VIA_MAKE=1 $(PY) -m bench.availability $(BENCH_ARGS)

# Not a test either: CreateBooking at a steady rate (20/s for 60 s) and how long each booking takes to
# show in availability, with consumer lag and outbox backlogs over time; writes
# bench/results/pipeline.{md,json,png}. ~2-3 minutes. See bench/pipeline.py.
bench-pipeline: install
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@BENCH_VIA_MAKE=1 $(PY) -m bench.pipeline $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .devstack
