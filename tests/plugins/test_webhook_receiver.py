"""The api-server's webhook receiver and the HfWebhookTrigger reading what it recorded.

The receiver runs as Airflow's api-server mounts it (the real ``create_app`` with the plugin loaded through
its entry point) and as a real uvicorn server on loopback, recording into the real metadata database (the
test session's SQLite). The emulator's webhook worker posts real deliveries after real commits made with
huggingface_hub; the trigger reads them back over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from huggingface_hub import HfApi

from airflow_provider_hub.plugins.webhook_inbox import WebhookInbox, deliveries
from airflow_provider_hub.plugins.webhook_receiver import MAX_BODY_BYTES
from airflow_provider_hub.triggers.webhooks import HfWebhookTrigger
from tests.triggers.test_webhooks import Running, StateStore

SECRET = "receiver-secret-value"
PATH = "hf-webhook"


def _payload(repo: str = "alice/m", sha: str = "a" * 40) -> dict:
    return {
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {"type": "model", "name": repo, "id": "x", "private": False, "headSha": sha},
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "0" * 40, "newSha": sha}],
        "webhook": {"id": "w", "version": 3},
    }


@pytest.fixture
def secret_conn(monkeypatch: pytest.MonkeyPatch) -> str:
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


def test_airflow_api_server_mounts_the_receiver(airflow_db, inbox, watcher_row, secret_conn):
    """The plugin is loaded through its entry point with Airflow's default configuration, and its routes win
    over the UI's catch-all (which answers 405 to a POST)."""
    from airflow.api_fastapi.app import create_app as create_airflow_app
    from airflow.api_fastapi.app import purge_cached_app
    from fastapi.testclient import TestClient

    purge_cached_app()
    client = TestClient(create_airflow_app())
    answer = client.post(f"/hf-webhooks/{PATH}", json=_payload(), headers={"X-Webhook-Secret": SECRET})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "accepted"
    assert client.post("/hf-webhooks/nobody-watches-this", json=_payload()).status_code == 404
    found, _ = inbox.read(PATH, "hf_webhook_secret", 0)
    assert [d.event["head_sha"] for d in found] == ["a" * 40]


def test_answers_and_what_is_recorded(receiver, inbox):
    url = f"{receiver}/{PATH}"
    ok = {"X-Webhook-Secret": SECRET}
    with httpx.Client() as http:
        assert http.post(url, json=_payload()).status_code == 401
        assert http.post(url, json=_payload(), headers={"X-Webhook-Secret": "wrong"}).status_code == 401
        too_big = json.dumps({**_payload(), "padding": "x" * MAX_BODY_BYTES})
        assert http.post(url, content=too_big, headers=ok).status_code == 413
        assert http.post(url, content=b"not json", headers=ok).status_code == 400
        assert http.post(url, json={"event": {}}, headers=ok).status_code == 400
        assert http.get(url, headers=ok).status_code == 405
        first = http.post(url, json=_payload(sha="b" * 40), headers=ok)
        again = http.post(url, json=_payload(sha="b" * 40), headers=ok)  # a redelivery
        other = http.post(url, json=_payload(sha="c" * 40), headers=ok)
        assert first.status_code == again.status_code == other.status_code == 200
        assert first.json()["id"] == again.json()["id"] != other.json()["id"]

        reads = f"{url}/deliveries"
        assert http.get(reads, params={"secret_conn_id": "hf_webhook_secret", "after": 0}).status_code == 401
        answer = http.get(reads, params={"secret_conn_id": "hf_webhook_secret", "after": 0}, headers=ok)
        assert answer.status_code == 200
        body = answer.json()
        assert [d["event"]["head_sha"] for d in body["deliveries"]] == ["b" * 40, "c" * 40]
        assert body["last_id"] == other.json()["id"]
        newest = http.get(reads, params={"secret_conn_id": "hf_webhook_secret"}, headers=ok).json()
        assert newest == {"deliveries": [], "last_id": other.json()["id"]}

        # A waiting read is answered as soon as a delivery is recorded, not at the end of its wait.
        started = time.monotonic()
        poster = threading.Timer(0.3, lambda: httpx.post(url, json=_payload(sha="d" * 40), headers=ok))
        poster.start()
        waited = http.get(
            reads,
            params={"secret_conn_id": "hf_webhook_secret", "after": body["last_id"], "wait": 10},
            headers=ok,
            timeout=20,
        ).json()
        assert [d["event"]["head_sha"] for d in waited["deliveries"]] == ["d" * 40]
        assert time.monotonic() - started < 3
    rows = inbox.read(PATH, "hf_webhook_secret", 0)[0]
    assert SECRET not in json.dumps([r.event for r in rows])


