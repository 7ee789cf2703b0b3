"""DAGs of the distributed test (``tests/distributed``), beside the unmodified ``example_dags/`` bundle.

- ``dist_publish``: a Hub Job, then one upload of a folder holding a file named after the run: ten runs at once
  must make ten commits (one each) and ten Jobs (one each).
- ``dist_waits``: a deferred Job wait and a deferred Inference Endpoint wait, long enough for the test to
  kill the triggerer holding them.
- ``dist_slow_upload``: one upload, which the test slows down on the emulator so it can kill the worker
  running it; the retry must make the only commit.
- ``dist_on_push``: the consumer of the webhook watcher: a run per asset event, recording the payload.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_hub.operators.endpoints import HfCreateInferenceEndpointOperator
from airflow_provider_hub.operators.jobs import HfRunJobOperator
from airflow_provider_hub.operators.repo import HfUploadFolderOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
#: How long the waits of ``dist_waits`` last (the Job sleeps that long; the Endpoint is pending that long).
WAIT_SECONDS = int(os.environ.get("DIST_WAIT_SECONDS", "30"))
RETRIES = {"retries": 2, "retry_delay": datetime.timedelta(seconds=1)}


@task
def folder(run_id=None) -> str:
    """A folder holding one file named after the run, so every run's upload changes the repo."""
    path = Path(tempfile.mkdtemp(prefix="dist_upload_"))
    name = "".join(c if c.isalnum() else "_" for c in run_id)
    (path / "runs").mkdir()
    (path / "runs" / f"{name}.txt").write_text(f"{run_id}\n")
    return str(path)


with DAG("dist_publish", schedule=None, start_date=START, catchup=False, max_active_runs=16, tags=["dist"]):
    train = HfRunJobOperator(
        task_id="train",
        image="python:3.12",
        command=["python", "-c", "print('trained')"],
        labels={"dist": "publish"},
        deferrable=True,
        poll_interval=1,
        **RETRIES,
    )
    upload = HfUploadFolderOperator(
        task_id="upload",
        repo_id="alice/dist-publish",
        folder_path=folder(),
        commit_message="dist publish {{ run_id }}",
        **RETRIES,
    )
    train >> upload

with DAG("dist_waits", schedule=None, start_date=START, catchup=False, tags=["dist"]):
    HfRunJobOperator(
        task_id="job_wait",
        image="python:3.12",
        command=["python", "-c", f"import time; time.sleep({WAIT_SECONDS}); print('slept')"],
        labels={"dist": "waits"},
        deferrable=True,
        poll_interval=1,
        **RETRIES,
    )
    HfCreateInferenceEndpointOperator(
        task_id="endpoint_wait",
        name="dist-wait",
        repository="alice/dist-waits",
        task="text-classification",
        if_exists="update",
        deferrable=True,
        poll_interval=1,
        **RETRIES,
    )

with DAG("dist_slow_upload", schedule=None, start_date=START, catchup=False, tags=["dist"]):
    HfUploadFolderOperator(
        task_id="upload",
        repo_id="alice/dist-slow",
        folder_path=folder(),
        commit_message="dist slow upload {{ run_id }}",
        **RETRIES,
    )

# The webhook watcher: the receiver in the api-servers records deliveries, the trigger reads them from there.
if os.environ.get("DIST_WEBHOOK_REPO"):
    from airflow_provider_hub.triggers.webhooks import HfWebhookTrigger

    pushed = Asset(
        f"hf://models/{os.environ['DIST_WEBHOOK_REPO']}",
        watchers=[
            AssetWatcher(
                name="dist_webhook",
                trigger=HfWebhookTrigger(
                    path="hf-webhook",
                    secret_conn_id="hf_webhook_secret",
                    repo_ids=[os.environ["DIST_WEBHOOK_REPO"]],
                    events=["repo.content"],
                ),
            )
        ],
    )

    with DAG("dist_on_push", schedule=[pushed], start_date=START, catchup=False, tags=["dist"]):

        @task(retries=2, retry_delay=datetime.timedelta(seconds=1))
        def record(triggering_asset_events=None) -> list:
            return [ev.extra.get("payload") for evs in triggering_asset_events.values() for ev in evs]

        record()
