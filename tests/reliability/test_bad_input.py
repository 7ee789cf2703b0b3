"""Bad input fails with a clear error naming the field and the value, before any network call.

Each case builds an operator with one bad argument and runs it (``execute``, or ``poke`` for sensors)
with a minimal context; the emulator's request counter proves no request was sent, and the transfers'
S3 hook, made to fail if touched, that no S3 client was even built. A few arguments are rejected when
the operator is built (DAG-parse time), which is earlier still. Secret values never appear in an error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_hub.decorators.hf_job import hf_job_task
from airflow_provider_hub.operators.access import HfAcceptAccessRequestsOperator, HfGrantAccessOperator
from airflow_provider_hub.operators.endpoints import (
    HfCreateInferenceEndpointOperator,
    HfDeleteInferenceEndpointOperator,
    HfPauseInferenceEndpointOperator,
    HfResumeInferenceEndpointOperator,
    HfScaleToZeroInferenceEndpointOperator,
    HfUpdateInferenceEndpointOperator,
)
from airflow_provider_hub.operators.inference_providers import HfChooseInferenceProviderOperator
from airflow_provider_hub.operators.jobs import HfRunJobOperator
from airflow_provider_hub.operators.repo import (
    HfCreateCommitOperator,
    HfCreateRepoOperator,
    HfCreateTagOperator,
    HfDownloadOperator,
    HfUploadFolderOperator,
    HfUploadLargeFolderOperator,
)
from airflow_provider_hub.operators.webhooks import HfCreateWebhookOperator
from airflow_provider_hub.sensors.endpoints import HfInferenceEndpointSensor
from airflow_provider_hub.sensors.inference_providers import HfInferenceProviderSensor
from airflow_provider_hub.sensors.jobs import HfJobSensor
from airflow_provider_hub.sensors.repo import HfRepoFileSensor
from airflow_provider_hub.transfers._s3 import HubS3TransferOperator
from airflow_provider_hub.transfers.hub_to_s3 import HfHubToS3Operator
from airflow_provider_hub.transfers.s3_to_hub import S3ToHfHubOperator

JOB = {"image": "python:3.12", "command": ["python", "-c", "print(1)"]}
ADD = {"op": "add", "path_in_repo": "a.txt", "content": "a"}
#: A secret value next to the bad one: an error quoting the whole dict would show it.
SECRET = "hf_never_in_an_error_0123456789"


class _TaskInstance:
    dag_id, task_id, run_id, map_index, try_number = "bad_input", "task", "manual__1", -1, 1

    def xcom_push(self, key: str, value: Any) -> None:
        raise AssertionError(f"nothing may be pushed before validation passed; got {key}={value!r}")


def _folder(tmp_path: Path) -> str:
    (tmp_path / "ok.txt").write_text("ok")
    return str(tmp_path)


def _huge_file_folder(tmp_path: Path) -> str:
    """A folder with one (sparse) file past the Hub's 50 GB limit: refused without reading it."""
    (tmp_path / "shards").mkdir()
    with open(tmp_path / "shards" / "huge.bin", "wb") as handle:
        handle.truncate(50 * 10**9 + 1)
    return str(tmp_path)


def _large(tmp: Path, **kwargs: Any) -> HfUploadLargeFolderOperator:
    arguments = {
        "task_id": "t",
        "repo_id": "alice/corpus",
        "repo_type": "dataset",
        "folder_path": _folder(tmp),
    }
    return HfUploadLargeFolderOperator(**{**arguments, **kwargs})