async def test_a_burst_is_recorded_together_each_answered_once_committed(receiver, inbox):
    """Concurrent deliveries share transactions (group commit); each answer names its own row, a redelivery
    in the same burst names the first one's, and every answered delivery is there to read."""
    url = f"{receiver}/{PATH}"
    shas = [f"{n:040x}" for n in range(60)]
    async with httpx.AsyncClient(headers={"X-Webhook-Secret": SECRET}) as http:
        answers = await asyncio.gather(
            *(http.post(url, json=_payload(sha=sha)) for sha in [*shas, shas[0], shas[1]])
        )
    assert {a.status_code for a in answers} == {200}
    ids = [a.json()["id"] for a in answers]
    assert len(set(ids[:60])) == 60 and ids[60:] == ids[:2]
    found, _ = inbox.read(PATH, "hf_webhook_secret", 0)
    assert sorted(d.event["head_sha"] for d in found) == shas
    assert {d.id for d in found} == set(ids)


@pytest.fixture
def api(hub_connection) -> HfApi:
    return HfApi(endpoint=hub_connection.url, token=hub_connection.token)


def make_trigger(trigger_id: int | None = None) -> HfWebhookTrigger:
    """The watcher's trigger; ``trigger_id`` as a triggerer sets it on the trigger it runs."""
    trigger = HfWebhookTrigger(path=PATH, secret_conn_id="hf_webhook_secret", repo_ids=["alice/m"])
    trigger.trigger_id = trigger_id
    return trigger


async def started(store: StateStore, trigger_id: int | None = None) -> Running:
    """A trigger that has taken its cursor and recorded the current head on first sight, firing nothing."""
    running = Running(make_trigger(trigger_id), store)
    await running.expect_nothing(0.3)
    deadline = time.time() + 10
    while not {"cursor", "head::model/alice/m@main"} <= store.values.keys() and time.time() < deadline:
        await asyncio.sleep(0.02)
    await running.expect_nothing(0.3)
    return running


async def test_commits_fire_through_the_receiver(receiver, api, hub_connection):
    api.create_repo("alice/m")
    api.create_webhook(
        url=f"{receiver}/{PATH}", watched=[{"type": "model", "name": "alice/m"}], secret=SECRET
    )
    running = await started(StateStore())
    try:
        commit = await asyncio.to_thread(
            api.upload_file, path_or_fileobj=b"1", path_in_repo="a", repo_id="alice/m"
        )
        event = await running.next_event(10)
        assert event["head_sha"] == commit.oid and event["source"] == "webhook"
        assert event["repo_id"] == "alice/m" and event["event"] == "repo.content.update"
        await running.expect_nothing(1.0)
    finally:
        await running.stop()


async def test_deliveries_recorded_while_no_trigger_runs_fire_once_each(receiver, api, hub_connection):
    """What a handover leaves: the api-server recorded every delivery while no triggerer read them. The next
    holder fires each commit once, in order, and reconciliation adds nothing."""
    api.create_repo("alice/m")
    api.create_webhook(
        url=f"{receiver}/{PATH}", watched=[{"type": "model", "name": "alice/m"}], secret=SECRET
    )
    store = StateStore()
    running = await started(store)
    await running.stop()
    oids = []
    for n in range(3):
        commit = await asyncio.to_thread(
            api.upload_file, path_or_fileobj=str(n).encode(), path_in_repo=f"f{n}", repo_id="alice/m"
        )
        oids.append(commit.oid)
    deadline = time.time() + 10
    while sum(d["status"] == 200 for d in hub_connection.webhook_deliveries()) < 3 and time.time() < deadline:
        await asyncio.sleep(0.05)
    restarted = Running(make_trigger(), store)
    try:
        fired = [(await restarted.next_event(10))["head_sha"] for _ in oids]
        assert fired == oids
        await restarted.expect_nothing(1.5)
    finally:
        await restarted.stop()
    again = Running(make_trigger(), store)  # and a third start fires none of them again
    try:
        await again.expect_nothing(1.5)
    finally:
        await again.stop()


