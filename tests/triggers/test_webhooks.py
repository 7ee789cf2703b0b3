"""HfWebhookTrigger: real deliveries from the emulator after real commits, filters, HTTP errors, restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from huggingface_hub import HfApi

from airflow_provider_hub.triggers.webhooks import HfWebhookTrigger
from airflow_provider_hub.utils import webhook_listener as listener_module
from tests.support.webhooks import Running, StateStore, _payload, free_port

SECRET = "webhook-secret-value"


@pytest.fixture
def secret_conn(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_WEBHOOK_SECRET", json.dumps({"conn_type": "generic", "password": SECRET})
    )
    return "hf_webhook_secret"


async def wait_listening(port: int, timeout: float = 5.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.02)
    raise AssertionError(f"nothing listens on {port}")


def make_trigger(port: int, **kwargs) -> HfWebhookTrigger:
    return HfWebhookTrigger(port=port, host="127.0.0.1", secret_conn_id="hf_webhook_secret", **kwargs)


async def start(trigger: HfWebhookTrigger, store: StateStore) -> Running:
    running = Running(trigger, store)
    await running.expect_nothing(0.05)  # lets run() bind and reconcile
    await wait_listening(trigger.port)
    if trigger.repo_ids:  # the first reconciliation has recorded the heads it found
        deadline = time.time() + 10
        while not any(k.startswith("head::") for k in store.fields(trigger)) and time.time() < deadline:
            await asyncio.sleep(0.02)
    return running


def test_serialize_round_trip():
    trigger = make_trigger(8795, repo_ids=["alice/m"], events=["repo.content"])
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_hub.triggers.webhooks.HfWebhookTrigger"
    assert HfWebhookTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert "webhook-secret" not in json.dumps(kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": 0}, "port"),
        ({"port": 8000, "path": "a/b"}, "path"),
        ({"port": 8000, "repo_ids": ["not-a-repo"]}, "not-a-repo"),
        ({"port": 8000, "events": []}, "events"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HfWebhookTrigger(secret_conn_id="s", **kwargs)


@contextlib.asynccontextmanager
async def watched_repo(api: HfApi) -> AsyncIterator[Running]:
    """``alice/m`` with a Hub webhook posting its changes to a running trigger that watches it."""
    api.create_repo("alice/m")
    port = free_port()
    running = await start(make_trigger(port, repo_ids=["alice/m"]), StateStore())
    try:
        api.create_webhook(
            url=f"http://127.0.0.1:{port}/hf-webhook",
            watched=[{"type": "model", "name": "alice/m"}],
            secret=SECRET,
        )
        yield running
    finally:
        await running.stop()


async def test_commit_on_the_emulator_fires_the_trigger(hub_connection, api, secret_conn):
    async with watched_repo(api) as running:
        commit = await asyncio.to_thread(
            api.upload_file, path_or_fileobj=b"weights", path_in_repo="w.bin", repo_id="alice/m"
        )
        event = await running.next_event()
        assert event["repo_id"] == "alice/m" and event["repo_type"] == "model"
        assert event["event"] == "repo.content.update" and event["source"] == "webhook"
        assert event["head_sha"] == commit.oid and event["revision"] == "main"
        assert event["updated_refs"][0]["ref"] == "refs/heads/main"
        assert event["updated_refs"][0]["new_sha"] == commit.oid
        deadline = time.time() + 5
        while not hub_connection.webhook_deliveries() and time.time() < deadline:
            await asyncio.sleep(0.02)
        assert hub_connection.webhook_deliveries()[-1]["status"] == 200


async def test_a_tag_fires_although_main_did_not_move(hub_connection, api, secret_conn):
    async with watched_repo(api) as running:
        commit = await asyncio.to_thread(
            api.upload_file, path_or_fileobj=b"weights", path_in_repo="w.bin", repo_id="alice/m"
        )
        assert (await running.next_event())["head_sha"] == commit.oid
        await asyncio.to_thread(api.create_tag, "alice/m", tag="v1", revision=commit.oid)
        tagged = await running.next_event()
        assert tagged["event"] == "repo.content.update" and tagged["head_sha"] == commit.oid
        assert [r["ref"] for r in tagged["updated_refs"]] == ["refs/tags/v1"]
        await running.expect_nothing(0.3)


async def test_filters_by_repo_and_event(hub_connection, api, secret_conn):
    for repo in ("alice/m", "alice/other"):
        api.create_repo(repo)
    port = free_port()
    running = await start(make_trigger(port, repo_ids=["alice/m"], events=["discussion"]), StateStore())
    try:
        api.create_webhook(
            url=f"http://127.0.0.1:{port}/hf-webhook",
            watched=[{"type": "user", "name": "alice"}],
            secret=SECRET,
        )
        await asyncio.to_thread(api.upload_file, path_or_fileobj=b"1", path_in_repo="a", repo_id="alice/m")
        await asyncio.to_thread(api.create_discussion, "alice/other", title="elsewhere")
        await running.expect_nothing(0.5)
        await asyncio.to_thread(api.create_discussion, "alice/m", title="please review")
        event = await running.next_event()
        assert event["event"] == "discussion.create" and event["repo_id"] == "alice/m"
        assert event["discussion"]["title"] == "please review"
        deadline = time.time() + 5
        while len(hub_connection.webhook_deliveries()) < 3 and time.time() < deadline:
            await asyncio.sleep(0.02)
        statuses = [d["status"] for d in hub_connection.webhook_deliveries()]
        assert statuses == [200, 200, 200]  # filtered deliveries are still accepted
    finally:
        await running.stop()


async def test_http_errors_and_the_listener_keeps_serving(secret_conn):
    port = free_port()
    running = await start(make_trigger(port), StateStore())
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            ok = {"X-Webhook-Secret": SECRET}
            assert (await client.post("/hf-webhook", json=_payload())).status_code == 401
            assert (
                await client.post("/hf-webhook", json=_payload(), headers={"X-Webhook-Secret": "no"})
            ).status_code == 401
            too_big = b"x" * (listener_module.MAX_BODY_BYTES + 1)
            assert (await client.post("/hf-webhook", content=too_big, headers=ok)).status_code == 413
            assert (await client.post("/hf-webhook", content=b"{not json", headers=ok)).status_code == 400
            assert (await client.post("/hf-webhook", json={"event": "x"}, headers=ok)).status_code == 400
            assert (await client.post("/other", json=_payload(), headers=ok)).status_code == 404
            assert (await client.get("/hf-webhook")).status_code == 405
            huge_headers = {**ok, "X-Padding": "y" * listener_module.MAX_HEADER_BYTES}
            assert (
                await client.post("/hf-webhook", json=_payload(), headers=huge_headers)
            ).status_code == 431
            await running.expect_nothing(0.1)
            large_but_allowed = {**_payload(), "padding": "x" * (listener_module.MAX_BODY_BYTES // 2)}
            response = await client.post("/hf-webhook", json=large_but_allowed, headers=ok)
            assert response.status_code == 200
        event = await running.next_event()
        assert event["head_sha"] == "a" * 40 and event["source"] == "webhook"
    finally:
        await running.stop()


async def test_same_head_never_fires_twice(secret_conn):
    port = free_port()
    running = await start(make_trigger(port), StateStore())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for sha in ("a" * 40, "a" * 40, "b" * 40):  # the Hub may redeliver
                await client.post("/hf-webhook", json=_payload(sha=sha), headers={"X-Webhook-Secret": SECRET})
        assert (await running.next_event())["head_sha"] == "a" * 40
        assert (await running.next_event())["head_sha"] == "b" * 40
        await running.expect_nothing(0.3)
    finally:
        await running.stop()


async def test_several_triggers_share_one_port_routed_by_path(secret_conn):
    port = free_port()
    first = await start(make_trigger(port, path="/a"), StateStore())
    second = await start(make_trigger(port, path="/b"), StateStore())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            ok = {"X-Webhook-Secret": SECRET}
            assert (await client.post("/b", json=_payload(sha="b" * 40), headers=ok)).status_code == 200
            assert (await client.post("/a", json=_payload(sha="a" * 40), headers=ok)).status_code == 200
        assert (await first.next_event())["head_sha"] == "a" * 40
        assert (await second.next_event())["head_sha"] == "b" * 40
        await first.stop()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (
                await client.post("/a", json=_payload(), headers={"X-Webhook-Secret": SECRET})
            ).status_code == 404
    finally:
        await second.stop()
    # the last user gone, the port is released
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_restart_reconciles_missed_changes_without_duplicates(hub_connection, api, secret_conn):
    api.create_repo("alice/m")
    port = free_port()
    store = StateStore()
    running = await start(make_trigger(port, repo_ids=["alice/m"]), store)
    await running.expect_nothing(0.2)  # first sight: records the head, fires nothing
    await running.stop()
    api.create_webhook(
        url=f"http://127.0.0.1:{port}/hf-webhook",
        watched=[{"type": "model", "name": "alice/m"}],
        secret=SECRET,
    )
    # Changes while the trigger is down: the deliveries fail (nothing listens), the Hub gives up.
    await asyncio.to_thread(api.upload_file, path_or_fileobj=b"1", path_in_repo="a", repo_id="alice/m")
    missed = await asyncio.to_thread(
        api.upload_file, path_or_fileobj=b"2", path_in_repo="b", repo_id="alice/m"
    )
    deadline = time.time() + 5
    while len(hub_connection.webhook_deliveries()) < 2 and time.time() < deadline:
        await asyncio.sleep(0.05)
    assert all(d["status"] is None for d in hub_connection.webhook_deliveries())

    running = Running(make_trigger(port, repo_ids=["alice/m"]), store)
    try:
        event = await running.next_event()
        assert event["source"] == "reconcile" and event["head_sha"] == missed.oid
        await running.expect_nothing(0.3)
        # a later commit is delivered live, once
        live = await asyncio.to_thread(
            api.upload_file, path_or_fileobj=b"3", path_in_repo="c", repo_id="alice/m"
        )
        event = await running.next_event()
        assert event["source"] == "webhook" and event["head_sha"] == live.oid
    finally:
        await running.stop()
    # restarted again with nothing new: nothing fires
    running = Running(make_trigger(port, repo_ids=["alice/m"]), store)
    try:
        await running.expect_nothing(0.5)
    finally:
        await running.stop()
