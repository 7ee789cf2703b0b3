"""HfPullRequestTrigger against the emulator: serialization and every outcome.

HfPullRequestSensor, which defers to it, is tested in ``tests/sensors/test_discussions.py``.
"""

from __future__ import annotations

import asyncio
import time

from airflow.sdk._shared.module_loading import import_string
from huggingface_hub import HfApi

from airflow_provider_hub.triggers.discussions import HfPullRequestTrigger


def test_trigger_serializes_to_plain_kwargs_and_round_trips():
    trigger = HfPullRequestTrigger(repo_id="alice/m", num=3, repo_type="dataset", poll_interval=5)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_hub.triggers.discussions.HfPullRequestTrigger"
    assert kwargs == {
        "repo_id": "alice/m",
        "num": 3,
        "repo_type": "dataset",
        "target_statuses": ["merged"],
        "hf_conn_id": "huggingface_hub_default",
        "poll_interval": 5.0,
        "end_time": None,
    }
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


async def test_trigger_success_failed_timeout_and_missing(hub_connection):
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    await asyncio.to_thread(api.create_repo, "alice/m")
    merged = (await asyncio.to_thread(api.create_pull_request, "alice/m", title="Merged")).num
    closed = (await asyncio.to_thread(api.create_pull_request, "alice/m", title="Closed")).num
    open_ = (await asyncio.to_thread(api.create_pull_request, "alice/m", title="Open")).num
    await asyncio.to_thread(api.merge_pull_request, "alice/m", merged)
    await asyncio.to_thread(api.change_discussion_status, "alice/m", closed, "closed")

    async def first(**kwargs):
        return [
            e.payload
            async for e in HfPullRequestTrigger(repo_id="alice/m", poll_interval=0.1, **kwargs).run()
        ]

    [ok] = await first(num=merged)
    head = (await asyncio.to_thread(api.model_info, "alice/m")).sha
    assert (ok["status"], ok["pr_status"], ok["merge_commit_oid"]) == ("success", "merged", head)
    [bad] = await first(num=closed)
    assert (bad["status"], bad["pr_status"]) == ("failed", "closed")
    [slow] = await first(num=open_, end_time=time.time() + 0.3)
    assert (slow["status"], slow["pr_status"]) == ("timeout", "draft")
    [missing] = await first(num=99)
    assert missing["status"] == "error" and "99" in missing["message"]