async def test_a_change_the_hub_never_delivered_is_reconciled(receiver, api, hub_connection):
    api.create_repo("alice/m")
    store = StateStore()
    running = await started(store)
    await running.stop()
    commit = await asyncio.to_thread(
        api.upload_file, path_or_fileobj=b"x", path_in_repo="x", repo_id="alice/m"
    )
    restarted = Running(make_trigger(), store)
    try:
        event = await restarted.next_event(10)
        assert event["head_sha"] == commit.oid and event["source"] == "reconcile"
        await restarted.expect_nothing(1.0)
    finally:
        await restarted.stop()


@pytest.fixture
def watched_trigger(airflow_db: None) -> Iterator[int]:
    """The watcher's trigger row, watching an active asset as the dag-processor leaves it: the triggerer's
    ``Trigger.submit_event`` stores an asset event for it."""
    from airflow import settings
    from airflow.models.asset import AssetActive, AssetModel, AssetWatcherModel
    from airflow.models.trigger import Trigger

    with settings.Session() as session:
        trigger = Trigger.from_object(make_trigger())
        asset = AssetModel(name="hf://models/alice/m", uri="hf://models/alice/m")
        session.add_all([trigger, asset])
        session.flush()
        session.add_all(
            [
                AssetActive.for_asset(asset),
                AssetWatcherModel(name="hub", asset_id=asset.id, trigger_id=trigger.id),
            ]
        )
        session.commit()
        ids = trigger.id, asset.id
    yield ids[0]
    with settings.Session() as session:
        session.query(AssetWatcherModel).filter(AssetWatcherModel.trigger_id == ids[0]).delete()
        session.query(AssetActive).filter(AssetActive.name == "hf://models/alice/m").delete()
        session.query(AssetModel).filter(AssetModel.id == ids[1]).delete()
        session.query(Trigger).filter(Trigger.id == ids[0]).delete()
        session.commit()


def stored_events(head: str) -> int:
    from airflow import settings
    from airflow.models.asset import AssetEvent

    with settings.Session() as session:
        return sum(e.extra.get("payload", {}).get("head_sha") == head for e in session.query(AssetEvent))


async def test_an_event_its_triggerer_never_stored_fires_again_once(
    receiver, api, hub_connection, watched_trigger, monkeypatch
):
    """A triggerer killed between the trigger's yield and storing the event loses nothing: the next holder
    asks the receiver, finds no asset event for that head, and fires it again once it is old enough. An
    event that was stored is confirmed, never fired again."""
    from airflow.models.trigger import Trigger
    from airflow.triggers.base import TriggerEvent

    from airflow_provider_hub.triggers import _watermarks as watermarks

    monkeypatch.setattr(watermarks, "REFIRE_AFTER_SECONDS", 1.0)
    api.create_repo("alice/m")
    api.create_webhook(
        url=f"{receiver}/{PATH}", watched=[{"type": "model", "name": "alice/m"}], secret=SECRET
    )
    store = StateStore()
    killed = await started(store, watched_trigger)
    commit = await asyncio.to_thread(
        api.upload_file, path_or_fileobj=b"1", path_in_repo="a", repo_id="alice/m"
    )
    assert (await killed.next_event(10))["head_sha"] == commit.oid
    await killed.stop()  # killed before its triggerer stored the event
    assert stored_events(commit.oid) == 0

    next_holder = Running(make_trigger(watched_trigger), store)
    try:
        event = await next_holder.next_event(10)
        assert event["head_sha"] == commit.oid
        # its triggerer stores it this time, as the real one does
        await asyncio.to_thread(Trigger.submit_event, watched_trigger, TriggerEvent(event))
        await next_holder.expect_nothing(2.5)
    finally:
        await next_holder.stop()
    assert stored_events(commit.oid) == 1

    third = Running(make_trigger(watched_trigger), store)
    try:
        await third.expect_nothing(2.5)
    finally:
        await third.stop()
    assert store.values["unconfirmed"] == []
    assert commit.oid in store.values["head::model/alice/m@main"]
