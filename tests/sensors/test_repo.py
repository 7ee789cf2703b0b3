"""HfRepoFileSensor in poke, reschedule and deferrable modes (real ``dag.test()`` runs).

Its trigger, HfRepoFileTrigger, is tested in ``tests/triggers/test_repo.py``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import pendulum
import pytest

from airflow_provider_hub.sensors.repo import HfRepoFileSensor
from tests.helpers import task_states, xcom_value
from tests.support.operators import make_context


def upload_after_first_poke(api: Any, hub: Any, path: str = "model.safetensors") -> threading.Thread:
    """Upload once the sensor has looked once and not found the file, however long the DAG takes to start."""

    def upload() -> None:
        deadline = time.monotonic() + 60
        while (
            hub.request_count("/api/models/alice/m/paths-info/*", "POST") < 1 and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        api.upload_file(path_or_fileobj=b"weights", path_in_repo=path, repo_id="alice/m")

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    return thread


def sensor_dag(dag_id: str, **sensor_kwargs: Any) -> Any:
    from airflow.sdk import DAG

    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
        HfRepoFileSensor(task_id="wait", repo_id="alice/m", path_in_repo="model.safetensors", **sensor_kwargs)
    return dag


def test_poke_missing_repo_file_and_present_file(api: Any, hub_connection: Any) -> None:
    sensor = HfRepoFileSensor(task_id="wait", repo_id="alice/m", path_in_repo="model.safetensors")
    assert sensor.poke(make_context()).is_done is False  # the repo does not exist yet
    api.create_repo("alice/m")
    assert sensor.poke(make_context()).is_done is False
    api.upload_file(path_or_fileobj=b"weights", path_in_repo="model.safetensors", repo_id="alice/m")
    done = sensor.poke(make_context())
    assert done.is_done is True
    assert done.xcom_value == {
        "path": "model.safetensors",
        "revision": "main",
        "size": 7,
        "oid": api.get_paths_info("alice/m", ["model.safetensors"])[0].blob_id,
        "lfs_sha256": hashlib.sha256(b"weights").hexdigest(),  # *.safetensors is LFS (.gitattributes)
    }
    on_branch = HfRepoFileSensor(
        task_id="w", repo_id="alice/m", path_in_repo="model.safetensors", revision="nope"
    )
    assert on_branch.poke(make_context()).is_done is False  # unknown revision: not yet


def test_poke_rejects_bad_input_before_any_request(hub_connection: Any) -> None:
    hub_connection.reset_counts()
    with pytest.raises(ValueError, match="path_in_repo '../x' escapes the repository"):
        HfRepoFileSensor(task_id="w", repo_id="alice/m", path_in_repo="../x").poke(make_context())
    with pytest.raises(ValueError, match="repo_type must be one of model, dataset, space; got 'repo'"):
        HfRepoFileSensor(task_id="w", repo_id="alice/m", path_in_repo="x", repo_type="repo").poke(
            make_context()
        )
    assert hub_connection.request_count() == 0


def test_poke_mode_dag_run(api: Any, hub_connection: Any, run_dag: Any) -> None:
    api.create_repo("alice/m")
    upload_after_first_poke(api, hub_connection)
    dag_run = run_dag(sensor_dag("sensor_poke", poke_interval=0.2, timeout=30))
    assert task_states(dag_run) == {"wait": "success"}
    assert xcom_value(dag_run, "wait")["path"] == "model.safetensors"


def test_reschedule_mode_dag_run(api: Any, hub_connection: Any, run_dag: Any) -> None:
    api.create_repo("alice/m")
    api.upload_file(path_or_fileobj=b"weights", path_in_repo="model.safetensors", repo_id="alice/m")
    dag_run = run_dag(sensor_dag("sensor_reschedule", mode="reschedule", poke_interval=1, timeout=30))
    assert task_states(dag_run) == {"wait": "success"}
    assert xcom_value(dag_run, "wait")["size"] == 7


def test_deferrable_dag_run_waits_in_the_trigger(api: Any, hub_connection: Any, run_dag: Any) -> None:
    api.create_repo("alice/m")
    upload_after_first_poke(api, hub_connection)
    dag_run = run_dag(sensor_dag("sensor_defer", deferrable=True, poke_interval=0.2, timeout=60))
    assert task_states(dag_run) == {"wait": "success"}
    assert xcom_value(dag_run, "wait")["path"] == "model.safetensors"
    # One poke on the worker, then the trigger's polls (paths-info each time).
    assert hub_connection.request_count("/api/models/alice/m/paths-info/*", "POST") >= 2


def test_deferrable_timeout_with_soft_fail_skips(api: Any, hub_connection: Any, run_dag: Any) -> None:
    api.create_repo("alice/m")
    dag_run = run_dag(
        sensor_dag("sensor_soft", deferrable=True, poke_interval=0.2, timeout=1, soft_fail=True)
    )
    assert task_states(dag_run) == {"wait": "skipped"}


def test_deferrable_timeout_without_soft_fail_fails(api: Any, hub_connection: Any, run_dag: Any) -> None:
    api.create_repo("alice/m")
    dag_run = run_dag(sensor_dag("sensor_timeout", deferrable=True, poke_interval=0.2, timeout=1))
    assert task_states(dag_run) == {"wait": "failed"}


def test_deferrable_found_on_first_poke_does_not_defer(api: Any, hub_connection: Any) -> None:
    api.create_repo("alice/m")
    api.upload_file(path_or_fileobj=b"weights", path_in_repo="model.safetensors", repo_id="alice/m")
    sensor = HfRepoFileSensor(
        task_id="w", repo_id="alice/m", path_in_repo="model.safetensors", deferrable=True
    )
    assert sensor.execute(make_context())["size"] == 7  # returned, no TaskDeferred raised
