"""Secrets never leak: the token, a webhook secret and Job/Endpoint secrets appear 0 times anywhere.

End-to-end DAG runs (real ``dag.test()``) publish with the connection's token, run a Job and create an
Inference Endpoint with secrets taken from an Airflow connection by template, and create a webhook with a
secret connection; a second DAG run fails a Job that printed its secret. Then every place those values
could land is scanned: the task logs (files under ``AIRFLOW_HOME/logs`` and everything written to this
process's stdout/stderr), every row of the ``xcom`` and ``rendered_task_instance_fields`` tables, and the
exception texts of the failed tasks (also raised directly, where ``dag.test()`` only logs them).

On a worker the task process's log lines pass through Airflow's ``mask_logs`` processor (in the supervisor)
before they reach the log file; ``dag.test()`` writes them straight to stdout without it, for any operator.
The ``worker_log_masking`` fixture puts that one processor back, so the scan sees what a worker would write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_hub.operators.endpoints import HfCreateInferenceEndpointOperator
from airflow_provider_hub.operators.jobs import HfRunJobOperator
from airflow_provider_hub.operators.repo import HfCreateRepoOperator, HfUploadFolderOperator
from airflow_provider_hub.operators.spaces import HfUpdateSpaceOperator
from airflow_provider_hub.operators.webhooks import HfCreateWebhookOperator
from tests.helpers import task_states
from tests.reliability._support import make_model_folder
from tests.secrets_scan import assert_no_secret_in, dag_test_places, distinctive_secret, exception_texts

JOB_SECRET = distinctive_secret("jobsecret")
ENDPOINT_SECRET = distinctive_secret("endpointsecret")
SPACE_SECRET = distinctive_secret("spacesecret")
WEBHOOK_SECRET = distinctive_secret("whsecret")


@pytest.fixture
def worker_log_masking() -> Iterator[None]:
    """Add Airflow's ``mask_logs`` (what the supervisor applies to task logs) to the structlog chain."""
    import structlog
    from airflow.sdk.log import mask_logs

    processors = list(structlog.get_config()["processors"])
    structlog.configure(processors=[*processors[:-1], mask_logs, processors[-1]])
    yield
    structlog.configure(processors=processors)


@pytest.fixture
def secret_connections(hub_connection: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Airflow connections holding the secrets, as a DAG author would store them."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_JOB_SECRETS", json.dumps({"conn_type": "generic", "password": JOB_SECRET})
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_ENDPOINT_SECRETS", json.dumps({"conn_type": "generic", "password": ENDPOINT_SECRET})
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_SPACE_SECRETS", json.dumps({"conn_type": "generic", "password": SPACE_SECRET})
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_WEBHOOK_SECRET", json.dumps({"conn_type": "generic", "password": WEBHOOK_SECRET})
    )
    return {
        "token": hub_connection.token,
        "job": JOB_SECRET,
        "endpoint": ENDPOINT_SECRET,
        "space": SPACE_SECRET,
        "webhook": WEBHOOK_SECRET,
    }


