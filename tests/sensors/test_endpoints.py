"""HfInferenceEndpointSensor against the emulator's Endpoint lifecycles.

HfInferenceEndpointTrigger, which its deferrable mode waits in, is tested in
``tests/triggers/test_endpoints.py``.
"""

from __future__ import annotations

import time

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_provider_hub.exceptions import HfHubTerminalStateError
from airflow_provider_hub.sensors.endpoints import HfInferenceEndpointSensor
from airflow_provider_hub.triggers.endpoints import HfInferenceEndpointTrigger
from tests.helpers import task_states, xcom_value
from tests.support.endpoints import _create, _hook

START = pendulum.datetime(2026, 1, 1, tz="UTC")


class _Ti:
    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_sensor_waits_through_pending_and_initializing(hub_connection, run_dag, mode):
    _create(hub_connection, f"ep-{mode}", [("pending", 0.2), ("initializing", 0.3), ("running", None)])
    with DAG(dag_id=f"endpoint_sensor_{mode}", schedule=None, start_date=START) as dag:
        HfInferenceEndpointSensor(
            task_id="wait",
            name=f"ep-{mode}",
            poke_interval=0.1,
            timeout=30,
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"wait": "success"}
    result = xcom_value(dag_run, "wait")
    assert (result["name"], result["namespace"], result["status"]) == (f"ep-{mode}", "alice", "running")
    assert result["url"] == f"{hub_connection.url}/_endpoints/alice/ep-{mode}"
    assert result["repository"] == "alice/model" and result["task"] == "text-generation"
    assert xcom_value(dag_run, "wait", key="hf_endpoint_url") == result["page_url"]


def test_sensor_fails_fast_with_the_endpoints_message(hub_connection):
    _create(hub_connection, "broken", [("pending", 0.05), ("failed", None)])
    time.sleep(0.1)
    sensor = HfInferenceEndpointSensor(task_id="wait", name="broken", poke_interval=0.1)
    with pytest.raises(HfHubTerminalStateError, match="alice/broken is failed: Endpoint failed to start"):
        sensor.poke({"ti": _Ti()})


def test_deferrable_sensor_pokes_once_before_deferring(hub_connection):
    from airflow.sdk.exceptions import TaskDeferred

    _create(hub_connection, "ready", [("running", None)])
    _create(hub_connection, "starting", [("pending", 30.0), ("running", None)])
    ready = HfInferenceEndpointSensor(task_id="wait", name="ready", deferrable=True)
    assert ready.execute({"ti": _Ti()})["status"] == "running"  # already there: returned, no deferral

    hub_connection.reset_counts()
    starting = HfInferenceEndpointSensor(task_id="wait", name="starting", deferrable=True, poke_interval=5)
    with pytest.raises(TaskDeferred) as deferred:
        starting.execute({"ti": _Ti()})
    assert hub_connection.request_count("/v2/endpoint/alice/starting") == 1  # the one poke
    trigger = deferred.value.trigger
    assert isinstance(trigger, HfInferenceEndpointTrigger)
    assert (trigger.name, trigger.namespace, trigger.poll_interval) == ("starting", "alice", 5)


@pytest.mark.parametrize("deferrable", [False, True])
def test_failed_endpoint_fails_the_task_without_retry(hub_connection, run_dag, deferrable):
    _create(hub_connection, "broken", [("pending", 0.2), ("initializing", 0.2), ("failed", None)])
    with DAG(dag_id=f"endpoint_sensor_failed_{deferrable}", schedule=None, start_date=START) as dag:
        HfInferenceEndpointSensor(
            task_id="wait", name="broken", poke_interval=0.1, timeout=30, retries=3, deferrable=deferrable
        )
    started = time.monotonic()
    assert task_states(run_dag(dag)) == {"wait": "failed"}
    assert time.monotonic() - started < 20  # no retry delay was waited


@pytest.mark.parametrize("status_call", ["pause_inference_endpoint", "scale_to_zero_inference_endpoint"])
def test_resume_if_paused_wakes_a_sleeping_endpoint(hub_connection, run_dag, status_call):
    _create(hub_connection, "sleepy", [("initializing", 0.1), ("running", None)])
    time.sleep(0.2)
    assert getattr(_hook(), status_call)("sleepy")["status"] in ("paused", "scaledToZero")
    sensor = HfInferenceEndpointSensor(task_id="no_resume", name="sleepy", poke_interval=0.1)
    assert not sensor.poke({"ti": _Ti()}).is_done  # without the flag it just waits
    with DAG(dag_id=f"endpoint_sensor_resume_{status_call}", schedule=None, start_date=START) as dag:
        HfInferenceEndpointSensor(
            task_id="wait", name="sleepy", resume_if_paused=True, poke_interval=0.1, timeout=30
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"wait": "success"}
    assert xcom_value(dag_run, "wait")["status"] == "running"


def test_waiting_for_paused_does_not_resume(hub_connection):
    _create(hub_connection, "p", [("running", None)])
    _hook().pause_inference_endpoint("p")
    sensor = HfInferenceEndpointSensor(task_id="w", name="p", target_status="paused", resume_if_paused=True)
    assert sensor.poke({"ti": _Ti()}).is_done
    assert _hook().get_inference_endpoint("p")["status"] == "paused"


@pytest.mark.parametrize("deferrable", [False, True])
@pytest.mark.parametrize("soft_fail", [False, True])
def test_timeout_and_soft_fail(hub_connection, run_dag, deferrable, soft_fail):
    _create(hub_connection, "slow", [("pending", 60.0), ("running", None)])
    with DAG(
        dag_id=f"endpoint_sensor_timeout_{deferrable}_{soft_fail}", schedule=None, start_date=START
    ) as dag:
        HfInferenceEndpointSensor(
            task_id="wait",
            name="slow",
            poke_interval=0.1,
            timeout=0.5,
            soft_fail=soft_fail,
            deferrable=deferrable,
        )
    assert task_states(run_dag(dag)) == {"wait": "skipped" if soft_fail else "failed"}


def test_bad_input_is_rejected_before_any_call(hub_connection):
    before = hub_connection.request_count()
    with pytest.raises(ValueError, match="target_status must be one of .*got 'ready'"):
        HfInferenceEndpointSensor(task_id="w", name="x", target_status="ready").poke({"ti": _Ti()})
    with pytest.raises(ValueError, match="name must be a non-empty"):
        HfInferenceEndpointSensor(task_id="w", name=" ").poke({"ti": _Ti()})
    assert hub_connection.request_count() == before
