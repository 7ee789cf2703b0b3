"""HfJobTrigger and HfJobSensor against the emulator."""

from __future__ import annotations

import json
import time

import pendulum
import pytest
from airflow.sdk import DAG
from airflow.sdk._shared.module_loading import import_string

from airflow_provider_hub.exceptions import HfHubTerminalStateError
from airflow_provider_hub.sensors.jobs import HfJobSensor
from airflow_provider_hub.triggers._base import MAX_CONSECUTIVE_ERRORS
from airflow_provider_hub.triggers.jobs import HfJobTrigger
from tests.helpers import task_states, xcom_value

START = pendulum.datetime(2026, 1, 1, tz="UTC")


def _run(hub, **plan) -> str:
    from huggingface_hub import HfApi

    hub.set_job_plan(**plan)
    return (
        HfApi(endpoint=hub.url, token=hub.token)
        .run_job(image="python:3.12", command=["x"], namespace="alice")
        .id
    )


def _stage(hub, job_id: str) -> str:
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.url, token=hub.token).inspect_job(job_id=job_id, namespace="alice").status.stage


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


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_sensor_waits_for_a_job_started_elsewhere(hub_connection, run_dag, mode):
    job_id = _run(hub_connection, durations=(0.2, 0.5))
    with DAG(dag_id=f"jobs_sensor_{mode}", schedule=None, start_date=START) as dag:
        HfJobSensor(
            task_id="wait",
            job_id=job_id,
            poke_interval=0.2,
            timeout=30,
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"wait": "success"}
    result = xcom_value(dag_run, "wait")
    assert (result["job_id"], result["stage"]) == (job_id, "COMPLETED")


def test_sensor_fails_at_once_on_a_terminal_failure(hub_connection):
    job_id = _run(hub_connection, stages=("SCHEDULING", "CANCELED"), durations=(0.0,))
    sensor = HfJobSensor(task_id="wait", job_id=job_id, poke_interval=0.1)
    with pytest.raises(HfHubTerminalStateError, match=f"{job_id} ended in stage CANCELED"):
        sensor.poke({"ti": _NoXcom()})


def test_sensor_deferred_failure_fails_without_retry(hub_connection, run_dag):
    job_id = _run(hub_connection, stages=("SCHEDULING", "RUNNING", "ERROR"), durations=(0.1, 0.3))
    with DAG(dag_id="jobs_sensor_deferred_failure", schedule=None, start_date=START) as dag:
        HfJobSensor(task_id="wait", job_id=job_id, poke_interval=0.1, deferrable=True, retries=3)
    assert task_states(run_dag(dag)) == {"wait": "failed"}


def test_sensor_target_running(hub_connection):
    job_id = _run(hub_connection, durations=(0.1, 30.0))
    sensor = HfJobSensor(task_id="wait", job_id=job_id, target_stages=["RUNNING"], poke_interval=0.1)
    time.sleep(0.2)
    assert sensor.poke({"ti": _NoXcom()}).is_done
    with pytest.raises(ValueError, match="target_stages must be"):
        HfJobSensor(task_id="bad", job_id=job_id, target_stages=["DONE"]).poke({"ti": _NoXcom()})


class _NoXcom:
    def xcom_push(self, key: str, value: object) -> None:
        pass
