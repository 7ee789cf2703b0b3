"""The repo triggers against the emulator: HfRepoCommitTrigger fires on a head change and keeps its
watermark across restarts; HfRepoFileTrigger reads what HfRepoFileSensor reads
(``tests/sensors/test_repo.py``) and waits for a file.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import pytest

from airflow_provider_hub.triggers.repo import HfRepoFileTrigger
from airflow_provider_hub.triggers.webhooks import HfRepoCommitTrigger
from tests.support.webhooks import Running, StateStore


def make_trigger(poll_interval: float = 0.05, **kwargs) -> HfRepoCommitTrigger:
    return HfRepoCommitTrigger(repo_id="alice/m", poll_interval=poll_interval, **kwargs)


def test_serialize_round_trip_and_validation():
    classpath, kwargs = make_trigger(repo_type="dataset", revision="dev").serialize()
    assert classpath == "airflow_provider_hub.triggers.webhooks.HfRepoCommitTrigger"
    assert HfRepoCommitTrigger(**kwargs).serialize() == (classpath, kwargs)
    with pytest.raises(ValueError, match="repo_type"):
        HfRepoCommitTrigger(repo_id="alice/m", repo_type="bucket")
    with pytest.raises(ValueError, match="poll_interval"):
        HfRepoCommitTrigger(repo_id="alice/m", poll_interval=0)


async def recorded_first_sight(running: Running, store: StateStore) -> None:
    """Let the first poll record the head (the hook's first import runs on a worker thread: no fixed time)."""
    deadline = asyncio.get_running_loop().time() + 20
    while "head::model/alice/m@main" not in store.fields(running.trigger):
        assert asyncio.get_running_loop().time() < deadline, "the first poll never recorded the head"
        await running.expect_nothing(0.05)


async def test_fires_once_per_head_change(hub_connection, api):
    api.create_repo("alice/m")
    store = StateStore()
    running = Running(make_trigger(), store)
    try:
        await recorded_first_sight(running, store)  # first poll: the head is recorded, not fired
        commit = await asyncio.to_thread(
            api.upload_file, path_or_fileobj=b"1", path_in_repo="a", repo_id="alice/m"
        )
        event = await running.next_event()
        assert (event["repo_id"], event["head_sha"], event["source"]) == ("alice/m", commit.oid, "poll")
        assert event["previous_sha"] not in (None, commit.oid)
        await running.expect_nothing(0.3)
    finally:
        await running.stop()


async def test_each_poll_is_one_light_request(hub_connection, api):
    api.create_repo("alice/m")
    hub_connection.reset_counts()
    running = Running(make_trigger(), StateStore())
    try:
        await running.expect_nothing(0.5)
    finally:
        await running.stop()
    polls = hub_connection.request_count("/api/models/alice/m/revision/*")
    assert polls >= 3 and hub_connection.request_count() == polls


async def test_watermark_survives_restart(hub_connection, api):
    api.create_repo("alice/m")
    store = StateStore()
    running = Running(make_trigger(), store)
    await recorded_first_sight(running, store)
    await running.stop()
    before = api.model_info("alice/m").sha
    missed = await asyncio.to_thread(
        api.upload_file, path_or_fileobj=b"1", path_in_repo="a", repo_id="alice/m"
    )
    running = Running(make_trigger(), store)
    try:
        event = await running.next_event()
        assert (event["head_sha"], event["previous_sha"]) == (missed.oid, before)
        await running.expect_nothing(0.3)
    finally:
        await running.stop()
    running = Running(make_trigger(), store)
    try:
        await running.expect_nothing(0.3)  # same head after another restart: nothing
    finally:
        await running.stop()


async def test_two_watchers_of_one_asset_each_fire_for_a_change(hub_connection, api):
    """A fast and a slow poller on one asset (one store): the first to see a change does not take it from the
    other, since each trigger configuration keeps its own watermark."""
    api.create_repo("alice/m")
    store = StateStore()
    fast, slow = Running(make_trigger(), store), Running(make_trigger(poll_interval=0.08), store)
    try:
        await recorded_first_sight(fast, store)
        await recorded_first_sight(slow, store)
        commit = await asyncio.to_thread(
            api.upload_file, path_or_fileobj=b"1", path_in_repo="a", repo_id="alice/m"
        )
        assert (await fast.next_event())["head_sha"] == commit.oid
        assert (await slow.next_event())["head_sha"] == commit.oid
        assert fast.trigger.watermark_key != slow.trigger.watermark_key
    finally:
        await fast.stop()
        await slow.stop()


async def test_missing_repo_and_errors_keep_polling(hub_connection, api):
    running = Running(make_trigger(), StateStore())
    try:
        await running.expect_nothing(0.2)  # the repo does not exist yet
        await asyncio.to_thread(api.create_repo, "alice/m")
        await running.expect_nothing(0.2)  # first sight
        hub_connection.inject_fault("/api/models/alice/m/revision/*", status=500, times=2)
        commit = await asyncio.to_thread(
            api.upload_file, path_or_fileobj=b"1", path_in_repo="a", repo_id="alice/m"
        )
        assert (await running.next_event())["head_sha"] == commit.oid
    finally:
        await running.stop()


def test_trigger_reads_what_the_sensor_reads(api: Any, hub_connection: Any) -> None:
    """The trigger's one async ``paths-info`` read (no ``huggingface_hub``) and the sensor's ``HfApi`` one agree."""
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook, HfHubHook
    from airflow_provider_hub.triggers.repo import afind_file, find_file

    api.create_repo("alice/m")
    api.upload_file(path_or_fileobj=b"weights", path_in_repo="model.safetensors", repo_id="alice/m")
    api.upload_file(path_or_fileobj=b"{}", path_in_repo="conf/config.json", repo_id="alice/m")
    api.create_branch("alice/m", branch="dev")
    lookups = [
        ("alice/m", "model.safetensors", None),  # LFS
        ("alice/m", "conf/config.json", "dev"),  # regular, on a branch
        ("alice/m", "conf", None),  # a folder: not a file
        ("alice/m", "missing.bin", None),
        ("alice/m", "model.safetensors", "nope"),  # no such revision
        ("alice/nothing", "model.safetensors", None),  # no such repo
    ]

    async def read_all() -> list[Any]:
        try:
            hook = HfHubAsyncHook()
            return [await afind_file(hook, repo, path, "model", rev) for repo, path, rev in lookups]
        finally:
            await HfHubAsyncHook.aclose_shared_clients()

    found = asyncio.run(read_all())
    assert found == [find_file(HfHubHook(), repo, path, "model", rev) for repo, path, rev in lookups]
    assert found[0]["lfs_sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert found[1]["revision"] == "dev" and found[1]["lfs_sha256"] is None
    assert found[2:] == [None, None, None, None]


def test_trigger_serializes_to_plain_kwargs_and_polls(api: Any, hub_connection: Any) -> None:
    trigger = HfRepoFileTrigger(
        repo_id="alice/m",
        path_in_repo="a/b.txt",
        revision="dev",
        poll_interval=0.1,
        end_time=time.time() + 30,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_hub.triggers.repo.HfRepoFileTrigger"
    rebuilt = HfRepoFileTrigger(**kwargs)
    api.create_repo("alice/m")
    api.create_branch("alice/m", branch="dev")

    async def first_event() -> Any:
        task = asyncio.ensure_future(rebuilt.run().__anext__())
        await asyncio.sleep(0.3)
        assert not task.done()
        await asyncio.to_thread(
            api.upload_file, path_or_fileobj=b"x", path_in_repo="a/b.txt", repo_id="alice/m", revision="dev"
        )
        return await asyncio.wait_for(task, 10)

    event = asyncio.run(first_event())
    assert event.payload["status"] == "success" and event.payload["file"]["path"] == "a/b.txt"
    assert event.payload["file"]["revision"] == "dev"
