"""HfJobSensor against the emulator: poke, reschedule and deferrable waits, failures, a target stage.

HfJobTrigger, which its deferrable mode waits in, is tested in ``tests/triggers/test_jobs.py``.
"""

from __future__ import annotations

import time

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_provider_hub.exceptions import HfHubTerminalStateError
from airflow_provider_hub.sensors.jobs import HfJobSensor
from tests.helpers import task_states, xcom_value
from tests.support.jobs import _run

START = pendulum.datetime(2026, 1, 1, tz="UTC")


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
