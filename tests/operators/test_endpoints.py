"""Inference Endpoint lifecycle operators against the emulator, through real ``dag.test()`` runs."""

from __future__ import annotations

from datetime import timedelta

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_provider_hub.exceptions import HfHubConflictError
from airflow_provider_hub.operators.endpoints import (
    HfCreateInferenceEndpointOperator,
    HfDeleteInferenceEndpointOperator,
    HfPauseInferenceEndpointOperator,
    HfResumeInferenceEndpointOperator,
    HfScaleToZeroInferenceEndpointOperator,
    HfUpdateInferenceEndpointOperator,
)
from tests.helpers import task_states, xcom_value

START = pendulum.datetime(2026, 1, 1, tz="UTC")


def _hook():
    from airflow_provider_hub.hooks.hub import HfHubHook

    return HfHubHook()


class _Ti:
    try_number = 1

    def xcom_push(self, key: str, value: object) -> None:
        pass


@pytest.mark.parametrize("deferrable", [False, True])
def test_full_lifecycle_in_one_dag(hub_connection, run_dag, deferrable):
    fast = [("pending", 0.1), ("initializing", 0.1), ("running", None)]
    hub_connection.set_endpoint_plan("life", fast)
    common = {"name": "life", "poll_interval": 0.1, "deferrable": deferrable}
    with DAG(dag_id=f"endpoint_lifecycle_{deferrable}", schedule=None, start_date=START) as dag:
        create = HfCreateInferenceEndpointOperator(
            task_id="create",
            repository="alice/model",
            task="text-generation",
            env={"MODE": "a"},
            secrets={"API_KEY": "s3cr3t"},
            **common,
        )
        update = HfUpdateInferenceEndpointOperator(
            task_id="update", revision="{{ 'abc' + '123' }}", max_replica=2, **common
        )
        pause = HfPauseInferenceEndpointOperator(task_id="pause", **common)
        resume = HfResumeInferenceEndpointOperator(task_id="resume", **common)
        zero = HfScaleToZeroInferenceEndpointOperator(task_id="zero", **common)
        delete = HfDeleteInferenceEndpointOperator(task_id="delete", name="life")
        create >> update >> pause >> resume >> zero >> delete
    dag_run = run_dag(dag)
    assert set(task_states(dag_run).values()) == {"success"}
    created = xcom_value(dag_run, "create")
    assert created["status"] == "running" and created["url"].endswith("/_endpoints/alice/life")
    assert "s3cr3t" not in repr(created)
    updated = xcom_value(dag_run, "update")
    assert (updated["status"], updated["revision"], updated["max_replica"]) == ("running", "abc123", 2)
    assert xcom_value(dag_run, "pause")["status"] == "paused"
    assert xcom_value(dag_run, "resume")["status"] == "running"
    assert xcom_value(dag_run, "zero")["status"] == "scaledToZero"
    assert xcom_value(dag_run, "delete") == {"name": "life", "namespace": "alice", "deleted": True}
    assert _hook().list_inference_endpoints() == []


def test_create_if_exists_policies(hub_connection):
    hub_connection.set_endpoint_plan("ep", [("running", None)])
    first = HfCreateInferenceEndpointOperator(
        task_id="c1", name="ep", repository="alice/model", poll_interval=0.1
    )
    assert first.execute({"ti": _Ti()})["status"] == "running"
    with pytest.raises(HfHubConflictError):
        HfCreateInferenceEndpointOperator(task_id="c2", name="ep", repository="alice/model").execute(
            {"ti": _Ti()}
        )
    reused = HfCreateInferenceEndpointOperator(
        task_id="c3", name="ep", repository="alice/other", if_exists="reuse", wait_for_running=False
    ).execute({"ti": _Ti()})
    assert reused["repository"] == "alice/model"  # left as it was
    hub_connection.set_endpoint_plan("ep", [("updating", 0.2), ("running", None)])
    updated = HfCreateInferenceEndpointOperator(
        task_id="c4",
        name="ep",
        repository="alice/other",
        revision="v2",
        if_exists="update",
        poll_interval=0.1,
    ).execute({"ti": _Ti()})
    assert (updated["repository"], updated["revision"], updated["status"]) == ("alice/other", "v2", "running")