def secret_using_dag(folder: Path) -> Any:
    from airflow.sdk import DAG

    with DAG("secrets_e2e", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
        create = HfCreateRepoOperator(task_id="create_repo", repo_id="alice/secret-model")
        upload = HfUploadFolderOperator(
            task_id="upload", repo_id="alice/secret-model", folder_path=str(folder)
        )
        job = HfRunJobOperator(
            task_id="job",
            image="python:3.12",
            command=["python", "train.py"],
            secrets={"API_KEY": "{{ conn.job_secrets.password }}"},
            poll_interval=0.1,
        )
        endpoint = HfCreateInferenceEndpointOperator(
            task_id="endpoint",
            name="secret-endpoint",
            repository="alice/secret-model",
            secrets={"API_KEY": "{{ conn.endpoint_secrets.password }}"},
            poll_interval=0.1,
        )
        webhook = HfCreateWebhookOperator(
            task_id="webhook",
            url="http://127.0.0.1:9/hf-webhook",
            watched=[{"type": "model", "name": "alice/secret-model"}],
            secret_conn_id="hf_webhook_secret",
        )
        space = HfCreateRepoOperator(
            task_id="create_space", repo_id="alice/secret-space", repo_type="space", space_sdk="gradio"
        ) >> HfUpdateSpaceOperator(
            task_id="space",
            repo_id="alice/secret-space",
            secrets={"API_KEY": "{{ conn.space_secrets.password }}"},
        )
        create >> upload >> [job, endpoint, webhook, space]
    return dag


def failing_job_dag() -> Any:
    from airflow.sdk import DAG

    with DAG(
        "secrets_failing", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False
    ) as dag:
        HfRunJobOperator(
            task_id="leaky_job",
            image="python:3.12",
            command=["python", "train.py"],
            secrets={"API_KEY": "{{ conn.job_secrets.password }}"},
            poll_interval=0.1,
        )
    return dag


def test_no_secret_in_logs_xcom_rendered_fields_or_errors(
    secret_connections: dict[str, str],
    worker_log_masking: None,
    hub_connection: Any,
    run_dag: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    hub = hub_connection
    # The Job prints its secret, as careless user code does: the task log must show it masked.
    hub.set_job_plan(durations=(0.1, 0.2), logs=(f"connecting with API_KEY={JOB_SECRET}", "done"))
    hub.set_endpoint_plan("secret-endpoint", [("pending", 0.1), ("initializing", 0.1), ("running", None)])
    ok_run = run_dag(secret_using_dag(make_model_folder(tmp_path / "model", small_files=2)))
    assert set(task_states(ok_run).values()) == {"success"}, task_states(ok_run)

    hub.set_job_plan(
        stages=("SCHEDULING", "RUNNING", "ERROR"),
        durations=(0.1, 0.2),
        logs=(f"API_KEY={JOB_SECRET}", f"Traceback: bad key {JOB_SECRET}"),
        message=f"crashed with {JOB_SECRET}",
    )
    failed_run = run_dag(failing_job_dag())
    assert task_states(failed_run) == {"leaky_job": "failed"}

    # dag.test() logs a failed task's exception; raise one directly too, to read its text as such.
    from airflow.sdk import Connection

    from airflow_provider_hub.exceptions import HfHubError

    failing = HfRunJobOperator(
        task_id="direct",
        image="python:3.12",
        command=["python", "train.py"],
        secrets={"API_KEY": Connection.get("job_secrets").password},
        poll_interval=0.1,
    )

    class TaskInstance:
        dag_id, task_id, run_id, map_index, try_number = "secrets_direct", "direct", "manual__1", -1, 1

        def xcom_push(self, key: str, value: Any) -> None:
            pass

    with pytest.raises(HfHubError) as raised:
        failing.execute({"ti": TaskInstance()})
    assert "Last log lines" in str(raised.value)  # the message does carry the Job's output, masked

    captured = capfd.readouterr()
    places = {**dag_test_places(captured), "exception": [str(raised.value), repr(raised.value)]}
    assert_no_secret_in(places, secret_connections)
    # The scan did look at task output: the masked Job log line is there.
    assert "connecting with API_KEY=***" in captured.out + captured.err


def test_no_token_in_the_exception_of_a_failed_filesystem_read(
    hub_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hf://`` reads that fail (a missing file; a private repo another user's token cannot see) say so
    without the token, also when the connection's token was pasted with a trailing newline."""
    from airflow.sdk import ObjectStoragePath
    from huggingface_hub import HfApi

    HfApi(endpoint=hub_connection.url, token=hub_connection.token).create_repo("alice/private", private=True)
    other_token = hub_connection.add_user("mallory", token=distinctive_secret("hf_mallory"))
    tokens = {"alice": hub_connection.token, "mallory": other_token}
    for user, token in tokens.items():
        monkeypatch.setenv(
            f"AIRFLOW_CONN_HF_{user.upper()}",
            json.dumps(
                {"conn_type": "huggingface_hub", "host": hub_connection.url, "password": f"{token}\n"}
            ),
        )
    failures = []
    for user, missing in (("alice", "missing.txt"), ("mallory", "config.json")):
        # fsspec reports a missing file and a repo the token cannot see as OSErrors (FileNotFoundError).
        with pytest.raises(OSError) as raised:
            ObjectStoragePath(f"hf://models/alice/private/{missing}", conn_id=f"hf_{user}").read_text()
        failures += exception_texts(raised.value)
    assert_no_secret_in({"filesystem exceptions": failures}, tokens)