def _hf_job(*args: Any, **decorator_kwargs: Any) -> Any:
    """The operator ``@task.hf_job(**decorator_kwargs)`` makes of a call with ``args``."""

    def sort_values(values: Any) -> list[Any]:
        return sorted(values)

    return hf_job_task(**decorator_kwargs)(sort_values)(*args).operator


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
    "upload_folder/commit_message": (
        lambda tmp: HfUploadFolderOperator(
            task_id="t", repo_id="alice/m", folder_path=_folder(tmp), commit_message="  "
        ),
        ("commit_message", "'  '"),
    ),
    "upload_folder/revision": (
        lambda tmp: HfUploadFolderOperator(
            task_id="t", repo_id="alice/m", folder_path=_folder(tmp), revision="my branch"
        ),
        ("revision", "my branch"),
    ),
    "upload_folder/create_pr": (
        lambda tmp: HfUploadFolderOperator(
            task_id="t", repo_id="alice/m", folder_path=_folder(tmp), create_pr="false"
        ),
        ("create_pr", "'false'"),
    ),
    "upload_folder/hash_cache": (
        lambda tmp: HfUploadFolderOperator(
            task_id="t", repo_id="alice/m", folder_path=_folder(tmp), hash_cache="false"
        ),
        ("hash_cache", "'false'"),
    ),
    "upload_large_folder/repo_type missing": (
        lambda tmp: HfUploadLargeFolderOperator(
            task_id="t", repo_id="alice/corpus", folder_path=_folder(tmp)
        ),
        ("repo_type",),
    ),
    "upload_large_folder/repo_type": (lambda tmp: _large(tmp, repo_type=""), ("repo_type", "''")),
    "upload_large_folder/folder_path": (
        lambda tmp: _large(tmp, folder_path=str(tmp / "nope")),
        ("folder_path", "nope"),
    ),
    "upload_large_folder/repo_id": (lambda tmp: _large(tmp, repo_id="a/b/c"), ("repo_id", "a/b/c")),
    "upload_large_folder/num_workers": (
        lambda tmp: _large(tmp, num_workers="many"),
        ("num_workers", "'many'"),
    ),
    "upload_large_folder/private": (lambda tmp: _large(tmp, private="true"), ("private", "'true'")),
    "upload_large_folder/ignore_patterns": (
        lambda tmp: _large(tmp, ignore_patterns=[None]),
        ("ignore_patterns", "[None]"),
    ),
    "upload_large_folder/file past 50 GB": (
        lambda tmp: _large(tmp, folder_path=_huge_file_folder(tmp)),
        ("shards/huge.bin", "50,000,000,001 bytes"),
    ),
    "download/destination": (
        lambda tmp: HfDownloadOperator(task_id="t", repo_id="alice/m", destination="models/latest"),
        ("destination", "models/latest"),
    ),
    "download/destination.protocol": (
        lambda tmp: HfDownloadOperator(task_id="t", repo_id="alice/m", destination="s4://bucket/m"),
        ("destination", "s4://bucket/m"),
    ),
    "download/storage_conn_id": (
        lambda tmp: HfDownloadOperator(
            task_id="t", repo_id="alice/m", destination=str(tmp / "m"), storage_conn_id="aws_default"
        ),
        ("storage_conn_id", "aws_default"),
    ),
    "download/subfolder": (
        lambda tmp: HfDownloadOperator(
            task_id="t", repo_id="alice/m", destination=str(tmp), subfolder="a/../.."
        ),
        ("subfolder", "a/../.."),
    ),
    "download/revision": (
        lambda tmp: HfDownloadOperator(
            task_id="t", repo_id="alice/m", destination=str(tmp), revision="v1 rc"
        ),
        ("revision", "v1 rc"),
    ),
    "download/ignore_patterns": (
        lambda tmp: HfDownloadOperator(
            task_id="t", repo_id="alice/m", destination=str(tmp), ignore_patterns={"*.bin": True}
        ),
        ("ignore_patterns", "{'*.bin': True}"),
    ),
    "download/repo_id": (
        lambda tmp: HfDownloadOperator(task_id="t", repo_id="alice/bad name", destination=str(tmp)),
        ("repo_id", "alice/bad name"),
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
    "create_commit/commit_message": (
        lambda tmp: HfCreateCommitOperator(
            task_id="t", repo_id="alice/m", operations=[ADD], commit_message=""
        ),
        ("commit_message", "''"),
    ),
    "create_commit/revision": (
        lambda tmp: HfCreateCommitOperator(
            task_id="t", repo_id="alice/m", operations=[ADD], commit_message="m", revision="main..dev"
        ),
        ("revision", "main..dev"),
    ),
    "create_commit/create_pr": (
        lambda tmp: HfCreateCommitOperator(
            task_id="t", repo_id="alice/m", operations=[ADD], commit_message="m", create_pr="yes"
        ),
        ("create_pr", "'yes'"),
    ),
    "create_tag/tag": (
        lambda tmp: HfCreateTagOperator(task_id="t", repo_id="alice/m", tag="v1 final"),
        ("tag", "v1 final"),
    ),
    "repo_file_sensor/path_in_repo": (
        lambda tmp: HfRepoFileSensor(task_id="t", repo_id="alice/m", path_in_repo=".git/config"),
        ("path_in_repo", ".git/config"),
    ),
    "repo_file_sensor/revision": (
        lambda tmp: HfRepoFileSensor(
            task_id="t", repo_id="alice/m", path_in_repo="model.safetensors", revision="v1:final"
        ),
        ("revision", "v1:final"),
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
    "run_job/secrets": (
        lambda tmp: HfRunJobOperator(task_id="t", secrets={"HF_TOKEN": SECRET, "RETRIES": 3}, **JOB),
        ("secrets", "values not shown"),
    ),
    "run_job/flavor": (
        lambda tmp: HfRunJobOperator(task_id="t", flavor="A10G Small", **JOB),
        ("flavor", "A10G Small"),
    ),
    "run_job/namespace": (
        lambda tmp: HfRunJobOperator(task_id="t", namespace="acme/team", **JOB),
        ("namespace", "acme/team"),
    ),
    "hf_job_decorator/arguments": (
        lambda tmp: _hf_job({3, 1, 2}),
        ("JSON-serializable", "args[0]", "{1, 2, 3}"),
    ),
    "hf_job_decorator/flavor": (
        lambda tmp: _hf_job([3, 1, 2], flavor="a10g_small"),
        ("flavor", "a10g_small"),
    ),
    "hf_job_decorator/timeout": (
        lambda tmp: _hf_job([3, 1, 2], timeout="-5m"),
        ("timeout", "-5m"),
    ),
    "job_sensor/job_id": (
        lambda tmp: HfJobSensor(task_id="t", job_id="  "),
        ("job_id", "'  '"),
    ),
    "job_sensor/target_stages": (
        lambda tmp: HfJobSensor(task_id="t", job_id="abc123", target_stages=["DONE"]),
        ("target_stages", "DONE"),
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
    "create_endpoint/min_replica": (
        lambda tmp: HfCreateInferenceEndpointOperator(
            task_id="t", name="ep", repository="alice/m", min_replica="two"
        ),
        ("min_replica", "two"),
    ),
    "update_endpoint/name": (
        lambda tmp: HfUpdateInferenceEndpointOperator(task_id="t", name="support bot", revision="main"),
        ("name", "support bot"),
    ),
    "update_endpoint/nothing_to_update": (
        lambda tmp: HfUpdateInferenceEndpointOperator(task_id="t", name="ep"),
        ("nothing to update", "revision", "min_replica"),
    ),
    "update_endpoint/min_replica": (
        lambda tmp: HfUpdateInferenceEndpointOperator(task_id="t", name="ep", min_replica=-1),
        ("min_replica", "-1"),
    ),
    "update_endpoint/max_replica": (
        lambda tmp: HfUpdateInferenceEndpointOperator(task_id="t", name="ep", min_replica=3, max_replica=1),
        ("max_replica", "max_replica=1", "min_replica=3"),
    ),
    "update_endpoint/secrets": (
        lambda tmp: HfUpdateInferenceEndpointOperator(
            task_id="t", name="ep", secrets={"HF_TOKEN": SECRET, "PORT": 8080}
        ),
        ("secrets", "values not shown"),
    ),
    "update_endpoint/namespace": (
        lambda tmp: HfUpdateInferenceEndpointOperator(
            task_id="t", name="ep", namespace="acme corp", revision="main"
        ),
        ("namespace", "acme corp"),
    ),
    "pause_endpoint/name": (
        lambda tmp: HfPauseInferenceEndpointOperator(task_id="t", name=""),
        ("name", "''"),
    ),
    "pause_endpoint/wait_timeout": (
        lambda tmp: HfPauseInferenceEndpointOperator(task_id="t", name="ep", wait_timeout=0),
        ("wait_timeout", "0"),
    ),
    "resume_endpoint/name": (
        lambda tmp: HfResumeInferenceEndpointOperator(task_id="t", name="acme/ep"),
        ("name", "acme/ep"),
    ),
    "resume_endpoint/namespace": (
        lambda tmp: HfResumeInferenceEndpointOperator(task_id="t", name="ep", namespace="-acme"),
        ("namespace", "-acme"),
    ),
    "scale_to_zero_endpoint/name": (
        lambda tmp: HfScaleToZeroInferenceEndpointOperator(task_id="t", name=None),
        ("name", "None"),
    ),
    "scale_to_zero_endpoint/poll_interval": (
        lambda tmp: HfScaleToZeroInferenceEndpointOperator(task_id="t", name="ep", poll_interval=0),
        ("poll_interval", "0"),
    ),
    "delete_endpoint/name": (
        lambda tmp: HfDeleteInferenceEndpointOperator(task_id="t", name=" "),
        ("name", "' '"),
    ),
    "delete_endpoint/namespace": (
        lambda tmp: HfDeleteInferenceEndpointOperator(task_id="t", name="ep", namespace="acme/team"),
        ("namespace", "acme/team"),
    ),
    "endpoint_sensor/target_status": (
        lambda tmp: HfInferenceEndpointSensor(task_id="t", name="ep", target_status="ready"),
        ("target_status", "ready"),
    ),
    "endpoint_sensor/name": (
        lambda tmp: HfInferenceEndpointSensor(task_id="t", name=""),
        ("name", "''"),
    ),
    "choose_provider/strategy": (
        lambda tmp: HfChooseInferenceProviderOperator(task_id="t", model_id="alice/m", strategy="cheap"),
        ("strategy", "cheap"),
    ),
    "choose_provider/model_id": (
        lambda tmp: HfChooseInferenceProviderOperator(task_id="t", model_id="alice/m/extra"),
        ("model_id", "alice/m/extra"),
    ),
    "choose_provider/min_context_length": (
        lambda tmp: HfChooseInferenceProviderOperator(
            task_id="t", model_id="alice/m", min_context_length="32k"
        ),
        ("min_context_length", "32k"),
    ),
    "choose_provider/require_tools": (
        lambda tmp: HfChooseInferenceProviderOperator(task_id="t", model_id="alice/m", require_tools="False"),
        ("require_tools", "'False'"),
    ),
    "provider_sensor/model_id": (
        lambda tmp: HfInferenceProviderSensor(task_id="t", model_id="a/b/c"),
        ("model_id", "a/b/c"),
    ),
    "provider_sensor/providers": (
        lambda tmp: HfInferenceProviderSensor(task_id="t", model_id="alice/m", providers=["together", ""]),
        ("providers", "['together', '']"),
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
    "s3_to_hub/s3_bucket": (
        lambda tmp: S3ToHfHubOperator(
            task_id="t", s3_bucket="s3://warehouse/exports", s3_prefix="exports/", repo_id="alice/m"
        ),
        ("s3_bucket", "s3://warehouse/exports"),
    ),
    "s3_to_hub/s3_keys": (
        lambda tmp: S3ToHfHubOperator(task_id="t", s3_bucket="warehouse", s3_keys="a.csv", repo_id="alice/m"),
        ("s3_keys", "'a.csv'"),
    ),
    "s3_to_hub/repo_id": (
        lambda tmp: S3ToHfHubOperator(task_id="t", s3_bucket="warehouse", s3_prefix="x/", repo_id="alice/m!"),
        ("repo_id", "alice/m!"),
    ),
    "s3_to_hub/hash_cache": (
        lambda tmp: S3ToHfHubOperator(
            task_id="t", s3_bucket="warehouse", s3_prefix="x/", repo_id="alice/m", hash_cache="no"
        ),
        ("hash_cache", "'no'"),
    ),
    "s3_to_hub/path_in_repo": (
        lambda tmp: S3ToHfHubOperator(
            task_id="t", s3_bucket="warehouse", s3_prefix="x/", repo_id="alice/m", path_in_repo="../up"
        ),
        ("path_in_repo", "../up"),
    ),
    "hub_to_s3/s3_bucket": (
        lambda tmp: HfHubToS3Operator(task_id="t", repo_id="alice/m", s3_bucket="my bucket"),
        ("s3_bucket", "my bucket"),
    ),
    "hub_to_s3/s3_prefix": (
        lambda tmp: HfHubToS3Operator(task_id="t", repo_id="alice/m", s3_bucket="mirror", s3_prefix=2026),
        ("s3_prefix", "2026"),
    ),
    "hub_to_s3/repo_id": (
        lambda tmp: HfHubToS3Operator(task_id="t", repo_id="", s3_bucket="mirror"),
        ("repo_id", "''"),
    ),
    "hub_to_s3/allow_patterns": (
        lambda tmp: HfHubToS3Operator(task_id="t", repo_id="alice/m", s3_bucket="mirror", allow_patterns=[7]),
        ("allow_patterns", "[7]"),
    ),
}


def _run(operator: Any) -> Any:
    context = {"ti": _TaskInstance()}
    if hasattr(operator, "poke"):
        return operator.poke(context)
    return operator.execute(context)


def _no_s3(operator: HubS3TransferOperator) -> Any:
    raise AssertionError(f"{operator.task_id}: the S3 hook was built before validation passed")


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_argument_is_named_with_its_value_before_any_request(
    case: str, hub_connection: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build, expected = CASES[case]
    monkeypatch.setattr(HubS3TransferOperator, "s3_hook", property(_no_s3))
    hub_connection.reset_counts()
    with pytest.raises((ValueError, TypeError, AirflowException)) as raised:
        _run(build(tmp_path))
    message = str(raised.value)
    for text in expected:
        assert text in message, f"{case}: {text!r} missing from the error {message!r}"
    assert SECRET not in message, f"{case}: the error shows a secret value"
    assert hub_connection.request_count() == 0, f"{case}: a request was sent before validation"
