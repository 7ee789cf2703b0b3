"""HfRepoCommitTrigger: fires on a head change of the emulator's repo, keeps its watermark across restarts."""

from __future__ import annotations

import asyncio

import pytest
from huggingface_hub import HfApi

from airflow_provider_hub.triggers.webhooks import HfRepoCommitTrigger
from tests.triggers.test_webhooks import Running, StateStore


@pytest.fixture
def api(hub_connection):
    return HfApi(endpoint=hub_connection.url, token=hub_connection.token)


def make_trigger(**kwargs) -> HfRepoCommitTrigger:
    return HfRepoCommitTrigger(repo_id="alice/m", poll_interval=0.05, **kwargs)


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
    while "head::model/alice/m@main" not in store.values:
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
