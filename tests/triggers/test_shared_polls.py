"""Shared polls (``hooks/shared_polls.py``): many triggers of one event loop read one listing per interval.

Every test runs the real triggers against the emulator over HTTP and counts what reached it with the
emulator's request counters: the listing routes (``/api/jobs/alice``, ``/v2/endpoint/alice``,
``/api/spaces``, ``.../discussions``) against the single reads (``/api/jobs/alice/<id>``, ...).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from huggingface_hub import HfApi

from airflow_provider_hub._offloop import async_hook
from airflow_provider_hub.hooks.async_clients import shared_client
from airflow_provider_hub.hooks.shared_polls import ACTIVE_JOBS, running_polls, shared_poll
from airflow_provider_hub.triggers._base import MAX_CONSECUTIVE_ERRORS
from airflow_provider_hub.triggers.discussions import HfPullRequestTrigger
from airflow_provider_hub.triggers.endpoints import HfInferenceEndpointTrigger
from airflow_provider_hub.triggers.jobs import HfJobTrigger
from airflow_provider_hub.triggers.spaces import HfSpaceTrigger
from tests.support.endpoints import _create
from tests.support.jobs import _run

JOB_LISTING = "/api/jobs/alice"


async def _events(*triggers: Any) -> list[dict[str, Any]]:
    """The one event of each trigger, all run together in this loop."""

    async def first(trigger: Any) -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError(f"{trigger!r} fired nothing")

    return list(await asyncio.gather(*(first(trigger) for trigger in triggers)))


async def _until(condition: Any, what: str) -> None:
    """Wait (at most 30 s, for a loaded machine) until ``condition()`` holds."""
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_many_job_triggers_share_one_listing_and_each_gets_its_own_event(hub_connection, capfd):
    jobs = [_run(hub_connection, durations=(0.0, 1.0 + 0.1 * index)) for index in range(12)]
    missing = "0" * 24
    # The hook's modules imported and the connection's client built, as in a triggerer already running
    # triggers: every trigger subscribes in its first step, and no listing outlasts an interval.
    await async_hook("huggingface_hub_default")
    await shared_client("huggingface_hub_default")
    hub_connection.reset_counts()
    triggers = [HfJobTrigger(job_id=job_id, namespace="alice", poll_interval=0.3) for job_id in jobs]
    events = await _events(*triggers, HfJobTrigger(job_id=missing, namespace="alice", poll_interval=0.3))

    assert [(e["status"], e["job_id"], e["stage"]) for e in events[:-1]] == [
        ("success", job_id, "COMPLETED") for job_id in jobs
    ]
    # A Job the listing of active Jobs does not show is read alone: once when it has ended, once when it
    # does not exist (and that read's not-found ends its wait as before).
    assert (events[-1]["status"], events[-1]["job_id"]) == ("error", missing)
    assert missing in events[-1]["message"]
    for job_id in [*jobs, missing]:
        assert hub_connection.request_count(f"{JOB_LISTING}/{job_id}") == 1, job_id
    # Every other read was answered by a listing shared by all the triggers: as many listings as the
    # readings of the trigger that waited longest, not one request per trigger and reading.
    logged = capfd.readouterr().out
    readings = [logged.count(f"Job alice/{job_id} is RUNNING") for job_id in jobs]
    assert min(readings) >= 1
    assert hub_connection.request_count(JOB_LISTING) == max(readings) + 1 < sum(readings)
    await _until(lambda: running_polls() == [], "the poll stopped at its first tick without a trigger")
    assert hub_connection.request_count(JOB_LISTING) == max(readings) + 1


async def test_a_failed_listing_reaches_every_waiting_trigger(hub_connection, monkeypatch):
    # No hook-level retries: each failed listing is one request and one failed read of every trigger.
    conn = json.loads(hub_connection.connection_uri())
    conn["extra"]["max_retries"] = 0
    monkeypatch.setenv("AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT", json.dumps(conn))
    jobs = [_run(hub_connection, durations=(0.0, 30.0)) for _ in range(5)]
    hub_connection.inject_fault(JOB_LISTING, status=503)
    hub_connection.reset_counts()
    events = await _events(*(HfJobTrigger(job_id=j, namespace="alice", poll_interval=0.05) for j in jobs))

    assert [(e["status"], e["job_id"]) for e in events] == [("error", job_id) for job_id in jobs]
    assert all("active Jobs of alice" in e["message"] and "503" in e["message"] for e in events)
    assert hub_connection.request_count(JOB_LISTING) == MAX_CONSECUTIVE_ERRORS
    assert hub_connection.request_count(f"{JOB_LISTING}/*") == 0


async def test_the_poll_stops_when_its_last_waiting_trigger_is_cancelled(hub_connection):
    jobs = [_run(hub_connection, durations=(0.0, 60.0)) for _ in range(4)]
    hub_connection.reset_counts()
    tasks = [
        asyncio.create_task(_events(HfJobTrigger(job_id=job_id, namespace="alice", poll_interval=0.1)))
        for job_id in jobs
    ]
    await _until(lambda: hub_connection.request_count(JOB_LISTING) >= 3, "three listings")
    (poll,) = running_polls()
    tasks[0].cancel()
    await asyncio.sleep(0.3)
    assert running_polls() == [poll], "the other triggers still wait"
    for task in tasks[1:]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await _until(lambda: running_polls() == [], "the poll stopped")
    listings = hub_connection.request_count(JOB_LISTING)
    await asyncio.sleep(0.5)  # five intervals: a poll still running would list five more times
    assert hub_connection.request_count(JOB_LISTING) == listings
    assert hub_connection.request_count(f"{JOB_LISTING}/*") == 0


async def test_triggers_at_different_intervals_get_a_poll_each(hub_connection):
    job_id = _run(hub_connection, durations=(0.0, 60.0))
    tasks = [
        asyncio.create_task(_events(HfJobTrigger(job_id=job_id, namespace="alice", poll_interval=interval)))
        for interval in (0.1, 0.1, 0.3)
    ]
    await _until(lambda: len(running_polls()) == 2, "two polls")
    assert sorted(poll.interval for poll in running_polls()) == [0.1, 0.3]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_endpoint_triggers_share_the_namespace_listing(hub_connection):
    names = [f"ep-{index}" for index in range(4)]
    for index, name in enumerate(names):
        _create(
            hub_connection, name, [("pending", 0.2), ("initializing", 0.1 + 0.1 * index), ("running", None)]
        )
    hub_connection.reset_counts()
    events = await _events(
        *(HfInferenceEndpointTrigger(name=name, namespace="alice", poll_interval=0.1) for name in names)
    )
    assert [(e["status"], e["name"], e["endpoint_status"]) for e in events] == [
        ("success", name, "running") for name in names
    ]
    assert hub_connection.request_count("/v2/endpoint/alice") >= 1
    assert hub_connection.request_count("/v2/endpoint/alice/*") == 0


async def test_space_triggers_share_the_listing_of_their_authors_spaces(hub_connection):
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    spaces = [f"alice/space-{index}" for index in range(3)]
    for index, repo_id in enumerate(spaces):
        hub_connection.set_space_plan(repo_id, [("BUILDING", 0.2 + 0.1 * index), ("RUNNING", None)])
        api.create_repo(repo_id, repo_type="space", space_sdk="gradio")
    hub_connection.reset_counts()
    events = await _events(*(HfSpaceTrigger(repo_id=repo_id, poll_interval=0.1) for repo_id in spaces))
    assert [(e["status"], e["repo_id"], e["stage"]) for e in events] == [
        ("success", repo_id, "RUNNING") for repo_id in spaces
    ]
    assert hub_connection.request_count("/api/spaces") >= 1
    assert hub_connection.request_count("/api/spaces/*/runtime") == 0


async def test_pull_request_triggers_share_the_listing_of_open_ones_and_read_a_closed_one_alone(
    hub_connection,
):
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    hub_connection.add_repo("alice/m", files={"a.txt": "a"})
    drafts = [api.create_pull_request("alice/m", title=f"change {index}").num for index in range(3)]
    closing = api.create_pull_request("alice/m", title="abandoned").num
    api.change_discussion_status("alice/m", closing, "open")
    hub_connection.reset_counts()
    waits = [
        HfPullRequestTrigger(repo_id="alice/m", num=num, target_statuses=["open"], poll_interval=0.1)
        for num in drafts
    ]
    merged_wait = HfPullRequestTrigger(
        repo_id="alice/m", num=closing, target_statuses=["merged"], poll_interval=0.1
    )

    async def change() -> None:
        await _until(lambda: hub_connection.request_count("/api/models/alice/m/discussions") >= 2, "listings")
        for num in drafts:
            await asyncio.to_thread(api.change_discussion_status, "alice/m", num, "open")
        await asyncio.to_thread(api.change_discussion_status, "alice/m", closing, "closed")

    events, _ = await asyncio.gather(_events(*waits, merged_wait), change())
    assert [(e["status"], e["num"], e["pr_status"]) for e in events] == [
        *[("success", num, "open") for num in drafts],
        ("failed", closing, "closed"),
    ]
    # Open (and draft) pull requests come from the listing; the closed one left it and was read alone.
    for num in drafts:
        assert hub_connection.request_count(f"/api/models/alice/m/discussions/{num}") == 0
    assert hub_connection.request_count(f"/api/models/alice/m/discussions/{closing}") == 1


@pytest.mark.parametrize("waiting", [1, 2])
async def test_a_listing_longer_than_the_single_reads_is_not_read_again(hub_connection, waiting):
    # 120 active Jobs fill three pages of the emulator's listing (50 a page): a listing would cost more
    # requests than the single reads of one or two waits.
    jobs = [_run(hub_connection, durations=(0.0, 60.0)) for _ in range(120)]
    hub_connection.reset_counts()
    watched = jobs[:waiting]  # the oldest: on the listing's last page (newest first)
    tasks = [
        asyncio.create_task(_events(HfJobTrigger(job_id=job_id, namespace="alice", poll_interval=0.1)))
        for job_id in watched
    ]
    await _until(
        lambda: all(hub_connection.request_count(f"{JOB_LISTING}/{j}") >= 3 for j in watched), "single reads"
    )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # The first listing gave up after as many pages as there were waits; every later read was a single one.
    assert hub_connection.request_count(JOB_LISTING) == waiting


async def test_each_waiting_read_is_answered_with_the_page_that_holds_its_entry(hub_connection):
    # 120 active Jobs fill three pages (50 a page, newest first); each page takes 0.4 s to answer.
    jobs = [_run(hub_connection, durations=(0.0, 60.0)) for _ in range(120)]
    on_pages = {1: jobs[-1], 2: jobs[-51], 3: jobs[0]}
    hook = await async_hook("huggingface_hub_default")
    await shared_client("huggingface_hub_default")
    hub_connection.inject_fault(JOB_LISTING, latency=0.4)
    hub_connection.reset_counts()
    poll = shared_poll(hook, ACTIVE_JOBS, "alice", interval=60.0)
    loop = asyncio.get_running_loop()
    answered_at: dict[int, float] = {}

    async def read(page: int) -> dict[str, Any] | None:
        entry = await poll.read(on_pages[page])
        answered_at[page] = loop.time()
        return entry

    entries = await asyncio.gather(*(read(page) for page in on_pages))

    assert [entry["id"] for entry in entries] == list(on_pages.values())
    assert hub_connection.request_count(JOB_LISTING) == 3
    # The first page's read did not wait for the two pages after it (0.8 s of answers).
    assert answered_at[3] - answered_at[1] >= 0.7
    assert answered_at[1] < answered_at[2] < answered_at[3]
