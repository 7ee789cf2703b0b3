"""HfRunJobOperator against the emulator: outcome, logs, timeout, cancel, deferral, reattach, secrets."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_provider_hub.exceptions import HfHubError
from airflow_provider_hub.operators.jobs import (
    INLINE_SCRIPT_MAX_BYTES,
    TI_LABEL,
    HfRunJobOperator,
    label_value,
    task_instance_labels,
)
from tests.helpers import task_states, xcom_value
from tests.support.jobs import _TaskInstance

START = pendulum.datetime(2026, 1, 1, tz="UTC")


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False)


def _api(hub):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.url, token=hub.token)


@pytest.fixture
def task_log_lines(monkeypatch) -> list[str]:
    """Every Job log line the operator writes to the task log, in order."""
    written: list[str] = []
    original = HfRunJobOperator._emit

    def record(self, line: str) -> None:
        written.append(line)
        original(self, line)

    monkeypatch.setattr(HfRunJobOperator, "_emit", record)
    return written


def test_completed_job_succeeds_and_returns_its_outcome(hub_connection, run_dag):
    hub_connection.set_job_plan(durations=(0.1, 0.3), logs=("loading", "training", "done"))
    with _dag("jobs_success") as dag:
        HfRunJobOperator(
            task_id="run",
            image="python:3.12",
            command=["python", "train.py"],
            labels={"team": "ml"},
            timeout="5m",
            poll_interval=0.2,
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"run": "success"}
    result = xcom_value(dag_run, "run")
    assert result["stage"] == "COMPLETED"
    assert result["url"] == f"{hub_connection.url}/jobs/alice/{result['job_id']}"
    assert xcom_value(dag_run, "run", key="hf_job_url") == result["url"]
    job = _api(hub_connection).inspect_job(job_id=result["job_id"], namespace="alice")
    assert job.labels["team"] == "ml"
    assert job.labels["airflow-dag"] == "jobs_success" and job.labels["airflow-task"] == "run"
    assert job.labels[TI_LABEL] == result["labels"][TI_LABEL]
    assert hub_connection.state.jobs.jobs[job.id].spec["timeoutSeconds"] == 300


@pytest.mark.parametrize("stage", ["ERROR", "CANCELED", "DELETED"])
def test_failed_job_fails_the_task_with_stage_url_and_last_lines(hub_connection, stage):
    hub_connection.set_job_plan(
        stages=("SCHEDULING", "RUNNING", stage), durations=(0.1, 0.2), logs=("step 1", "boom"), message="OOM"
    )
    op = HfRunJobOperator(task_id="run", image="python:3.12", command=["python", "x.py"], poll_interval=0.1)
    ti = _TaskInstance()
    with pytest.raises(HfHubError) as raised:
        op.execute({"ti": ti})
    message = str(raised.value)
    assert f"ended in stage {stage}" in message
    assert ti.xcom["hf_job_url"] in message
    assert "(OOM)" in message and message.endswith("step 1\nboom")


def test_logs_stream_live_in_order_without_duplicates(hub_connection, task_log_lines):
    lines = [f"line {i}" for i in range(12)]
    hub_connection.set_job_plan(durations=(0.1, 1.2), logs=lines)
    op = HfRunJobOperator(task_id="run", image="python:3.12", command=["python", "x.py"], poll_interval=0.3)
    seen_while_running: list[str] = []

    def watch():
        # Lines reach the task log while the Job still runs, not only at the end.
        time.sleep(0.9)
        seen_while_running.extend(task_log_lines)

    watcher = threading.Thread(target=watch)
    watcher.start()
    op.execute({"ti": _TaskInstance()})
    watcher.join()
    assert task_log_lines == lines
    assert 0 < len(seen_while_running) < len(lines)


def test_timeout_cancels_the_job_and_fails(hub_connection):
    hub_connection.set_job_plan(durations=(0.1, 30.0), logs=("slow",))
    op = HfRunJobOperator(
        task_id="run", image="python:3.12", command=["sleep", "30"], timeout=1, poll_interval=0.2
    )
    ti = _TaskInstance()
    started = time.monotonic()
    with pytest.raises(HfHubError, match="did not finish within timeout=1"):
        op.execute({"ti": ti})
    assert time.monotonic() - started < 5
    job = _api(hub_connection).inspect_job(job_id=op.job_id, namespace="alice")
    assert job.status.stage == "CANCELED"


def test_execution_timeout_cancels_the_job(hub_connection, run_dag):
    hub_connection.set_job_plan(durations=(0.1, 30.0))
    with _dag("jobs_execution_timeout") as dag:
        HfRunJobOperator(
            task_id="run",
            image="python:3.12",
            command=["sleep", "30"],
            poll_interval=0.2,
            execution_timeout=timedelta(seconds=2),
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"run": "failed"}
    (job,) = list(_api(hub_connection).list_jobs(namespace="alice"))
    assert job.status.stage == "CANCELED"


def test_on_kill_cancels_the_running_job(hub_connection):
    hub_connection.set_job_plan(durations=(0.1, 30.0))
    op = HfRunJobOperator(
        task_id="run", image="python:3.12", command=["sleep", "30"], wait_for_completion=False
    )
    result = op.execute({"ti": _TaskInstance()})
    assert result["stage"] == "SCHEDULING"
    op.on_kill()
    assert (
        _api(hub_connection).inspect_job(job_id=result["job_id"], namespace="alice").status.stage
        == "CANCELED"
    )


def test_deferrable_run_resumes_with_logs_and_outcome(hub_connection, run_dag, task_log_lines):
    hub_connection.set_job_plan(durations=(0.1, 0.4), logs=("epoch 1", "epoch 2"))
    with _dag("jobs_deferrable") as dag:
        HfRunJobOperator(
            task_id="run",
            image="python:3.12",
            command=["python", "train.py"],
            deferrable=True,
            poll_interval=0.2,
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"run": "success"}
    assert xcom_value(dag_run, "run")["stage"] == "COMPLETED"
    # Deferred, then resumed: the Job's log reached the task log whole, each line once.
    assert task_log_lines == ["epoch 1", "epoch 2"]


def test_deferrable_resume_writes_each_log_line_once(hub_connection, task_log_lines):
    hub_connection.set_job_plan(durations=(0.0, 0.1), logs=("a", "b", "c", "d"))
    op = HfRunJobOperator(task_id="run", image="python:3.12", command=["x"], wait_for_completion=False)
    started = op.execute({"ti": _TaskInstance()})
    time.sleep(0.3)
    event = {"status": "success", "job_id": started["job_id"], "namespace": "alice", "stage": "COMPLETED"}
    op.execute_complete({"ti": _TaskInstance()}, {**event, "log_lines_emitted": 1})
    assert task_log_lines == ["b", "c", "d"]


def test_a_resumed_task_masks_the_secrets_its_job_prints(hub_connection, task_log_lines):
    from airflow.sdk._shared.secrets_masker.secrets_masker import _secrets_masker
    from airflow.sdk.log import redact

    secret = "hf_resumed_secret_5521"
    hub_connection.set_job_plan(
        durations=(0.0, 0.1), logs=(f"using key {secret}",), message=f"finished with key {secret}"
    )
    op = HfRunJobOperator(
        task_id="run", image="i", command=["x"], secrets={"K": secret}, wait_for_completion=False
    )
    started = op.execute({"ti": _TaskInstance()})
    time.sleep(0.3)
    # A task resumes from deferral in a new process: nothing is registered with its masker yet.
    _secrets_masker().reset_masker()
    event = {"status": "success", "job_id": started["job_id"], "namespace": "alice", "stage": "COMPLETED"}
    result = op.execute_complete({"ti": _TaskInstance()}, event)
    assert redact(task_log_lines) == ["using key ***"]
    assert result["message"] == "finished with key ***"


def test_deferrable_failure_and_timeout_events(hub_connection):
    hub_connection.set_job_plan(durations=(0.1, 30.0))
    op = HfRunJobOperator(task_id="run", image="python:3.12", command=["x"], wait_for_completion=False)
    started = op.execute({"ti": _TaskInstance()})
    event = {"status": "timeout", "job_id": started["job_id"], "namespace": "alice", "stage": "RUNNING"}
    with pytest.raises(HfHubError, match="Timed out"):
        op.execute_complete({"ti": _TaskInstance()}, {**event, "message": "Timed out waiting for the Job"})
    assert (
        _api(hub_connection).inspect_job(job_id=started["job_id"], namespace="alice").status.stage
        == "CANCELED"
    )


_CRASHING_WORKER = """
import sys
from airflow_provider_hub.operators.jobs import HfRunJobOperator
from tests.support.jobs import _TaskInstance

