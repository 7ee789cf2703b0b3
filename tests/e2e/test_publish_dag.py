"""End to end: DAG A publishes a model (create repo, upload with an LFS file, delete + copy commit, tag)
with real ``dag.test()``; DAG B is scheduled on the asset DAG A publishes.

``dag.test()`` runs no scheduler, so DAG B is not started here: the test shows what the scheduler acts on,
namely the asset events (with the revision in ``extra``) that DAG A's run recorded, and DAG B queued on them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_hub.assets import hf_asset
from airflow_provider_hub.operators.repo import (
    HfCreateCommitOperator,
    HfCreateRepoOperator,
    HfCreateTagOperator,
    HfUploadFolderOperator,
)
from tests.helpers import task_states, xcom_value
from tests.secrets_scan import assert_no_secret_in, dag_test_places

REPO = "alice/e2e-sentiment"
MiB = 1 << 20


def publisher_dag(folder: Path) -> Any:
    from airflow.sdk import DAG

    model = hf_asset(REPO)
    with DAG("publish_model", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
        create = HfCreateRepoOperator(task_id="create_repo", repo_id=REPO, private=False)
        upload = HfUploadFolderOperator(
            task_id="upload",
            repo_id=REPO,
            folder_path=str(folder),
            path_in_repo="checkpoints",
            commit_message="Checkpoint {{ ds }}",
            outlets=[model],
        )
        promote = HfCreateCommitOperator(
            task_id="promote",
            repo_id=REPO,
            operations=[
                {
                    "op": "copy",
                    "src_path_in_repo": "checkpoints/model.safetensors",
                    "path_in_repo": "model.safetensors",
                },
                {"op": "delete", "path_in_repo": "checkpoints/scratch.txt"},
                {"op": "add", "path_in_repo": "VERSION", "content": "{{ run_id }}"},
            ],
            commit_message="Promote checkpoint",
            parent_commit="{{ ti.xcom_pull(task_ids='upload')['commit_oid'] }}",
            outlets=[model],
        )
        tag = HfCreateTagOperator(
            task_id="tag",
            repo_id=REPO,
            tag="v1",
            revision="{{ ti.xcom_pull(task_ids='promote')['commit_oid'] }}",
            tag_message="First release",
            outlets=[model],
        )
        create >> upload >> promote >> tag
    return dag


def consumer_dag() -> Any:
    from airflow.sdk import DAG, task

    with DAG("evaluate_model", schedule=[hf_asset(REPO)], start_date=pendulum.datetime(2026, 1, 1)) as dag:

        @task
        def evaluate(triggering_asset_events: Any = None) -> str:
            event = triggering_asset_events[hf_asset(REPO)][-1]
            return event.extra["revision"]

        evaluate()
    return dag


def register(*dags: Any) -> None:
    """Write DAGs to the metadata database, as the DAG processor would."""
    from airflow import settings
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.serialization.serialized_objects import LazyDeserializedDAG

    with settings.Session() as session:
        DagBundlesManager().sync_bundles_to_db(session=session)
        session.commit()
        update_dag_parsing_results_in_db(
            "dags-folder",
            None,
            [LazyDeserializedDAG.from_dag(d) for d in dags],
            {},
            None,
            set(),
            session=session,
        )
        session.commit()


def unpause(dag_id: str) -> None:
    from airflow import settings
    from airflow.models.dag import DagModel
    from sqlalchemy import update

    with settings.Session() as session:
        session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=False))
        session.commit()


def test_publish_then_downstream_dag_is_queued_on_the_asset(
    hub_connection: Any, run_dag: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow import settings
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel, DagScheduleAssetReference
    from huggingface_hub import HfApi
    from sqlalchemy import select

    folder = tmp_path / "checkpoint"
    folder.mkdir()
    weights = os.urandom(2 * MiB)
    (folder / "model.safetensors").write_bytes(weights)  # LFS by the repo's .gitattributes
    (folder / "config.json").write_text('{"labels": 2}')
    (folder / "scratch.txt").write_text("temporary")

    register(consumer_dag())
    unpause("evaluate_model")  # DAGs start paused; the scheduler only queues runs of active DAGs
    dag_run = run_dag(publisher_dag(folder))
    assert task_states(dag_run) == {
        "create_repo": "success",
        "upload": "success",
        "promote": "success",
        "tag": "success",
    }

    uploaded = xcom_value(dag_run, "upload")
    promoted = xcom_value(dag_run, "promote")
    tagged = xcom_value(dag_run, "tag")
    assert uploaded["files_added"] == 3 and uploaded["commit_oid"]
    assert (promoted["files_copied"], promoted["files_deleted"], promoted["files_added"]) == (1, 1, 1)
    assert tagged == {
        "repo_id": REPO,
        "repo_type": "model",
        "repo_url": f"{hub_connection.url}/{REPO}",
        "tag": "v1",
        "commit_oid": promoted["commit_oid"],
        "created": True,
    }
    assert xcom_value(dag_run, "upload", key="hf_commit_url") == uploaded["commit_url"]
    assert xcom_value(dag_run, "tag", key="hf_repo_url") == f"{hub_connection.url}/{REPO}"

    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    files = set(api.list_repo_files(REPO, revision="v1"))
    assert {
        "model.safetensors",
        "checkpoints/model.safetensors",
        "checkpoints/config.json",
        "VERSION",
    } <= files
    assert "checkpoints/scratch.txt" not in files
    released = api.get_paths_info(REPO, ["model.safetensors"], revision="v1")[0]
    assert released.lfs is not None and released.lfs.sha256 == hashlib.sha256(weights).hexdigest()
    assert [(t.name, t.target_commit) for t in api.list_repo_refs(REPO).tags] == [
        ("v1", promoted["commit_oid"])
    ]
    # Exactly one commit per publishing task, with the templated message rendered.
    history = [(c.commit_id, c.title) for c in api.list_repo_commits(REPO)]
    ds = dag_run.logical_date.strftime("%Y-%m-%d") if dag_run.logical_date else None
    assert history[:2] == [
        (promoted["commit_oid"], "Promote checkpoint"),
        (uploaded["commit_oid"], f"Checkpoint {ds}"),
    ]
    assert len(history) == 3  # and the repo's initial commit

    uri = hf_asset(REPO).uri
    with settings.Session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri, AssetEvent.source_run_id == dag_run.run_id)
            .order_by(AssetEvent.timestamp)
        ).all()
        assert [(e.source_task_id, e.extra["revision"]) for e in events] == [
            ("upload", uploaded["commit_oid"]),
            ("promote", promoted["commit_oid"]),
            ("tag", promoted["commit_oid"]),
        ]
        assert events[-1].extra["tag"] == "v1"
        # DAG B is scheduled on that asset, and the events queued a run of it for the scheduler.
        references = session.scalars(
            select(DagScheduleAssetReference)
            .join(AssetModel, DagScheduleAssetReference.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri)
        ).all()
        assert [r.dag_id for r in references] == ["evaluate_model"]
        queued = session.scalars(
            select(AssetDagRunQueue).where(AssetDagRunQueue.target_dag_id == "evaluate_model")
        )
        assert len(queued.all()) == 1

    # The run's one secret, the connection's token, is nowhere in what it logged, returned or rendered.
    assert_no_secret_in(dag_test_places(capfd.readouterr()), {"token": hub_connection.token})
