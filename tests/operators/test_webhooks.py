"""HfCreateWebhookOperator in real DAG runs against the emulator: create, then update in place."""

from __future__ import annotations

import json

import pendulum
from airflow.sdk import DAG

from airflow_provider_hub.operators.webhooks import HfCreateWebhookOperator
from tests.helpers import task_states, xcom_value

URL = "https://airflow.example.com/hf-webhook"


def _dag(dag_id: str, **kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        HfCreateWebhookOperator(task_id="webhook", url=URL, **kwargs)
    return dag


def test_creates_then_updates_without_duplicates(hub_connection, api, run_dag, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_SECRET", json.dumps({"conn_type": "generic", "password": "first-secret"})
    )
    watched = [{"type": "model", "name": "alice/m"}]
    run = run_dag(_dag("webhook_create", watched=watched, domains=["repo"], secret_conn_id="hf_secret"))
    first = xcom_value(run, "webhook")
    assert first["action"] == "created" and first["domains"] == ["repo"]
    assert "first-secret" not in json.dumps(first)

    run = run_dag(_dag("webhook_same", watched=watched, domains=["repo"], secret_conn_id="hf_secret"))
    assert xcom_value(run, "webhook")["action"] == "unchanged"

    api.disable_webhook(first["webhook_id"])
    monkeypatch.setenv("AIRFLOW_CONN_HF_SECRET", json.dumps({"conn_type": "generic", "password": "rotated"}))
    run = run_dag(_dag("webhook_update", watched=watched, secret_conn_id="hf_secret"))
    updated = xcom_value(run, "webhook")
    assert updated["action"] == "updated" and updated["webhook_id"] == first["webhook_id"]

    [webhook] = api.list_webhooks()
    assert webhook.secret == "rotated" and not webhook.disabled
    assert set(webhook.domains) == {"repo", "discussion"}


def test_bad_watched_fails_before_any_call(hub_connection, run_dag):
    hub_connection.reset_counts()
    run = run_dag(_dag("webhook_bad", watched=[{"type": "galaxy", "name": "x"}]))
    assert task_states(run) == {"webhook": "failed"}
    assert hub_connection.request_count("/api/settings/webhooks*") == 0
