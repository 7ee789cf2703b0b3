# Set-up and everyday commands. Everything installs into .venv with uv (installed with pip if missing).
PYTHON ?= python3
VENV ?= .venv
AIRFLOW_SPEC ?= apache-airflow>=3.3,<3.4
PY := $(VENV)/bin/python
UV := $(PYTHON) -m uv
PYTEST_ARGS ?=
# pytest-xdist workers for `make test`; each test file stays on one worker (their fixtures are per module).
PYTEST_WORKERS ?= 2
# Options of benchmarks/run_all.py, e.g. BENCH_ARGS=--quick (small sizes) or BENCH_ARGS="--only dag_parse".
BENCH_ARGS ?=
# A pip constraints file for the install (CI pins what Airflow 3.2 itself forgot to cap).
CONSTRAINTS ?=

.PHONY: install test lint docs demo bench e2e-ui test-distributed clean

$(VENV)/.installed: pyproject.toml Makefile $(CONSTRAINTS)
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) venv --quiet --allow-existing $(VENV) --python $(PYTHON)
	$(UV) pip install --quiet --python $(PY) -e ".[amazon,openlineage]" --group test --group docs "$(AIRFLOW_SPEC)" \
		$(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))
	@touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check airflow_provider_hub tests example_dags benchmarks e2e_ui
	$(PY) -m ruff format --check airflow_provider_hub tests example_dags benchmarks e2e_ui
	$(PY) -m mypy

docs: install
	$(PY) -m mkdocs build --strict --site-dir site

demo: install
	$(PY) -m airflow_provider_hub.demo

bench: install
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

e2e-ui: install
	PY=$(PY) scripts/e2e_ui.sh $(PYTEST_ARGS)

# The distributed test (tests/distributed): PostgreSQL, Redis, CeleryExecutor, two workers, two triggerers,
# two api-servers behind a load balancer, in its own venv (the Celery provider and a PostgreSQL driver on
# top of .venv's packages). Figures: tests/distributed/output/summary.md. `make test` does not run it.
DIST_VENV ?= .venv-distributed
DIST_PACKAGES ?= apache-airflow-providers-celery "celery<5.7" psycopg2-binary asyncpg "moto[server]>=5.0"
DIST_TIMEOUT ?= 1080

$(DIST_VENV)/.distributed: pyproject.toml Makefile
	$(MAKE) install VENV=$(DIST_VENV)
	$(UV) pip install --quiet --python $(DIST_VENV)/bin/python $(DIST_PACKAGES) "$(AIRFLOW_SPEC)" \
		$(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))
	@touch $@

test-distributed: $(DIST_VENV)/.distributed
	scripts/distributed_deps.sh
	@# pytest's exit 5 (no test collected) would mean the distributed test silently ran nothing: a failure.
	HUB_DISTRIBUTED_TEST=1 timeout -k 60 -s INT $(DIST_TIMEOUT) $(DIST_VENV)/bin/python -m pytest tests/distributed \
		-p no:cacheprovider -rfEs $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "test-distributed: no test collected" >&2; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) .venv-* site .pytest_cache .mypy_cache .ruff_cache
