"""No template in the README, the docs, the example DAGs or the operators' docstrings needs a logical date.

Airflow 3 runs triggered from the UI, the CLI or the REST API without a logical date, and asset-triggered
runs, have no ``ds``, ``ds_nodash``, ``ts``, ``logical_date`` or ``data_interval_*`` in their template
context; a template using one fails the task with ``UndefinedError``. Templates may use them only behind
a guard (``is defined`` or the ``default`` filter). The runs themselves are in
``tests/e2e/test_example_dags.py`` (every example DAG as a manual run without a logical date).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jinja2
import jinja2.meta
import jinja2.nodes
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Context keys set only for a run with a logical date (``RuntimeTaskInstance.get_template_context``), and
#: Airflow 2 keys Airflow 3 no longer has at all.
NEEDS_A_LOGICAL_DATE = {
    "ds",
    "ds_nodash",
    "ts",
    "ts_nodash",
    "ts_nodash_with_tz",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "prev_data_interval_start_success",
    "prev_data_interval_end_success",
    "execution_date",
    "next_execution_date",
    "prev_execution_date",
    "next_ds",
    "next_ds_nodash",
    "prev_ds",
    "prev_ds_nodash",
    "yesterday_ds",
    "yesterday_ds_nodash",
    "tomorrow_ds",
    "tomorrow_ds_nodash",
}
TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
#: Package modules whose docstrings are the API reference's examples.
DOCSTRING_PACKAGES = ("operators", "sensors", "transfers", "decorators", "hooks", "fs")


def documents() -> list[Path]:
    docs = [
        p for p in (REPO_ROOT / "docs").rglob("*.md") if "site" not in p.relative_to(REPO_ROOT / "docs").parts
    ]
    return [REPO_ROOT / "README.md", *sorted(docs), *sorted((REPO_ROOT / "example_dags").glob("*.py"))]


def docstrings(path: Path) -> str:
    tree = ast.parse(path.read_text())
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef))]
    return "\n".join(doc for node in nodes if (doc := ast.get_docstring(node)))


def templates_in(path: Path) -> list[str]:
    text = path.read_text() if path.suffix == ".md" or "example_dags" in path.parts else docstrings(path)
    return TEMPLATE.findall(text)


def guarded_names(ast_root: jinja2.nodes.Node) -> set[str]:
    """Names tested with ``is defined`` / ``is undefined`` or given a ``default``, anywhere in the template."""
    guarded = set()
    for test in ast_root.find_all(jinja2.nodes.Test):
        if test.name in ("defined", "undefined") and isinstance(test.node, jinja2.nodes.Name):
            guarded.add(test.node.name)
    for flt in ast_root.find_all(jinja2.nodes.Filter):
        if flt.name in ("default", "d") and isinstance(flt.node, jinja2.nodes.Name):
            guarded.add(flt.node.name)
    return guarded


def unguarded_logical_date_names(template: str) -> set[str]:
    from airflow.sdk import DAG

    try:
        # The environment a DAG renders with: Airflow's filters (``ds``, ``ds_nodash``, ...) are known.
        parsed = DAG("templates").get_template_env().parse(template)
    except jinja2.TemplateSyntaxError:
        # Prose such as ``{{ ti.xcom_pull(...) }}``: any such name not used as a filter or an attribute.
        return {
            m.group(2)
            for m in re.finditer(r"([|.]\s*)?\b(\w+)\b", template)
            if m.group(1) is None and m.group(2) in NEEDS_A_LOGICAL_DATE
        }
    used = jinja2.meta.find_undeclared_variables(parsed)
    return (used & NEEDS_A_LOGICAL_DATE) - guarded_names(parsed)


def test_the_checker_finds_logical_date_templates_and_accepts_guarded_ones() -> None:
    assert unguarded_logical_date_names("v{{ ds_nodash }}") == {"ds_nodash"}
    assert unguarded_logical_date_names("{{ macros.ds_add(ds, -7) }}") == {"ds"}
    assert unguarded_logical_date_names("{% if logical_date %}x{% endif %}") == {"logical_date"}
    assert unguarded_logical_date_names("{{ dag_run.run_after | ds }}") == set()  # the filter, not the key
    assert unguarded_logical_date_names("{{ ds if ds is defined else dag_run.run_after | ds }}") == set()
    assert unguarded_logical_date_names("{{ logical_date | default(dag_run.run_after) | ds }}") == set()
    assert unguarded_logical_date_names("{{ ti.xcom_pull(...) }} {{ ds }}") == {"ds"}
    assert unguarded_logical_date_names("{{ f(...) | ds }}") == set()


def package_modules() -> list[Path]:
    package = REPO_ROOT / "airflow_provider_hub"
    return sorted(p for sub in DOCSTRING_PACKAGES for p in (package / sub).rglob("*.py"))


@pytest.mark.parametrize(
    "path", [*documents(), *package_modules()], ids=lambda p: str(p.relative_to(REPO_ROOT))
)
def test_no_template_needs_a_logical_date(path: Path) -> None:
    offending = {t: names for t in templates_in(path) if (names := unguarded_logical_date_names(t))}
    assert offending == {}, f"{path.relative_to(REPO_ROOT)}: use dag_run.run_after (every run has it)"


def test_the_examples_and_docs_stamp_dates_with_run_after() -> None:
    """The date stamps the examples and docs showed are still there, from ``dag_run.run_after``."""
    for relative in [
        "README.md",
        "docs/publishing.md",
        "docs/transfers.md",
        "example_dags/example_publish_model.py",
        "example_dags/example_s3_mirror.py",
        "example_dags/example_access_triage.py",
    ]:
        assert "{{ dag_run.run_after | ds" in (REPO_ROOT / relative).read_text(), relative
