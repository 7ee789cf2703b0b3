"""The api-server's webhook receiver with a watcher registered: fixtures for the receiver's own tests
(``tests/plugins``) and for the ``HfWebhookTrigger`` reading its feed (``tests/triggers``).

``tests/conftest.py`` registers this module as a pytest plugin, so its fixtures reach both folders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_hub.plugins.webhook_inbox import WebhookInbox, deliveries
from airflow_provider_hub.triggers.webhooks import HfWebhookTrigger

SECRET = "receiver-secret-value"
PATH = "hf-webhook"


@pytest.fixture
def secret_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    """``SECRET`` in the ``hf_webhook_secret`` connection (``tests/triggers/test_webhooks.py``: its own)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_WEBHOOK_SECRET", json.dumps({"conn_type": "generic", "password": SECRET})
    )
    return "hf_webhook_secret"


@pytest.fixture
def inbox(airflow_db: None) -> Iterator[WebhookInbox]:
    from airflow import settings

    box = WebhookInbox(settings.engine)
    box._ensure_table()
    with settings.engine.begin() as conn:
        conn.execute(deliveries.delete())
    yield box


@pytest.fixture
def watcher_row(airflow_db: None) -> Iterator[None]:
    """An asset watcher's trigger row, as the dag-processor writes it: it tells the receiver PATH's secret."""
    from airflow import settings
    from airflow.models.trigger import Trigger

    with settings.Session() as session:
        row = Trigger.from_object(HfWebhookTrigger(path=PATH, secret_conn_id="hf_webhook_secret"))
        session.add(row)
        session.commit()
        row_id = row.id
    yield
    with settings.Session() as session:
        session.query(Trigger).filter(Trigger.id == row_id).delete()
        session.commit()


@pytest.fixture
def receiver(webhook_receiver: str, inbox: WebhookInbox, watcher_row: None, secret_conn: str) -> str:
    """The receiver's ``/hf-webhooks`` URL, with a watcher of PATH registered."""
    return f"{webhook_receiver}/hf-webhooks"
