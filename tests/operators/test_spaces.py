"""The Space operators in real DAG runs against the emulator's Space runtime plans: restart and wait (in the
worker and deferred), the at-once failure with the Space's message, pause, and updates that change only what
differs and never show a secret."""

from __future__ import annotations

import json

import pendulum
import pytest
from airflow.sdk import DAG
from huggingface_hub import HfApi

from airflow_provider_hub.operators.spaces import (
    HfPauseSpaceOperator,
    HfRestartSpaceOperator,
    HfUpdateSpaceOperator,
)
from tests.helpers import task_states, xcom_value
from tests.secrets_scan import assert_no_secret_in, dag_test_places, distinctive_secret

PLAN = [("BUILDING", 0.2), ("APP_STARTING", 0.2), ("RUNNING", None)]


@pytest.fixture
def api(hub_connection):
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/demo", repo_type="space", space_sdk="gradio")
    return api


def one_task_dag(dag_id: str, operator) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        operator()
    return dag


@pytest.mark.parametrize("deferrable", [False, True])
def test_restart_waits_until_the_space_runs_again(api, hub_connection, run_dag, deferrable):
    hub_connection.set_space_plan("alice/demo", PLAN)
    run = run_dag(
        one_task_dag(
            f"restart_{deferrable}",
            lambda: HfRestartSpaceOperator(
                task_id="t", repo_id="alice/demo", poll_interval=0.1, deferrable=deferrable
            ),
        )
    )
    assert task_states(run) == {"t": "success"}
    result = xcom_value(run, "t")
    assert (result["repo_id"], result["stage"]) == ("alice/demo", "RUNNING")
    assert result["url"] == f"{hub_connection.url}/spaces/alice/demo"
    assert api.get_space_runtime("alice/demo").stage == "RUNNING"
    assert xcom_value(run, "t", key="hf_space_url") == result["url"]


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_build_error_fails_at_once_with_the_spaces_message(api, hub_connection, run_dag, deferrable, capfd):
    hub_connection.set_space_plan(
        "alice/demo",
        [("BUILDING", 0.2), ("BUILD_ERROR", None)],
        error_message="pip: no matching distribution",
    )
    run = run_dag(
        one_task_dag(
            f"restart_broken_{deferrable}",
            lambda: HfRestartSpaceOperator(
                task_id="t", repo_id="alice/demo", poll_interval=0.1, deferrable=deferrable, retries=2
            ),
        )
    )
    assert task_states(run) == {"t": "failed"}
    out, err = capfd.readouterr()
    assert "Space alice/demo is BUILD_ERROR: pip: no matching distribution" in out + err


def test_pause_then_update_changes_only_what_differs_and_hides_secrets(api, hub_connection, run_dag, capfd):
    secret = distinctive_secret("space")
    update = lambda dag_id: one_task_dag(  # noqa: E731
        dag_id,
        lambda: HfUpdateSpaceOperator(
            task_id="t",
            repo_id="alice/demo",
            hardware="t4-small",
            variables={"MODEL_REVISION": "abc123"},
            secrets={"API_KEY": secret},
            delete_variables=["OLD"],
        ),
    )
    api.add_space_variable("alice/demo", "OLD", "x")
    first = run_dag(update("update_first"))
    assert task_states(first) == {"t": "success"}
    assert xcom_value(first, "t")["changed"] == [
        "hardware",
        "variable MODEL_REVISION",
        "deleted variable OLD",
        "secret API_KEY",
    ]
    second = run_dag(update("update_second"))
    assert xcom_value(second, "t")["changed"] == ["secret API_KEY"]  # a secret cannot be read back: set again
    variables = api.get_space_variables("alice/demo")
    assert {k: v.value for k, v in variables.items()} == {"MODEL_REVISION": "abc123"}
    assert api.get_space_runtime("alice/demo").requested_hardware == "t4-small"
    paused = run_dag(one_task_dag("pause", lambda: HfPauseSpaceOperator(task_id="t", repo_id="alice/demo")))
    assert xcom_value(paused, "t")["stage"] == "PAUSED"
    assert_no_secret_in(dag_test_places(capfd.readouterr()), {"space secret": secret})
    assert secret not in json.dumps([xcom_value(first, "t"), xcom_value(second, "t")])


def test_templated_secrets_are_checked_after_rendering(api, hub_connection, run_dag, capfd, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_DEMO_SECRETS", json.dumps({"API_KEY": 5}))
    run = run_dag(
        one_task_dag(
            "secrets_template",
            lambda: HfUpdateSpaceOperator(
                task_id="t", repo_id="alice/demo", secrets="{{ var.json.demo_secrets }}"
            ),
        )
    )
    assert task_states(run) == {"t": "failed"}
    out, err = capfd.readouterr()
    assert "secrets" in out + err


@pytest.mark.parametrize(
    ("operator", "field"),
    [
        (lambda: HfRestartSpaceOperator(task_id="t", repo_id="not a space"), "repo_id"),
        (lambda: HfUpdateSpaceOperator(task_id="t", repo_id="alice/demo", variables={"A": 1}), "variables"),
        (lambda: HfUpdateSpaceOperator(task_id="t", repo_id="alice/demo", sleep_time="soon"), "sleep_time"),
        (lambda: HfUpdateSpaceOperator(task_id="t", repo_id="alice/demo", hardware=""), "hardware"),
        (lambda: HfPauseSpaceOperator(task_id="t", repo_id="alice/demo/extra"), "repo_id"),
    ],
)
def test_bad_input_fails_naming_the_field_before_any_request(
    api, hub_connection, run_dag, operator, field, capfd
):
    hub_connection.reset_counts()
    run = run_dag(one_task_dag(f"space_bad_{field}_{abs(hash(str(operator)))}", operator))
    assert task_states(run) == {"t": "failed"}
    assert hub_connection.request_count("/api/spaces/*") == 0
    out, err = capfd.readouterr()
    assert field in out + err
