"""Release through review: a candidate is opened as a pull request, evaluated on a Hub Job, its metric
commented on the PR, and the PR merged when it passes (closed otherwise); a merge is tagged, the repo made
public, and the demo Space pointed at the new revision, restarted and waited for. A second DAG keeps a dataset healthy every week: it squashes its snapshot history and frees the LFS
storage nothing references any more, in a dry run first.

Every step is safe to retry: a retried task finds the pull request or comment its earlier try made, merging
a merged PR and closing a closed one succeed as they are. A bare ``repo_id`` takes the connection's namespace.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_hub.operators.discussions import (
    HfChangeDiscussionStatusOperator,
    HfCommentDiscussionOperator,
    HfCreatePullRequestOperator,
    HfMergePullRequestOperator,
)
from airflow_provider_hub.operators.repo import (
    HfCreateRepoOperator,
    HfCreateTagOperator,
    HfDeleteLfsFilesOperator,
    HfSquashHistoryOperator,
    HfUpdateRepoSettingsOperator,
    HfUploadFolderOperator,
)
from airflow_provider_hub.operators.spaces import HfRestartSpaceOperator, HfUpdateSpaceOperator

PR = "{{ ti.xcom_pull(task_ids='open_review')['num'] }}"


# [START howto_release_review]
@dag(
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "repo_id": Param("release-review-demo", type="string", description="Model repo to release"),
        "min_accuracy": Param(0.9, type="number", description="Accuracy a candidate needs to be merged"),
        "space_id": Param("release-review-demo-space", type="string", description="Demo Space serving it"),
    },
    tags=["huggingface", "example"],
)
def example_release_review():
    create_repo = HfCreateRepoOperator(task_id="create_repo", repo_id="{{ params.repo_id }}", private=True)
    open_review = HfCreatePullRequestOperator(
        task_id="open_review",
        repo_id="{{ params.repo_id }}",
        title="Candidate {{ dag_run.run_after | ds }}",
        description="Trained and evaluated by Airflow; merged when its accuracy passes.",
    )

    @task.hf_job(flavor="cpu-basic", timeout="30m")
    def evaluate(seed: int) -> dict:
        """Runs on Hub Jobs: a candidate model and its held-out accuracy."""
        import random

        rng = random.Random(seed)
        weights = [round(rng.uniform(-1, 1), 4) for _ in range(8)]
        accuracy = 0.91 + rng.random() * 0.05
        print(f"candidate accuracy {accuracy:.3f}")
        return {"weights": weights, "accuracy": round(accuracy, 3)}

    @task
    def package(candidate: dict) -> str:
        folder = Path(tempfile.mkdtemp(prefix="hf_candidate_"))
        (folder / "config.json").write_text(json.dumps({"weights": candidate["weights"]}))
        (folder / "README.md").write_text(f"# Candidate\n\nAccuracy: {candidate['accuracy']}\n")
        return str(folder)

    candidate = evaluate(seed=7)
    push = HfUploadFolderOperator(
        task_id="push_candidate",
        repo_id="{{ params.repo_id }}",
        folder_path=package(candidate),
        revision="{{ ti.xcom_pull(task_ids='open_review')['git_reference'] }}",
        commit_message="Candidate weights {{ dag_run.run_after | ds }}",
    )
    report = HfCommentDiscussionOperator(
        task_id="report",
        repo_id="{{ params.repo_id }}",
        discussion_num=PR,
        comment="Held-out accuracy: **{{ ti.xcom_pull(task_ids='evaluate')['accuracy'] }}** "
        "(needs {{ params.min_accuracy }})",
    )

    @task.branch
    def decide(candidate: dict, params: dict | None = None) -> str:
        return "merge" if candidate["accuracy"] >= params["min_accuracy"] else "reject"

    merge = HfMergePullRequestOperator(
        task_id="merge", repo_id="{{ params.repo_id }}", discussion_num=PR, comment="Accuracy passes: merging"
    )
    reject = HfChangeDiscussionStatusOperator(
        task_id="reject", repo_id="{{ params.repo_id }}", discussion_num=PR, comment="Below the bar: closing"
    )
    tag = HfCreateTagOperator(
        task_id="tag_release",
        repo_id="{{ params.repo_id }}",
        tag="v{{ dag_run.run_after | ds_nodash }}",
        revision="{{ ti.xcom_pull(task_ids='merge')['merge_commit_oid'] }}",
        exist_ok=True,
    )
    publish = HfUpdateRepoSettingsOperator(
        task_id="make_public", repo_id="{{ params.repo_id }}", private=False
    )

    create_repo >> open_review >> push >> report >> decide(candidate) >> [merge, reject]
    point_demo = HfUpdateSpaceOperator(
        task_id="point_demo",
        repo_id="{{ params.space_id }}",
        variables={"MODEL_REVISION": "{{ ti.xcom_pull(task_ids='merge')['merge_commit_oid'] }}"},
    )
    restart_demo = HfRestartSpaceOperator(
        task_id="restart_demo", repo_id="{{ params.space_id }}", poll_interval=15
    )
    merge >> tag >> publish >> point_demo >> restart_demo


# [END howto_release_review]


# [START howto_repo_hygiene]
@dag(
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "dataset": Param("nightly-snapshots", type="string", description="Dataset to keep healthy"),
        "keep_days": Param(30, type="integer", description="LFS files pushed more recently are kept"),
    },
    tags=["huggingface", "example"],
)
def example_repo_hygiene():
    # Squashing destroys the branch's history (tags keep their commits): the snapshots are the record.
    squash = HfSquashHistoryOperator(
        task_id="squash_history",
        repo_id="{{ params.dataset }}",
        repo_type="dataset",
        commit_message="Snapshots up to {{ dag_run.run_after | ds }}",
    )
    preview = HfDeleteLfsFilesOperator(
        task_id="preview_clean_up",
        repo_id="{{ params.dataset }}",
        repo_type="dataset",
        older_than="{{ params.keep_days }}",
    )
    clean_up = HfDeleteLfsFilesOperator(
        task_id="clean_up",
        repo_id="{{ params.dataset }}",
        repo_type="dataset",
        older_than="{{ params.keep_days }}",
        dry_run=False,
    )
    squash >> preview >> clean_up


# [END howto_repo_hygiene]

example_release_review()
example_repo_hygiene()
