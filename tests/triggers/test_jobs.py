"""HfJobTrigger against the emulator: serialization, outcomes, transient errors, cancel on kill.

HfJobSensor, which defers to it, is tested in ``tests/sensors/test_jobs.py``.
"""

from __future__ import annotations

import json
import time

from airflow.sdk._shared.module_loading import import_string

from airflow_provider_hub.triggers._base import MAX_CONSECUTIVE_ERRORS
from airflow_provider_hub.triggers.jobs import HfJobTrigger
from tests.support.jobs import _run, _stage


def test_trigger_serializes_to_plain_kwargs_and_round_trips():
    trigger = HfJobTrigger(
        job_id="abc",
        namespace="acme",
        poll_interval=5,
        target_stages=("running",),
        end_time=123.0,
        log_lines_emitted=3,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_hub.triggers.jobs.HfJobTrigger"
    assert kwargs == {
        "job_id": "abc",
        "namespace": "acme",
        "hf_conn_id": "huggingface_hub_default",
        "poll_interval": 5.0,
        "target_stages": ["RUNNING"],
        "end_time": 123.0,
        "cancel_on_kill": True,
        "log_lines_emitted": 3,
    }
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


async def test_trigger_fires_success_on_completion(hub_connection):
    job_id = _run(hub_connection, durations=(0.1, 0.2))
    trigger = HfJobTrigger(job_id=job_id, namespace="alice", poll_interval=0.1, log_lines_emitted=2)
    events = [event.payload async for event in trigger.run()]
    assert events == [
        {
            "status": "success",
            "job_id": job_id,
            "namespace": "alice",
            "stage": "COMPLETED",
            "message": None,
            "log_lines_emitted": 2,
        }
    ]


async def test_trigger_fires_failed_and_timeout(hub_connection):
    failed = _run(hub_connection, stages=("SCHEDULING", "ERROR"), durations=(0.1,), message="bad image")
    (event,) = [
        e.payload async for e in HfJobTrigger(job_id=failed, namespace="alice", poll_interval=0.1).run()
    ]
    assert (event["status"], event["stage"], event["message"]) == ("failed", "ERROR", "bad image")

    slow = _run(hub_connection, durations=(0.1, 30.0))
    trigger = HfJobTrigger(job_id=slow, namespace="alice", poll_interval=0.1, end_time=time.time() + 0.5)
    (event,) = [e.payload async for e in trigger.run()]
    assert event["status"] == "timeout" and event["stage"] == "RUNNING"


async def test_trigger_reports_a_missing_job_at_once(hub_connection):
    trigger = HfJobTrigger(job_id="0" * 24, namespace="alice", poll_interval=0.01)
    (event,) = [e.payload async for e in trigger.run()]
    assert event["status"] == "error" and "0" * 24 in event["message"]
    assert hub_connection.request_count(f"/api/jobs/alice/{'0' * 24}") == 1


async def test_trigger_rides_out_transient_errors_then_gives_up(hub_connection, monkeypatch):
    # No hook-level retries, so each failed read reaches the trigger's own tolerance.
    conn = json.loads(hub_connection.connection_uri())
    conn["extra"]["max_retries"] = 0
    monkeypatch.setenv("AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT", json.dumps(conn))
    job_id = _run(hub_connection, durations=(0.0, 0.1))
    hub_connection.inject_fault(f"/api/jobs/alice/{job_id}", status=503, times=MAX_CONSECUTIVE_ERRORS - 1)
    (event,) = [
        e.payload async for e in HfJobTrigger(job_id=job_id, namespace="alice", poll_interval=0.05).run()
    ]
    assert event["status"] == "success"

    hub_connection.inject_fault(f"/api/jobs/alice/{job_id}", status=503)
    (event,) = [
        e.payload async for e in HfJobTrigger(job_id=job_id, namespace="alice", poll_interval=0.01).run()
    ]
    assert event["status"] == "error"
    assert hub_connection.request_count(f"/api/jobs/alice/{job_id}") == 2 * MAX_CONSECUTIVE_ERRORS


async def test_trigger_on_kill_cancels_the_job(hub_connection):
    job_id = _run(hub_connection, durations=(0.1, 30.0))
    await HfJobTrigger(job_id=job_id, namespace="alice").on_kill()
    assert _stage(hub_connection, job_id) == "CANCELED"
    other = _run(hub_connection, durations=(0.1, 30.0))
    await HfJobTrigger(job_id=other, namespace="alice", cancel_on_kill=False).on_kill()
    assert _stage(hub_connection, other) != "CANCELED"