def test_a_retry_adopts_the_endpoint_its_lost_create_made(hub_connection, run_dag):
    hub_connection.set_endpoint_plan("ep", [("pending", 0.1), ("running", None)])
    # The Endpoint is created, then the answer is lost: the first try fails, the retry finds the name taken.
    hub_connection.inject_fault("/v2/endpoint/*", method="POST", status=502, after_apply=True, times=1)
    with DAG(dag_id="endpoint_create_lost_answer", schedule=None, start_date=START) as dag:
        HfCreateInferenceEndpointOperator(
            task_id="create",
            name="ep",
            repository="alice/model",
            max_replica=2,
            poll_interval=0.1,
            retries=1,
            retry_delay=timedelta(0),
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"create": "success"}
    assert xcom_value(dag_run, "create")["status"] == "running"
    assert [e["name"] for e in _hook().list_inference_endpoints()] == ["ep"]
    assert hub_connection.request_count("/v2/endpoint/alice", "POST") == 2


def test_a_retry_does_not_adopt_an_endpoint_made_otherwise(hub_connection):
    hub_connection.set_endpoint_plan("ep", [("running", None)])
    HfCreateInferenceEndpointOperator(
        task_id="other", name="ep", repository="alice/other", wait_for_running=False
    ).execute({"ti": _Ti()})
    retry = _Ti()
    retry.try_number = 2
    with pytest.raises(HfHubConflictError):
        HfCreateInferenceEndpointOperator(task_id="c", name="ep", repository="alice/model").execute(
            {"ti": retry}
        )


def test_delete_whose_answer_was_lost_counts_as_deleted(hub_connection):
    hub_connection.set_endpoint_plan("ep", [("running", None)])
    HfCreateInferenceEndpointOperator(
        task_id="c", name="ep", repository="alice/model", wait_for_running=False
    ).execute({"ti": _Ti()})
    hub_connection.inject_fault("/v2/endpoint/*/*", method="DELETE", status=502, after_apply=True, times=1)
    result = HfDeleteInferenceEndpointOperator(task_id="d", name="ep").execute({"ti": _Ti()})
    assert result == {"name": "ep", "namespace": "alice", "deleted": True}
    assert hub_connection.request_count("/v2/endpoint/alice/ep", "DELETE") == 2  # lost answer, then 404
    assert _hook().list_inference_endpoints() == []


def test_create_failing_endpoint_fails_without_retry(hub_connection, run_dag):
    hub_connection.set_endpoint_plan("bad", [("pending", 0.1), ("failed", None)])
    with DAG(dag_id="endpoint_create_failed", schedule=None, start_date=START) as dag:
        HfCreateInferenceEndpointOperator(
            task_id="create", name="bad", repository="alice/model", poll_interval=0.1, retries=2
        )
    assert task_states(run_dag(dag)) == {"create": "failed"}


def test_wait_timeout(hub_connection):
    from airflow_provider_hub.exceptions import HfHubError

    hub_connection.set_endpoint_plan("slow", [("pending", 60.0), ("running", None)])
    operator = HfCreateInferenceEndpointOperator(
        task_id="c", name="slow", repository="alice/model", poll_interval=0.1, wait_timeout=0.3
    )
    with pytest.raises(HfHubError, match="alice/slow is still pending after 0.3 s"):
        operator.execute({"ti": _Ti()})


def test_delete_missing_ok_and_bad_input(hub_connection):
    with pytest.raises(Exception, match="nope"):
        HfDeleteInferenceEndpointOperator(task_id="d", name="nope").execute({"ti": _Ti()})
    result = HfDeleteInferenceEndpointOperator(task_id="d2", name="nope", missing_ok=True).execute(
        {"ti": _Ti()}
    )
    assert result == {"name": "nope", "namespace": "alice", "deleted": False}
    with pytest.raises(ValueError, match="if_exists must be one of fail, reuse, update; got 'replace'"):
        HfCreateInferenceEndpointOperator(task_id="c", name="x", repository="alice/m", if_exists="replace")
    with pytest.raises(ValueError, match="nothing to update"):
        HfUpdateInferenceEndpointOperator(task_id="u", name="x").execute({"ti": _Ti()})
    with pytest.raises(ValueError, match="secrets must be a dict of str to str"):
        HfCreateInferenceEndpointOperator(task_id="c", name="x", repository="alice/m", secrets={"A": 1})
