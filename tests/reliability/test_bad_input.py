"""Bad input fails with a clear error naming the field and the value, before any network call.

Each case builds an operator with one bad argument and runs it (``execute``, or ``poke`` for sensors)
with a minimal context; the emulator's request counter proves no request was sent. A few arguments are
rejected when the operator is built (DAG-parse time), which is earlier still.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_hub.operators.access import HfAcceptAccessRequestsOperator, HfGrantAccessOperator
from airflow_provider_hub.operators.endpoints import HfCreateInferenceEndpointOperator
from airflow_provider_hub.operators.jobs import HfRunJobOperator
from airflow_provider_hub.operators.repo import (
    HfCreateCommitOperator,
    HfCreateRepoOperator,
    HfCreateTagOperator,
    HfUploadFolderOperator,
)
from airflow_provider_hub.operators.webhooks import HfCreateWebhookOperator
from airflow_provider_hub.sensors.repo import HfRepoFileSensor

JOB = {"image": "python:3.12", "command": ["python", "-c", "print(1)"]}


class _TaskInstance:
    dag_id, task_id, run_id, map_index, try_number = "bad_input", "task", "manual__1", -1, 1

    def xcom_push(self, key: str, value: Any) -> None:
        raise AssertionError(f"nothing may be pushed before validation passed; got {key}={value!r}")


def _folder(tmp_path: Path) -> str:
    (tmp_path / "ok.txt").write_text("ok")
    return str(tmp_path)


# (operator factory taking tmp_path, strings the error must contain: the field and the bad value)
CASES: dict[str, tuple[Callable[[Path], Any], tuple[str, ...]]] = {
    "create_repo/repo_id": (
        lambda tmp: HfCreateRepoOperator(task_id="t", repo_id="alice/bad name!"),
        ("repo_id", "bad name!"),
    ),
    "create_repo/repo_type": (
        lambda tmp: HfCreateRepoOperator(task_id="t", repo_id="alice/m", repo_type="modle"),
        ("repo_type", "modle"),
    ),
    "upload_folder/folder_path": (
        lambda tmp: HfUploadFolderOperator(task_id="t", repo_id="alice/m", folder_path=str(tmp / "nope")),
        ("folder_path", "nope"),
    ),
    "upload_folder/path_in_repo": (
        lambda tmp: HfUploadFolderOperator(
            task_id="t", repo_id="alice/m", folder_path=_folder(tmp), path_in_repo="../escape"
        ),
        ("path_in_repo", "../escape"),
    ),
    "upload_folder/repo_id": (
        lambda tmp: HfUploadFolderOperator(task_id="t", repo_id="a/b/c", folder_path=_folder(tmp)),
        ("repo_id", "a/b/c"),
    ),
    "create_commit/operations.op": (
        lambda tmp: HfCreateCommitOperator(
            task_id="t",
            repo_id="alice/m",
            operations=[{"op": "move", "path_in_repo": "x"}],
            commit_message="m",
        ),
        ("operations[0].op", "move"),
    ),
    "create_commit/operations.local_path": (
        lambda tmp: HfCreateCommitOperator(
            task_id="t",
            repo_id="alice/m",
            operations=[
                {"op": "add", "path_in_repo": "a.txt", "content": "a"},
                {"op": "add", "path_in_repo": "b.bin", "local_path": str(tmp / "missing.bin")},
            ],
            commit_message="m",
        ),
        ("operations[1].local_path", "missing.bin"),
    ),
    "create_commit/parent_commit": (
        lambda tmp: HfCreateCommitOperator(
            task_id="t",
            repo_id="alice/m",
            operations=[{"op": "add", "path_in_repo": "a.txt", "content": "a"}],
            commit_message="m",
            parent_commit="not-a-sha",
        ),
        ("parent_commit", "not-a-sha"),
    ),
    "create_tag/tag": (
        lambda tmp: HfCreateTagOperator(task_id="t", repo_id="alice/m", tag="v1 final"),
        ("tag", "v1 final"),
    ),
    "repo_file_sensor/path_in_repo": (
        lambda tmp: HfRepoFileSensor(task_id="t", repo_id="alice/m", path_in_repo=".git/config"),
        ("path_in_repo", ".git/config"),
    ),
    "run_job/command": (
        lambda tmp: HfRunJobOperator(task_id="t", image="python:3.12", command=["python", 3]),
        ("command", "['python', 3]"),
    ),
    "run_job/timeout": (
        lambda tmp: HfRunJobOperator(task_id="t", timeout="ten minutes", **JOB),
        ("timeout", "ten minutes"),
    ),
    "run_job/labels": (
        lambda tmp: HfRunJobOperator(task_id="t", labels={"airflow-ti": "x"}, **JOB),
        ("labels", "airflow-ti"),
    ),
    "run_job/poll_interval": (
        lambda tmp: HfRunJobOperator(task_id="t", poll_interval=0, **JOB),
        ("poll_interval", "0"),
    ),
    "create_endpoint/repository": (
        lambda tmp: HfCreateInferenceEndpointOperator(task_id="t", name="ep", repository="a/b/c"),
        ("repository", "a/b/c"),
    ),
    "create_endpoint/if_exists": (
        lambda tmp: HfCreateInferenceEndpointOperator(
            task_id="t", name="ep", repository="alice/m", if_exists="replace"
        ),
        ("if_exists", "replace"),
    ),
    "create_endpoint/poll_interval": (
        lambda tmp: HfCreateInferenceEndpointOperator(
            task_id="t", name="ep", repository="alice/m", poll_interval=-1
        ),
        ("poll_interval", "-1"),
    ),
    "create_webhook/url": (
        lambda tmp: HfCreateWebhookOperator(
            task_id="t", url="ftp://example.com/hook", watched=[{"type": "model", "name": "alice/m"}]
        ),
        ("url", "ftp://example.com/hook"),
    ),
    "create_webhook/domains": (
        lambda tmp: HfCreateWebhookOperator(
            task_id="t",
            url="https://example.com/hook",
            watched=[{"type": "model", "name": "alice/m"}],
            domains=["commits"],
        ),
        ("domains", "commits"),
    ),
    "create_webhook/watched": (
        lambda tmp: HfCreateWebhookOperator(task_id="t", url="https://example.com/hook", watched=[]),
        ("watched", "empty list"),
    ),
    "accept_access/repo_id": (
        lambda tmp: HfAcceptAccessRequestsOperator(task_id="t", repo_id="no-namespace", allow_users=["bob"]),
        ("repo_id", "no-namespace"),
    ),
    "accept_access/allow_email_domains": (
        lambda tmp: HfAcceptAccessRequestsOperator(task_id="t", repo_id="alice/m", allow_email_domains=[""]),
        ("allow_email_domains", "''"),
    ),
    "grant_access/users": (
        lambda tmp: HfGrantAccessOperator(task_id="t", repo_id="alice/m", users=[]),
        ("users", "empty list"),
    ),
}


def _run(operator: Any) -> Any:
    context = {"ti": _TaskInstance()}
    if hasattr(operator, "poke"):
        return operator.poke(context)
    return operator.execute(context)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_argument_is_named_with_its_value_before_any_request(
    case: str, hub_connection: Any, tmp_path: Path
) -> None:
    build, expected = CASES[case]
    hub_connection.reset_counts()
    with pytest.raises((ValueError, TypeError, AirflowException)) as raised:
        _run(build(tmp_path))
    message = str(raised.value)
    for text in expected:
        assert text in message, f"{case}: {text!r} missing from the error {message!r}"
    assert hub_connection.request_count() == 0, f"{case}: a request was sent before validation"
