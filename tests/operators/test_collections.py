"""HfAddToCollectionOperator in real DAG runs against the emulator: added once, updated after."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG
from huggingface_hub import HfApi

from airflow_provider_hub.operators.collections import HfAddToCollectionOperator
from tests.helpers import task_states, xcom_value


@pytest.fixture
def api(hub_connection):
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/m")
    return api


def add_dag(dag_id: str, slug: str, **kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        HfAddToCollectionOperator(task_id="t", collection_slug=slug, item_id="alice/m", **kwargs)
    return dag


def test_an_item_is_added_once_and_its_note_updated(api, hub_connection, run_dag):
    slug = api.create_collection("Releases").slug
    hub_connection.inject_fault(
        "/api/collections/*/*/items", status=502, method="POST", after_apply=True, times=1
    )
    first = run_dag(add_dag("add_first", slug, note="v1"))
    assert task_states(first) == {"t": "success"}
    second = run_dag(add_dag("add_second", slug, note="v2"))
    [item] = api.get_collection(slug).items
    assert (item.item_id, item.item_type, item.note) == ("alice/m", "model", "v2")
    assert (
        xcom_value(second, "t")["item_object_id"]
        == xcom_value(first, "t")["item_object_id"]
        == item.item_object_id
    )


def test_bad_input_fails_before_any_request(api, hub_connection, run_dag):
    hub_connection.reset_counts()
    run = run_dag(add_dag("add_bad", "no-slash"))
    assert task_states(run) == {"t": "failed"} and hub_connection.request_count("/api/collections*") == 0
    run = run_dag(add_dag("add_bad_type", "alice/x-1", item_type="robot"))
    assert task_states(run) == {"t": "failed"} and hub_connection.request_count("/api/collections*") == 0


def test_a_missing_collection_fails_the_task(api, run_dag, capfd):
    run = run_dag(add_dag("add_missing", "alice/nothing-0123456789abcdef01234567"))
    assert task_states(run) == {"t": "failed"}
    out, err = capfd.readouterr()
    assert "collection alice/nothing-0123456789abcdef01234567" in out + err
