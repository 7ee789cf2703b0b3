"""Refresh whatever depends on a Hub dataset as soon as it changes: event-driven, no schedule.

The dataset is an Airflow asset with a watcher. By default the Hub's webhooks reach Airflow's api-server
under ``/hf-webhooks/hf-webhook`` and the watcher (:class:`HfWebhookTrigger`) fires for what they recorded;
run ``example_dataset_refresh_webhook_setup`` once to create the webhook on the Hub. Where the Hub cannot
reach your Airflow, set ``"trigger": "poll"`` and :class:`HfRepoCommitTrigger` polls the branch head instead. Either way each change of ``main`` becomes an
asset event carrying the new commit, and a run of ``example_dataset_refresh`` reads the changed file at
exactly that commit and writes a summary.

Configuration: the JSON Variable ``hf_dataset_refresh``, every key optional::

    {"dataset": "acme/reviews", "trigger": "webhook" | "poll",
     "airflow_url": "https://airflow.example.com", "summary_root": "s3://acme-reports/reviews"}

The webhook secret is the password of the connection ``hf_webhook_secret``.
"""

from __future__ import annotations

import csv
import json
from collections import Counter

import pendulum
from airflow.sdk import AssetWatcher, ObjectStoragePath, Variable, dag, task

from airflow_provider_hub.assets import hf_asset
from airflow_provider_hub.operators.webhooks import HfCreateWebhookOperator
from airflow_provider_hub.triggers.webhooks import HfRepoCommitTrigger, HfWebhookTrigger

# The watched repo and the watcher are part of the DAGs' shape, so the configuration is read at parse time
# (one Variable, one lookup).
CONFIG = {
    "dataset": "acme/reviews",
    "trigger": "webhook",
    "airflow_url": "http://localhost:8080",
    "summary_root": "file:///tmp/hf_dataset_refresh",
    **Variable.get("hf_dataset_refresh", default={}, deserialize_json=True),
}
DATASET = CONFIG["dataset"]
DATA_FILE = "data/reviews.csv"

# [START howto_webhook_watcher]
webhook_watcher = AssetWatcher(
    name="hub_webhook",
    trigger=HfWebhookTrigger(
        path="hf-webhook",
        secret_conn_id="hf_webhook_secret",
        repo_ids=[f"datasets/{DATASET}"],
        events=["repo.content"],
    ),
)
# [END howto_webhook_watcher]

# [START howto_polling_watcher]
polling_watcher = AssetWatcher(
    name="hub_poll",
    trigger=HfRepoCommitTrigger(repo_id=DATASET, repo_type="dataset", poll_interval=300),
)
# [END howto_polling_watcher]

reviews = hf_asset(
    DATASET, "dataset", watchers=[polling_watcher if CONFIG["trigger"] == "poll" else webhook_watcher]
)


# [START howto_webhook_setup]
@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), tags=["huggingface", "example"])
def example_dataset_refresh_webhook_setup():
    """Create (or update, it is idempotent) the Hub webhook that feeds ``hub_webhook``."""
    HfCreateWebhookOperator(
        task_id="create_webhook",
        url=f"{CONFIG['airflow_url']}/hf-webhooks/hf-webhook",
        watched=[{"type": "dataset", "name": DATASET}],
        domains=["repo"],
        secret_conn_id="hf_webhook_secret",
    )


# [END howto_webhook_setup]


# [START howto_refresh_on_change]
@dag(
    schedule=[reviews],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["huggingface", "example"],
)
def example_dataset_refresh():
    @task
    def changed_revision(triggering_asset_events=None) -> dict:
        """The repo and commit of the newest change among the events that started this run; a run started
        by hand (no asset event) refreshes from the current head of ``main``."""
        events = triggering_asset_events.get(reviews) if triggering_asset_events else None
        if not events:
            from airflow_provider_hub.hooks.hub import HfHubHook

            return {"repo_id": DATASET, "revision": HfHubHook().repo_head(DATASET, repo_type="dataset")}
        event = events[-1]
        # A watcher's event carries the trigger's payload; a publishing task's outlet event has the revision.
        payload = event.extra.get("payload", event.extra)
        return {
            "repo_id": payload.get("repo_id", DATASET),
            "revision": payload.get("head_sha") or payload["revision"],
        }

    @task
    def refresh(change: dict) -> dict:
        """Read the changed file at exactly that commit and write its summary next to the earlier ones."""
        source = ObjectStoragePath(
            f"hf://datasets/{change['repo_id']}@{change['revision']}/{DATA_FILE}",
            conn_id="huggingface_hub_default",
        )
        with source.open("r") as lines:
            labels = Counter(row["label"] for row in csv.DictReader(lines))
        summary = {**change, "rows": labels.total(), "labels": dict(sorted(labels.items()))}
        summaries = ObjectStoragePath(CONFIG["summary_root"])
        summaries.mkdir(parents=True, exist_ok=True)
        (summaries / f"{change['revision']}.json").write_text(json.dumps(summary, indent=2))
        print(f"{change['repo_id']}@{change['revision']}: {summary['rows']} rows, labels {summary['labels']}")
        return summary

    refresh(changed_revision())


# [END howto_refresh_on_change]

example_dataset_refresh_webhook_setup()
example_dataset_refresh()
