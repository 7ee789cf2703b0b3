"""The docs' snippets: every ``--8<--`` include resolves, a missing one fails the build, and the emulator
page's example test (below, between its markers) runs for real."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import markdown
import pendulum
import pytest
import yaml
from pymdownx.snippets import SnippetMissingError

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
INCLUDE = re.compile(r'^--8<-- "([^"]+)"$', re.MULTILINE)


def snippets_markdown() -> markdown.Markdown:
    """Markdown with ``pymdownx.snippets`` configured as ``mkdocs.yml`` configures it, plus its marker hook."""
    config = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text())
    hook_path = REPO_ROOT / config["hooks"][0]
    namespace: dict[str, Any] = {}
    exec(compile(hook_path.read_text(), str(hook_path), "exec"), namespace)
    namespace["on_config"](config)
    (snippets_config,) = [
        ext["pymdownx.snippets"]
        for ext in config["markdown_extensions"]
        if isinstance(ext, dict) and "pymdownx.snippets" in ext
    ]
    assert snippets_config["check_paths"] is True, "a missing snippet must fail the docs build"
    snippets_config = {
        **snippets_config,
        "base_path": [str(REPO_ROOT / p) for p in snippets_config["base_path"]],
    }
    return markdown.Markdown(
        extensions=["pymdownx.snippets"], extension_configs={"pymdownx.snippets": snippets_config}
    )


def doc_includes() -> list[tuple[str, str]]:
    pages = sorted(p for p in DOCS.rglob("*.md") if "site" not in p.relative_to(DOCS).parts)
    return [(str(p.relative_to(DOCS)), target) for p in pages for target in INCLUDE.findall(p.read_text())]


def test_the_docs_include_snippets_from_example_dags() -> None:
    assert ("index.md", "example_dags/example_publish_model.py:publish_model_dag") in doc_includes()


CAPABILITY_PAGES = [
    "publishing.md",
    "jobs.md",
    "endpoints.md",
    "access.md",
    "event-driven.md",
    "transfers.md",
]


@pytest.mark.parametrize("page", CAPABILITY_PAGES)
def test_every_capability_page_shows_code_from_an_example_dag(page: str) -> None:
    examples = [
        target for doc, target in doc_includes() if doc == page and target.startswith("example_dags/")
    ]
    assert examples, f"{page} includes no snippet from example_dags/"


@pytest.mark.parametrize(("page", "target"), doc_includes())
def test_every_included_snippet_resolves_to_code(page: str, target: str) -> None:
    path, _, section = target.partition(":")
    html = snippets_markdown().convert(f'```python\n--8<-- "{target}"\n```')
    assert "--8&lt;--" not in html and "8<--" not in html, f"{page}: {target} was not included"
    source = (REPO_ROOT / path).read_text()
    start, end = f"# [START {section}]", f"# [END {section}]"
    assert source.count(start) == 1 and source.count(end) == 1, f"{page}: {target} needs one START/END pair"
    # The include holds the code between the markers, and not the markers themselves.
    first_line = source.split(start, 1)[1].splitlines()[1].strip()
    assert first_line and first_line in unescape(html)
    assert "[START" not in html and "[END" not in html


@pytest.mark.parametrize(
    "target",
    [
        "example_dags/example_publish_model.py:no_such_section",
        "example_dags/no_such_file.py:publish_model_dag",
    ],
)
def test_a_missing_snippet_fails_the_build(target: str) -> None:
    with pytest.raises(SnippetMissingError):
        snippets_markdown().convert(f'--8<-- "{target}"')


# [START emulator_pytest_example]
def test_my_publishing_dag(hub_connection, run_dag, tmp_path):
    """``hub_connection`` points ``huggingface_hub_default`` at a fresh emulator; ``run_dag`` runs ``dag.test()``."""
    from airflow.sdk import DAG
    from huggingface_hub import HfApi

    from airflow_provider_hub.operators.repo import HfUploadFolderOperator

    (tmp_path / "config.json").write_text('{"labels": 2}')
    # The Hub rate-limits the first repo creation: the hook waits the Retry-After out and tries again.
    hub_connection.inject_fault("/api/repos/create", status=429, retry_after=1, times=1)

    with DAG("publish", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        HfUploadFolderOperator(
            task_id="upload", repo_id="alice/my-model", folder_path=str(tmp_path), create_repo=True
        )
    dag_run = run_dag(dag)

    assert dag_run.state == "success"
    assert hub_connection.request_count("/api/repos/create", method="POST") == 2
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    assert api.list_repo_files("alice/my-model") == [".gitattributes", "config.json"]


# [END emulator_pytest_example]
