"""Mirror a daily S3 export to a Hub dataset, then archive the published snapshot back to S3.

Each day's objects under ``s3://{bucket}/{prefix}{date}/`` become ``data/{date}/`` in the dataset, in one
commit (a re-run with nothing changed makes none). The files of that exact commit are then copied to
``s3://{bucket}/published/{commit}/``, so downstream jobs read precisely what the Hub serves.

``{date}`` is the run's date, ``dag_run.run_after``: with Airflow's default cron timetable a scheduled
run's logical date, and also set on a manual run (UI, CLI, REST API) without a logical date, which has no
``ds``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_hub.transfers.hub_to_s3 import HfHubToS3Operator
from airflow_provider_hub.transfers.s3_to_hub import S3ToHfHubOperator


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "s3_bucket": Param("acme-exports", type="string", description="Bucket holding the daily exports"),
        "s3_prefix": Param(
            "reviews/", type="string", description="Key prefix of the exports, before the date"
        ),
        "repo_id": Param("acme/reviews", type="string", description="Hub dataset to publish to"),
    },
    tags=["huggingface", "example"],
)
def example_s3_mirror():
    # [START howto_s3_mirror]
    publish = S3ToHfHubOperator(
        task_id="s3_to_hub",
        s3_bucket="{{ params.s3_bucket }}",
        s3_prefix="{{ params.s3_prefix }}{{ dag_run.run_after | ds }}/",
        repo_id="{{ params.repo_id }}",
        repo_type="dataset",
        path_in_repo="data/{{ dag_run.run_after | ds }}",
        create_repo=True,
        private=True,
        commit_message="Export of {{ dag_run.run_after | ds }} from s3://{{ params.s3_bucket }}/{{ params.s3_prefix }}",
    )
    # [END howto_s3_mirror]

    # [START howto_hub_to_s3]
    archive = HfHubToS3Operator(
        task_id="hub_to_s3",
        repo_id="{{ params.repo_id }}",
        repo_type="dataset",
        revision="{{ ti.xcom_pull(task_ids='s3_to_hub')['head_oid'] }}",
        allow_patterns=["data/{{ dag_run.run_after | ds }}/*"],
        s3_bucket="{{ params.s3_bucket }}",
        s3_prefix="published/{{ ti.xcom_pull(task_ids='s3_to_hub')['head_oid'] }}",
    )
    # [END howto_hub_to_s3]

    @task
    def report(published: dict, archived: dict) -> str:
        where = f"s3://{archived['s3_bucket']}/{archived['s3_prefix']}/"
        print(f"{published['s3_objects']} objects published ({published['commit_url'] or 'no change'})")
        print(f"{archived['files_copied']} files of {archived['commit_oid']} archived to {where}")
        return where

    publish >> archive
    report(publish.output, archive.output)


example_s3_mirror()
