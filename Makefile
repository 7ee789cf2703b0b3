# Set-up and everyday commands. Everything installs into .venv with uv (installed with pip if missing).
PYTHON ?= python3
VENV ?= .venv
AIRFLOW_SPEC ?= apache-airflow>=3.3,<3.4
PY := $(VENV)/bin/python
UV := $(PYTHON) -m uv
PYTEST_ARGS ?=
# Options of benchmarks/run_all.py, e.g. BENCH_ARGS=--quick (small sizes) or BENCH_ARGS="--only dag_parse".
BENCH_ARGS ?=
# A pip constraints file for the install (CI pins what Airflow 3.2 itself forgot to cap).
CONSTRAINTS ?=

.PHONY: install test lint docs demo bench e2e-ui clean

$(VENV)/.installed: pyproject.toml Makefile $(CONSTRAINTS)
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) venv --quiet --allow-existing $(VENV) --python $(PYTHON)
	$(UV) pip install --quiet --python $(PY) -e ".[amazon,test,docs]" "$(AIRFLOW_SPEC)" \
		$(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))
	@touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

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

clean:
	rm -rf $(VENV) .venv-* site .pytest_cache .mypy_cache .ruff_cache
