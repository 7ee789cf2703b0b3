"""Every DAG in ``example_dags/`` loads from its file and runs green with real Airflow against the emulator.

DAGs are loaded as the DAG processor loads them (``DagBag`` over the folder), then run with ``dag.test()``;
each test checks what the run changed on the Hub (commits, decisions, Jobs) and what it returned.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from tests.helpers import task_states, xcom_value

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"


@pytest.fixture(scope="module")
def dag_bag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=EXAMPLE_DAGS)


def example_dag(dag_bag: Any, dag_id: str) -> Any:
    dag = dag_bag.dags.get(dag_id)
    assert dag is not None, f"{dag_id} not found in {EXAMPLE_DAGS}; import errors: {dag_bag.import_errors}"
    return dag


def test_every_example_dag_file_loads() -> None:
    from airflow.dag_processing.dagbag import DagBag

    files = sorted(path.name for path in EXAMPLE_DAGS.glob("example_*.py"))
    bag = DagBag(dag_folder=EXAMPLE_DAGS)
    assert bag.import_errors == {}
    loaded_from = {Path(dag.fileloc).name for dag in bag.dags.values()}
    assert loaded_from == set(files)
    for dag in bag.dags.values():
        assert "example" in dag.tags, dag.dag_id


# -- access triage ----------------------------------------------------------------------------------


def test_access_triage_decides_by_policy_and_reports(dag_bag: Any, hub_connection: Any, run_dag: Any) -> None:
    from huggingface_hub import HfApi

    repo = "acme/gated-model"
    hub_connection.add_user("bob", email="bob@gmail.com", orgs=["acme"])
    hub_connection.add_access_requests(
        repo,
        [
            {"user": "bob", "timestamp": "2026-01-10T08:00:00Z"},  # acme member
            {"user": "carol", "email": "carol@cs.university.edu", "timestamp": "2026-01-10T09:00:00Z"},
            {
                "user": "dave",
                "email": "dave@gmail.com",
                "fields": {"intended_use": "Research", "affiliation": "Independent lab"},
                "timestamp": "2026-01-10T10:00:00Z",
            },
            {
                "user": "eve",
                "email": "eve@startup.io",
                "fields": {"intended_use": "commercial", "affiliation": "Startup"},
                "timestamp": "2026-01-10T11:00:00Z",
            },
            {"user": "frank", "email": "frank@gmail.com", "fields": {"intended_use": "research"}},
        ],
    )
    dag = example_dag(dag_bag, "example_access_triage")

    dry = run_dag(dag, logical_date=pendulum.datetime(2026, 1, 11, tz="UTC"), run_conf={"dry_run": True})
    assert task_states(dry) == {"triage": "success", "report": "success"}
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    assert len(list(api.list_pending_access_requests(repo))) == 5  # a dry run changes nothing
    assert xcom_value(dry, "report").startswith("Access triage would decide: 3 accepted, 2 rejected")

    dag_run = run_dag(dag, logical_date=pendulum.datetime(2026, 1, 12, tz="UTC"))
    assert task_states(dag_run) == {"triage": "success", "report": "success"}
    decisions = xcom_value(dag_run, "triage")
    assert sorted(decisions["accepted"]) == ["bob", "carol", "dave"]
    assert sorted(decisions["rejected"]) == ["eve", "frank"]
    assert (decisions["left_pending"], decisions["errors"], decisions["dry_run"]) == ([], [], False)
    assert xcom_value(dag_run, "report") == (
        "Access triage decided: 3 accepted, 2 rejected, 0 left pending, 0 errors"
    )

    assert list(api.list_pending_access_requests(repo)) == []
    assert sorted(r.username for r in api.list_accepted_access_requests(repo)) == ["bob", "carol", "dave"]
    rejected = {r.username: r for r in api.list_rejected_access_requests(repo)}
    assert sorted(rejected) == ["eve", "frank"]
    reason = hub_connection.state.access.requests["model", repo]["eve"].rejection_reason
    assert reason == f"{repo} is open to research use only (reviewed 2026-01-12)."
