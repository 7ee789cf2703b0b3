"""HfSpaceSensor (and the HfSpaceTrigger it defers to) against the emulator's Space plans."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG
from airflow.sdk._shared.module_loading import import_string
from huggingface_hub import HfApi

from airflow_provider_hub.sensors.spaces import HfSpaceSensor
from airflow_provider_hub.triggers.spaces import HfSpaceTrigger
from tests.helpers import task_states, xcom_value


@pytest.fixture
def api(hub_connection):
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/demo", repo_type="space", space_sdk="gradio")
    return api


def sensor_dag(dag_id: str, **kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        HfSpaceSensor(task_id="t", repo_id="alice/demo", poke_interval=0.1, **kwargs)
    return dag


@pytest.mark.parametrize("deferrable", [False, True])
def test_waits_for_running_after_a_restart(api, hub_connection, run_dag, deferrable):
    hub_connection.set_space_plan("alice/demo", [("BUILDING", 0.3), ("RUNNING", None)])
    api.restart_space("alice/demo")
    run = run_dag(sensor_dag(f"space_up_{deferrable}", deferrable=deferrable))
    assert task_states(run) == {"t": "success"}
    assert xcom_value(run, "t")["stage"] == "RUNNING"


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_runtime_error_or_a_pause_fails_at_once(api, hub_connection, run_dag, deferrable, capfd):
    hub_connection.set_space_plan(
        "alice/demo", [("APP_STARTING", 0.2), ("RUNTIME_ERROR", None)], error_message="OOM"
    )
    api.restart_space("alice/demo")
    run = run_dag(sensor_dag(f"space_error_{deferrable}", deferrable=deferrable, retries=2))
    assert task_states(run) == {"t": "failed"}
    out, err = capfd.readouterr()
    assert "Space alice/demo is RUNTIME_ERROR: OOM, not RUNNING" in out + err
    api.pause_space("alice/demo")
    run = run_dag(sensor_dag(f"space_paused_{deferrable}", deferrable=deferrable))
    assert task_states(run) == {"t": "failed"}


def test_a_bad_stage_fails_before_any_request(api, hub_connection, run_dag):
    hub_connection.reset_counts()
    run = run_dag(sensor_dag("space_bad_stage", target_stage="UP"))
    assert task_states(run) == {"t": "failed"} and hub_connection.request_count("/api/spaces/*") == 0


def test_trigger_round_trips_and_reports_missing_spaces(hub_connection):
    import asyncio

    trigger = HfSpaceTrigger(repo_id="alice/demo", poll_interval=5)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_hub.triggers.spaces.HfSpaceTrigger"
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)

    async def first() -> dict:
        return [e.payload async for e in HfSpaceTrigger(repo_id="alice/none", poll_interval=0.1).run()][0]

    missing = asyncio.run(first())
    assert missing["status"] == "error" and "alice/none" in missing["message"]
