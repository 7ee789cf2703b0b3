"""One logical call, one retry budget: under a persistent 503 it makes exactly ``max_retries + 1`` requests.

Whatever the call is made of (a commit with its "did it land?" checks, a read, an async poll), the
connection's ``max_retries`` bounds it, and no retry loop runs inside another one's attempt.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from airflow_provider_hub.exceptions import HfHubError
from airflow_provider_hub.hooks.hub import HfHubAsyncHook, HfHubHook
from airflow_provider_hub.operators.repo import HfUploadFolderOperator
from airflow_provider_hub.testing import HubEmulator
from tests.support.hub import connection_json, set_connection
from tests.support.operators import run

COMMIT_ROUTE = "/api/models/alice/m/commit/main"
HEAD_ROUTE = "/api/models/alice/m/revision/main"


@pytest.fixture
def hub(hub_connection: HubEmulator) -> HubEmulator:
    hub_connection.add_repo("alice/m")
    return hub_connection


@pytest.fixture(autouse=True)
async def _close_clients() -> object:
    yield
    await HfHubAsyncHook.aclose_shared_clients()


def hook_with(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch, max_retries: int) -> HfHubHook:
    set_connection(monkeypatch, "hf_budget", connection_json(hub, max_retries=max_retries))
    return HfHubHook("hf_budget")


def additions(*names: str) -> list:
    from huggingface_hub import CommitOperationAdd

    return [CommitOperationAdd(path_in_repo=name, path_or_fileobj=name.encode()) for name in names]


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_a_commit_makes_max_retries_plus_one_posts(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch, max_retries: int
) -> None:
    hook = hook_with(hub, monkeypatch, max_retries)
    hub.inject_fault(COMMIT_ROUTE, status=503, method="POST")
    hub.reset_counts()
    with pytest.raises(HfHubError) as excinfo:
        hook.commit_exactly_once("alice/m", additions("a.txt"), commit_message="Add a")
    assert excinfo.value.status_code == 503
    assert hub.request_count(COMMIT_ROUTE, "POST") == max_retries + 1
    # The plan reads the head once; each later attempt checks once whether the failed one landed.
    assert hub.request_count(HEAD_ROUTE) == 1 + max_retries


def test_the_upload_operator_spends_the_connection_budget_on_its_commit(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    set_connection(monkeypatch, "hf_budget", connection_json(hub, max_retries=2))
    (tmp_path / "a.txt").write_text("a")
    hub.inject_fault(COMMIT_ROUTE, status=503, method="POST")
    operator = HfUploadFolderOperator(
        task_id="up", repo_id="alice/m", folder_path=str(tmp_path), hf_conn_id="hf_budget"
    )
    with pytest.raises(HfHubError):
        run(operator)
    assert hub.request_count(COMMIT_ROUTE, "POST") == 3


def test_a_commit_waits_what_retry_after_says(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = hook_with(hub, monkeypatch, 2)
    hub.inject_fault(COMMIT_ROUTE, status=503, retry_after=1, times=1, method="POST")
    started = time.monotonic()
    outcome = hook.commit_exactly_once("alice/m", additions("a.txt"), commit_message="Add a")
    assert time.monotonic() - started >= 1.0  # the backoff alone would wait about 0.02 s
    assert outcome.commit_oid and not outcome.recovered
    assert hub.request_count(COMMIT_ROUTE, "POST") == 2


@pytest.mark.parametrize("max_retries", [0, 2])
def test_a_read_makes_max_retries_plus_one_requests(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch, max_retries: int
) -> None:
    hook = hook_with(hub, monkeypatch, max_retries)
    hub.inject_fault(HEAD_ROUTE, status=503)
    hub.reset_counts()
    with pytest.raises(HfHubError) as excinfo:
        hook.repo_head("alice/m", revision="main")
    assert excinfo.value.status_code == 503
    assert hub.request_count(HEAD_ROUTE) == max_retries + 1


@pytest.mark.parametrize("max_retries", [0, 2])
async def test_an_async_poll_makes_max_retries_plus_one_requests(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch, max_retries: int
) -> None:
    set_connection(monkeypatch, "hf_budget", connection_json(hub, max_retries=max_retries))
    hub.inject_fault("/api/jobs/alice/*", status=503)
    with pytest.raises(HfHubError) as excinfo:
        await HfHubAsyncHook("hf_budget").get_job("0123456789abcdef", namespace="alice")
    assert excinfo.value.status_code == 503
    assert hub.request_count("/api/jobs/alice/*") == max_retries + 1
