"""HfPullRequestSensor in real DAG runs: poke and deferrable waits for a merge, and the at-once failure of a
pull request closed while waited for."""

from __future__ import annotations

import threading
import time

import pendulum
import pytest
from airflow.sdk import DAG
from huggingface_hub import HfApi

from airflow_provider_hub.sensors.discussions import HfPullRequestSensor
from tests.helpers import task_states, xcom_value


def logged(capfd) -> str:
    """What the DAG run printed (task logs go to the console under dag.test)."""
    out, err = capfd.readouterr()
    return out + err


@pytest.fixture
def api(hub_connection):
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/m")
    return api


def later(action, seconds: float = 0.5) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()))
    thread.start()
    return thread


def sensor_dag(dag_id: str, num: int, **kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        HfPullRequestSensor(
            task_id="wait", repo_id="alice/m", discussion_num=str(num), poke_interval=0.1, **kwargs
        )
    return dag


@pytest.mark.parametrize("deferrable", [False, True])
def test_waits_until_the_pull_request_is_merged(api, run_dag, deferrable):
    num = api.create_pull_request("alice/m", title="Candidate").num
    merging = later(lambda: api.merge_pull_request("alice/m", num))
    run = run_dag(sensor_dag(f"wait_merge_{deferrable}", num, deferrable=deferrable))
    merging.join()
    assert task_states(run) == {"wait": "success"}
    merge = api.get_discussion_details("alice/m", num).merge_commit_oid
    assert xcom_value(run, "wait") == {"num": num, "status": "merged", "merge_commit_oid": merge}


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_pull_request_closed_while_waited_for_fails_at_once(api, run_dag, deferrable, capfd):
    num = api.create_pull_request("alice/m", title="Candidate").num
    closing = later(lambda: api.change_discussion_status("alice/m", num, "closed"))
    started = time.monotonic()
    run = run_dag(sensor_dag(f"wait_closed_{deferrable}", num, deferrable=deferrable, timeout=120, retries=2))
    closing.join()
    assert task_states(run) == {"wait": "failed"}
    assert time.monotonic() - started < 60  # no retries, no waiting for the timeout
    assert f"Pull request #{num} of alice/m is closed: it cannot become merged any more" in logged(capfd)


def test_a_discussion_or_a_bad_target_fails_before_waiting(api, hub_connection, run_dag, capfd):
    num = api.create_discussion("alice/m", title="Question").num
    run = run_dag(sensor_dag("wait_discussion", num))
    assert task_states(run) == {"wait": "failed"}
    assert "is a discussion, not a pull request" in logged(capfd)
    hub_connection.reset_counts()
    run = run_dag(sensor_dag("wait_bad_target", num, target_statuses=["approved"]))
    assert task_states(run) == {"wait": "failed"}
    assert (
        "target_statuses" in logged(capfd)
        and hub_connection.request_count("/api/models/alice/m/discussions*") == 0
    )