op = HfRunJobOperator(task_id="train", image="python:3.12", command=["python", "t.py"], poll_interval=0.1)
op.execute({"ti": _TaskInstance(try_number=1)})
"""


def test_reattach_after_worker_crash_starts_no_second_job(hub_connection):
    """Try 1 starts the Job and its worker process is killed; try 2 waits on the same Job: one Job in all."""
    hub_connection.set_job_plan(durations=(0.1, 2.0), logs=("working",))
    worker = subprocess.Popen([sys.executable, "-c", _CRASHING_WORKER], cwd=Path(__file__).parents[2])
    try:
        deadline = time.monotonic() + 60
        while not list(_api(hub_connection).list_jobs(namespace="alice", status="RUNNING")):
            assert worker.poll() is None and time.monotonic() < deadline, "the worker never started its Job"
            time.sleep(0.1)
    finally:
        worker.kill()  # the crash: no on_kill, no cleanup
        worker.wait()
    (started,) = list(_api(hub_connection).list_jobs(namespace="alice"))
    assert started.status.stage == "RUNNING"
    assert hub_connection.request_count("/api/jobs/alice", method="POST") == 1

    retry = HfRunJobOperator(
        task_id="train", image="python:3.12", command=["python", "t.py"], poll_interval=0.2
    )
    result = retry.execute({"ti": _TaskInstance(try_number=2)})
    assert result["reattached"] is True and result["job_id"] == started.id
    assert result["stage"] == "COMPLETED"
    assert hub_connection.request_count("/api/jobs/alice", method="POST") == 1
    assert len(list(_api(hub_connection).list_jobs(namespace="alice"))) == 1

    # Try 3 of a task whose Job completed returns it again without running anything.
    again = HfRunJobOperator(
        task_id="train", image="python:3.12", command=["python", "t.py"], poll_interval=0.2
    )
    assert again.execute({"ti": _TaskInstance(try_number=3)})["job_id"] == started.id
    assert hub_connection.request_count("/api/jobs/alice", method="POST") == 1


def test_retry_after_failed_job_starts_a_new_one(hub_connection):
    hub_connection.set_job_plan(stages=("SCHEDULING", "ERROR"), durations=(0.1,))
    op = HfRunJobOperator(task_id="train", image="python:3.12", command=["x"], poll_interval=0.1)
    with pytest.raises(HfHubError):
        op.execute({"ti": _TaskInstance()})
    hub_connection.set_job_plan(durations=(0.1, 0.1))
    retry = HfRunJobOperator(task_id="train", image="python:3.12", command=["x"], poll_interval=0.1)
    result = retry.execute({"ti": _TaskInstance(try_number=2)})
    assert result["reattached"] is False and result["job_id"] != op.job_id
    assert hub_connection.request_count("/api/jobs/alice", method="POST") == 2


def test_secrets_reach_the_job_only_as_secrets(hub_connection, run_dag, capsys, caplog, monkeypatch):
    secret = "hf_job_secret_value_8731"
    monkeypatch.setenv("AIRFLOW_CONN_JOB_SECRET", json.dumps({"conn_type": "generic", "password": secret}))
    # The Job prints its secret, then fails: the line must be masked in the task log and the error.
    hub_connection.set_job_plan(
        stages=("SCHEDULING", "RUNNING", "ERROR"), durations=(0.1, 0.2), logs=(f"using key {secret}",)
    )
    with _dag("jobs_secrets") as dag:
        HfRunJobOperator(
            task_id="run",
            image="python:3.12",
            command=["python", "x.py"],
            env={"PLAIN": "1"},
            secrets={"API_KEY": "{{ conn.job_secret.password }}"},
            poll_interval=0.1,
            retries=0,
        )
    with caplog.at_level(logging.DEBUG):
        dag_run = run_dag(dag)
    assert task_states(dag_run) == {"run": "failed"}
    (job,) = list(_api(hub_connection).list_jobs(namespace="alice"))
    assert job.secrets == {"API_KEY": "******"} and job.environment == {"PLAIN": "1"}
    assert hub_connection.state.jobs.jobs[job.id].spec["secrets"] == {"API_KEY": secret}
    captured = capsys.readouterr()
    console = captured.out + captured.err + caplog.text
    # dag.test() prints task logs to the console unmasked (Airflow masks in the supervised task log
    # path): check that the operator registered the secret with the masker that path applies.
    from airflow.sdk.log import redact

    assert f"using key {secret}" in console
    masked_log = str(redact(console))
    assert "using key ***" in masked_log and secret not in masked_log
    from airflow import settings
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel

    with settings.Session() as session:
        xcoms = [
            json.dumps(XComModel.deserialize_value(x), default=str)
            for x in session.query(XComModel).filter(XComModel.dag_id == "jobs_secrets")
        ]
        rendered = [
            json.dumps(r.rendered_fields, default=str)
            for r in session.query(RenderedTaskInstanceFields).filter(
                RenderedTaskInstanceFields.dag_id == "jobs_secrets"
            )
        ]
    assert xcoms and not any(secret in x for x in xcoms)
    assert rendered and '"secrets": "***"' in rendered[0] or '"API_KEY": "***"' in rendered[0]
    assert not any(secret in r for r in rendered)

    # The exception message quotes the Job's last log lines: masked too.
    op = HfRunJobOperator(
        task_id="direct", image="i", command=["x"], secrets={"K": secret}, poll_interval=0.1
    )
    with pytest.raises(HfHubError) as raised:
        op.execute({"ti": _TaskInstance()})
    assert "using key ***" in str(raised.value) and secret not in str(raised.value)


def test_inline_script_runs_without_upload_and_size_is_limited(hub_connection):
    hub_connection.set_job_plan(durations=(0.0, 0.1))
    op = HfRunJobOperator(
        task_id="s",
        script="import sys\nprint(sys.argv[1:])",
        script_args=["1"],
        dependencies=["numpy"],
        python="3.12",
    )
    result = op.execute({"ti": _TaskInstance()})
    job = _api(hub_connection).inspect_job(job_id=result["job_id"], namespace="alice")
    assert job.command == [
        "uv",
        "run",
        "--with",
        "numpy",
        "--python",
        "3.12",
        "python",
        "-c",
        "import sys\nprint(sys.argv[1:])",
        "1",
    ]
    assert job.docker_image.startswith("ghcr.io/astral-sh/uv")
    assert hub_connection.request_count("/api/buckets/*") == 0

    too_big = HfRunJobOperator(task_id="big", script="x = 1\n" * (INLINE_SCRIPT_MAX_BYTES // 6 + 1))
    with pytest.raises(ValueError, match=rf"script is \d+ bytes.*limited to {INLINE_SCRIPT_MAX_BYTES} bytes"):
        too_big.execute({"ti": _TaskInstance()})
    assert hub_connection.request_count("/api/jobs/alice", method="POST") == 1


def test_url_script_goes_through_uv(hub_connection):
    hub_connection.set_job_plan(durations=(0.0, 0.1))
    op = HfRunJobOperator(task_id="s", script="https://example.com/train.py", script_args=["--x", "1"])
    result = op.execute({"ti": _TaskInstance()})
    job = _api(hub_connection).inspect_job(job_id=result["job_id"], namespace="alice")
    assert job.command == ["uv", "run", "https://example.com/train.py", "--x", "1"]


def test_bad_input_fails_before_any_call(hub_connection):
    with pytest.raises(ValueError, match="either command"):
        HfRunJobOperator(task_id="a", image="i", command=["x"], script="print(1)")
    with pytest.raises(ValueError, match="image is required"):
        HfRunJobOperator(task_id="b", command=["x"])
    with pytest.raises(ValueError, match="secrets must be a dict"):
        HfRunJobOperator(task_id="c", image="i", command=["x"], secrets={"A": 1})
    op = HfRunJobOperator(task_id="d", image="i", command=["x"], timeout="soon")
    with pytest.raises(ValueError, match="timeout must be.*'soon'"):
        op.execute({"ti": _TaskInstance()})
    assert hub_connection.request_count("/api/jobs/*") == 0


def test_label_values_are_safe_and_distinct():
    long_run = "scheduled__2026-01-01T00:00:00+00:00" + "x" * 80
    assert label_value("simple-run_1.0") == "simple-run_1.0"
    safe = label_value(long_run)
    assert len(safe) <= 63 and all(c.isalnum() or c in "._-" for c in safe)
    assert label_value(long_run + "y") != safe
    labels = task_instance_labels(_TaskInstance(run_id=long_run))
    assert labels["airflow-run"] == safe and len(labels[TI_LABEL]) == 32


@pytest.mark.parametrize("limit", [{"timeout": 1}, {"execution_timeout": timedelta(seconds=3)}])
def test_deferrable_timeout_cancels_the_job(hub_connection, run_dag, limit):
    hub_connection.set_job_plan(durations=(0.1, 30.0))
    dag_id = f"jobs_deferrable_{next(iter(limit))}"
    with _dag(dag_id) as dag:
        HfRunJobOperator(
            task_id="run",
            image="i",
            command=["sleep"],
            deferrable=True,
            poll_interval=0.2,
            retries=0,
            **limit,
        )
    started = time.monotonic()
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"run": "failed"}
    assert time.monotonic() - started < 20
    (job,) = list(_api(hub_connection).list_jobs(namespace="alice"))
    # The Hub enforces a Job's own `timeout` as well (ending it in ERROR): whichever acts first stops it.
    assert job.status.stage in ({"CANCELED", "ERROR"} if "timeout" in limit else {"CANCELED"})


def test_without_log_streaming_the_failure_still_quotes_the_log(hub_connection, task_log_lines):
    hub_connection.set_job_plan(
        stages=("SCHEDULING", "RUNNING", "ERROR"), durations=(0.0, 0.2), logs=("oops",)
    )
    op = HfRunJobOperator(task_id="run", image="i", command=["x"], stream_logs=False, poll_interval=0.1)
    with pytest.raises(HfHubError, match="(?s)ended in stage ERROR.*oops"):
        op.execute({"ti": _TaskInstance()})
    assert task_log_lines == []
    assert hub_connection.request_count("/api/jobs/alice/*/logs") == 1
