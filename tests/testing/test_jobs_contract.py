"""The Jobs area of the emulator, driven by the unmodified huggingface_hub client."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import httpx
import pytest

from airflow_provider_hub.testing import HubEmulator
from airflow_provider_hub.testing._client import emulated_client


def test_run_wait_logs_inspect(hub_connection, api):
    hub_connection.set_job_plan(durations=(0.1, 0.3), logs=("hello", "world"), message=None)
    job = api.run_job(
        image="python:3.12",
        command=["python", "-c", "print('hi')"],
        env={"A": "1"},
        secrets={"S": "x"},
        labels={"k": "v"},
        timeout="5m",
        namespace="alice",
    )
    assert job.status.stage == "SCHEDULING" and job.owner.name == "alice"
    assert job.url == f"{hub_connection.url}/jobs/alice/{job.id}"
    assert job.secrets == {"S": "******"} and job.environment == {"A": "1"}
    api.wait_for_job(job_id=job.id, namespace="alice", timeout=10, poll_interval=0.1)
    done = api.inspect_job(job_id=job.id, namespace="alice")
    assert done.status.stage == "COMPLETED"
    assert done.started_at is not None and done.finished_at >= done.started_at
    assert list(api.fetch_job_logs(job_id=job.id, namespace="alice")) == ["hello", "world"]
    assert list(api.fetch_job_logs(job_id=job.id, namespace="alice", tail=1)) == ["world"]


def test_follow_streams_lines_while_the_job_runs(hub_connection, api):
    hub_connection.set_job_plan(durations=(0.0, 1.0), logs=[f"l{i}" for i in range(5)])
    job = api.run_job(image="python:3.12", command=["x"], namespace="alice")
    arrivals = []
    for line in api.fetch_job_logs(job_id=job.id, namespace="alice", follow=True):
        arrivals.append((line, time.monotonic()))
    assert [line for line, _ in arrivals] == [f"l{i}" for i in range(5)]
    assert arrivals[-1][1] - arrivals[0][1] > 0.4  # they came over time, not in one burst


def test_sse_wire_format_and_date_header(hub_connection):
    hub_connection.set_job_plan(durations=(0.0, 0.2), logs=("x",))
    headers = {"authorization": f"Bearer {hub_connection.token}"}
    job = httpx.post(
        f"{hub_connection.url}/api/jobs/alice",
        json={"command": ["x"], "dockerImage": "python:3.12", "flavor": "cpu-basic"},
        headers=headers,
    ).json()
    time.sleep(0.4)
    response = httpx.get(f"{hub_connection.url}/api/jobs/alice/{job['id']}/logs", headers=headers)
    assert response.headers["content-type"].startswith("text/event-stream")
    date = parsedate_to_datetime(response.headers["date"])
    events = [line for line in response.text.split("\n\n") if line]
    assert all(e.startswith('data: {"data": ') for e in events)
    assert events[0].startswith('data: {"data": "===== Job started at')
    import json

    stamps = [parsedate(json.loads(e[len("data: ") :])["timestamp"]) for e in events]
    assert all(ts.timestamp() <= date.timestamp() + 1 for ts in stamps)
    assert "endpoint" not in job


def parsedate(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_list_filters_and_pagination(hub_connection, api):
    hub_connection.set_job_plan(durations=(0.0, 30.0))
    for index in range(55):
        api.run_job(
            image="i", command=["x"], labels={"batch": "b1" if index < 52 else "b2"}, namespace="alice"
        )
    assert len(list(api.list_jobs(namespace="alice"))) == 55
    assert len(list(api.list_jobs(namespace="alice", labels={"batch": "b2"}))) == 3
    assert list(api.list_jobs(namespace="alice", status="COMPLETED")) == []
    assert (
        hub_connection.request_count("/api/jobs/alice", method="GET") >= 2 + 1 + 1
    )  # two pages for the first


def test_cancel_labels_duplicate_hardware_metrics(hub_connection, api):
    hub_connection.set_job_plan(durations=(0.0, 30.0))
    job = api.run_job(image="i", command=["x"], namespace="alice")
    metrics = next(iter(api.fetch_job_metrics(job_id=job.id, namespace="alice")))
    assert "cpu_usage_pct" in metrics
    updated = api.update_job_labels(job_id=job.id, labels={"a": "b"}, namespace="alice")
    assert updated.labels == {"a": "b"}
    again = api.rerun_job(job_id=job.id, namespace="alice")
    assert again.id != job.id and again.command == ["x"]
    api.cancel_job(job_id=job.id, namespace="alice")
    assert api.inspect_job(job_id=job.id, namespace="alice").status.stage == "CANCELED"
    assert list(api.fetch_job_metrics(job_id=job.id, namespace="alice")) == []  # 406 once finished, tolerated
    assert {h.name for h in api.list_jobs_hardware()} >= {"cpu-basic", "a10g-small"}


def test_unknown_job_and_permissions(hub_connection, api):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, JobNotFoundError

    with pytest.raises(JobNotFoundError):
        api.inspect_job(job_id="0" * 24, namespace="alice")
    with pytest.raises(JobNotFoundError):
        api.cancel_job(job_id="0" * 24, namespace="alice")
    org_job = api.run_job(image="i", command=["x"], namespace="acme")
    assert org_job.owner.name == "acme" and org_job.owner.type == "org"
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    with pytest.raises(HfHubHTTPError) as denied:
        bob.run_job(image="i", command=["x"], namespace="alice")
    assert denied.value.response.status_code == 403
    reader = HfApi(endpoint=hub_connection.url, token=hub_connection.add_token("alice", role="read"))
    with pytest.raises(HfHubHTTPError):
        reader.run_job(image="i", command=["x"], namespace="alice")
    assert reader.inspect_job(job_id=org_job.id, namespace="acme").id == org_job.id


def test_plan_outcomes_and_timeout(hub_connection, api):
    hub_connection.set_job_plan(
        stages=("SCHEDULING", "RUNNING", "ERROR"), durations=(0.0, 0.1), message="exit 3"
    )
    job = api.run_job(image="i", command=["x"], namespace="alice")
    time.sleep(0.2)
    status = api.inspect_job(job_id=job.id, namespace="alice").status
    assert (status.stage, status.message) == ("ERROR", "exit 3")
    hub_connection.set_job_plan(durations=(0.0, 30.0))
    slow = api.run_job(image="i", command=["x"], timeout=1, namespace="alice")
    time.sleep(1.2)
    assert api.inspect_job(job_id=slow.id, namespace="alice").status.stage == "ERROR"


def test_scheduled_jobs(hub_connection, api):
    scheduled = api.create_scheduled_job(
        image="python:3.12",
        command=["python", "-c", "1"],
        schedule="@hourly",
        labels={"k": "v"},
        namespace="alice",
    )
    assert scheduled.schedule == "@hourly" and not scheduled.suspend
    assert [s.id for s in api.list_scheduled_jobs(namespace="alice", labels={"k": "v"})] == [scheduled.id]
    api.suspend_scheduled_job(scheduled_job_id=scheduled.id, namespace="alice")
    assert api.inspect_scheduled_job(scheduled_job_id=scheduled.id, namespace="alice").suspend is True
    api.resume_scheduled_job(scheduled_job_id=scheduled.id, namespace="alice")
    assert api.inspect_scheduled_job(scheduled_job_id=scheduled.id, namespace="alice").suspend is False
    job = api.trigger_scheduled_job(scheduled_job_id=scheduled.id, namespace="alice")
    assert (
        api.inspect_scheduled_job(scheduled_job_id=scheduled.id, namespace="alice").status.last_job.id
        == job.id
    )
    api.delete_scheduled_job(scheduled_job_id=scheduled.id, namespace="alice")
    assert list(api.list_scheduled_jobs(namespace="alice")) == []


@pytest.fixture(scope="module")
def _process_hub() -> Iterator[HubEmulator]:
    with HubEmulator(jobs_mode="subprocess") as hub:
        yield hub


@pytest.fixture
def process_api(_process_hub, tmp_path):
    from huggingface_hub import HfApi

    _process_hub.reset()
    with emulated_client(_process_hub.url, str(tmp_path)):
        yield HfApi(endpoint=_process_hub.url, token=_process_hub.token)


def test_subprocess_mode_runs_the_command(process_api):
    code = "import os, sys; print('env', os.environ['A'], os.environ['S']); print('argv', sys.argv[1:]); sys.exit(3)"
    job = process_api.run_job(
        image="ignored",
        command=["python", "-c", code, "x"],
        env={"A": "1"},
        secrets={"S": "s"},
        namespace="alice",
    )
    process_api.wait_for_job(job_id=job.id, namespace="alice", timeout=20, poll_interval=0.1)
    done = process_api.inspect_job(job_id=job.id, namespace="alice")
    assert done.status.stage == "ERROR" and "exit code: 3" in done.status.message
    assert list(process_api.fetch_job_logs(job_id=job.id, namespace="alice")) == ["env 1 s", "argv ['x']"]


def test_subprocess_mode_uv_script_cancel_and_timeout(process_api):
    uv = process_api.run_job(
        image="uv",
        command=["uv", "run", "--with", "numpy", "python", "-c", "import sys; print(sys.executable)"],
        namespace="alice",
    )
    process_api.wait_for_job(job_id=uv.id, namespace="alice", timeout=20, poll_interval=0.1)
    assert list(process_api.fetch_job_logs(job_id=uv.id, namespace="alice")) == [sys.executable]

    sleeper = process_api.run_job(
        image="i", command=["python", "-c", "import time; time.sleep(60)"], namespace="alice"
    )
    process_api.cancel_job(job_id=sleeper.id, namespace="alice")
    assert process_api.inspect_job(job_id=sleeper.id, namespace="alice").status.stage == "CANCELED"

    limited = process_api.run_job(
        image="i", command=["python", "-c", "import time; time.sleep(60)"], timeout=1, namespace="alice"
    )
    process_api.wait_for_job(job_id=limited.id, namespace="alice", timeout=10, poll_interval=0.1)
    assert (
        process_api.inspect_job(job_id=limited.id, namespace="alice").status.message == "Job timeout exceeded"
    )


def test_job_plan_over_the_control_api(hub_connection, api):
    response = httpx.post(
        f"{hub_connection.url}/_emulator/set_job_plan",
        json={"stages": ["SCHEDULING", "CANCELED"], "durations": [0], "logs": [], "message": "preempted"},
    )
    assert response.status_code == 200
    job = api.run_job(image="i", command=["x"], namespace="alice")
    status = api.inspect_job(job_id=job.id, namespace="alice").status
    assert (status.stage, status.message) == ("CANCELED", "preempted")
    bad = httpx.post(f"{hub_connection.url}/_emulator/set_job_plan", json={"stages": ["NOPE"]})
    assert bad.status_code == 400 and "stages must be" in bad.json()["error"]
