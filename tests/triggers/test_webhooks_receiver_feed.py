"""HfWebhookTrigger reading the api-server's webhook receiver: real deliveries from the emulator after real
commits, recorded by the receiver (``tests/plugins/test_webhook_receiver.py``), read back over HTTP, across
restarts and a triggerer that never stored its event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from airflow_provider_hub.triggers.webhooks import HfWebhookTrigger
from tests.support.webhook_receiver import PATH, SECRET
from tests.support.webhooks import Running, StateStore


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
    kept = {"cursor", "head::model/alice/m@main"}
    while not kept <= store.fields(running.trigger).keys() and time.time() < deadline:
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
    assert store.fields(third.trigger)["unconfirmed"] == []
    assert commit.oid in store.fields(third.trigger)["head::model/alice/m@main"]
