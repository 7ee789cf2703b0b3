"""The Airflow 3.2 fallback: without an asset state store the watermark lives in an Airflow Variable.

The trigger runs inside a real task of a real DAG run (``dag.test()``), where Variables go through the task
SDK exactly as in the triggerer.
"""

from __future__ import annotations

import json

import pendulum
from airflow.sdk import DAG, task

from tests.helpers import task_states, xcom_value


def test_polling_watermark_in_a_variable_survives_restart(hub_connection, run_dag):
    url, token = hub_connection.url, hub_connection.token

    with DAG("watermark_variable", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:

        @task
        def watch() -> dict:
            import asyncio

            from huggingface_hub import HfApi

            # The watermark's own Variable calls: one at a time with the triggers' worker threads
            from airflow_provider_hub.triggers._watermarks import get_variable, set_variable
            from airflow_provider_hub.triggers.webhooks import HfRepoCommitTrigger

            api = HfApi(endpoint=url, token=token)
            api.create_repo("alice/var")

            async def next_event(trigger, seconds):
                events = trigger.run()
                pending = asyncio.ensure_future(events.__anext__())
                done, _ = await asyncio.wait({pending}, timeout=seconds)
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
                await events.aclose()
                return pending.result().payload if done else None

            def trigger(poll_interval=0.05):
                made = HfRepoCommitTrigger(repo_id="alice/var", poll_interval=poll_interval)
                assert getattr(made, "asset_state_store", None) is None  # not a watcher: Variable fallback
                return made

            async def first_sight(made):
                """Run ``made`` until its first poll recorded the head (no fixed time: imports vary)."""
                events = made.run()
                pending = asyncio.ensure_future(events.__anext__())
                for _ in range(400):
                    raw = await asyncio.to_thread(get_variable, f"hf_watermark::{made.watermark_key}")
                    if raw or pending.done():
                        break
                    await asyncio.sleep(0.05)
                fired = pending.result().payload if pending.done() else None
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
                await events.aclose()
                return fired

            async def scenario():
                first = await first_sight(trigger())  # first sight: recorded only
                # Another DAG's watcher of the repo, polling at its own pace, saw the same head.
                seen = await asyncio.to_thread(get_variable, f"hf_watermark::{trigger().watermark_key}")
                other_key = f"hf_watermark::{trigger(poll_interval=0.07).watermark_key}"
                await asyncio.to_thread(set_variable, other_key, seen)
                commit = await asyncio.to_thread(
                    api.upload_file, path_or_fileobj=b"v", path_in_repo="v", repo_id="alice/var"
                )
                missed = await next_event(trigger(), 20)  # a restart finds the change made while down
                again = await next_event(trigger(), 0.5)  # and never fires it twice
                other = await next_event(trigger(poll_interval=0.07), 20)  # nor takes it from the other
                return first, commit.oid, missed, again, other

            first, oid, missed, again, other = asyncio.run(scenario())
            return {
                "first": first,
                "oid": oid,
                "missed": missed,
                "again": again,
                "other": other,
                "variable": get_variable(f"hf_watermark::{trigger().watermark_key}"),
            }

        watch()

    run = run_dag(dag)
    assert task_states(run) == {"watch": "success"}
    result = xcom_value(run, "watch")
    assert result["first"] is None and result["again"] is None
    assert result["other"]["head_sha"] == result["oid"]
    assert result["missed"]["head_sha"] == result["oid"] and result["missed"]["source"] == "poll"
    fired = json.loads(result["variable"])["head::model/alice/var@main"]
    assert len(fired) == 2 and fired[-1] == result["oid"]  # the first sight, then the change
