"""HfRunJobOperator against the emulator: outcome, logs, timeout, cancel, deferral, reattach, secrets."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_provider_hub.operators.jobs import HfRunJobOperator
from tests.helpers import task_states, xcom_value

START = pendulum.datetime(2026, 1, 1, tz="UTC")


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False)


def test_completed_job_succeeds_and_returns_its_outcome(hub_connection, run_dag):
    hub_connection.set_job_plan(durations=(0.1, 0.3), logs=("loading", "training", "done"))
    with _dag("jobs_success") as dag:
        HfRunJobOperator(task_id="run", image="python:3.12", command=["python", "train.py"], poll_interval=0.2)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"run": "success"}
    result = xcom_value(dag_run, "run")
    assert result["stage"] == "COMPLETED"
    assert result["url"] == f"{hub_connection.url}/jobs/alice/{result['job_id']}"
    assert xcom_value(dag_run, "run", key="hf_job_url") == result["url"]
