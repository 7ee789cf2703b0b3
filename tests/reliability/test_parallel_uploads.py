"""20 uploads to one repo at the same time: every file is present afterwards, each upload one commit.

``dag.test()`` runs the task instances of a DAG one after another (it has no parallel mode without a
real executor, and Airflow's LocalExecutor refuses SQLite), so true concurrency comes from 20 threads
calling ``HfUploadFolderOperator.execute`` at once, as 20 worker slots would. The mapped DAG test runs
the same 20 uploads as one mapped task through real Airflow (sequentially).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pendulum

from airflow_provider_hub.operators.repo import HfUploadFolderOperator
from tests.helpers import task_states
from tests.reliability._support import commit_count, deterministic_bytes, repo_state

UPLOADS = 20


class _TaskInstance:
    """The task-instance surface ``execute`` uses outside a DAG run: XCom pushes of the links."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def shard_folders(root: Path) -> list[Path]:
    """One folder per upload: a shard's own LFS file and a small file, distinct paths per shard."""
    folders = []
    for index in range(UPLOADS):
        folder = root / f"shard_{index:02d}"
        (folder / f"shard_{index:02d}").mkdir(parents=True)
        (folder / f"shard_{index:02d}" / "weights.safetensors").write_bytes(
            deterministic_bytes(f"shard {index}", 64 * 1024)
        )
        (folder / f"shard_{index:02d}" / "meta.json").write_text(f'{{"shard": {index}}}')
        folders.append(folder)
    return folders


def expected_paths() -> set[str]:
    return {f"shard_{i:02d}/{name}" for i in range(UPLOADS) for name in ("weights.safetensors", "meta.json")}


def test_twenty_concurrent_upload_tasks_lose_no_file(hub_connection: Any, api: Any, tmp_path: Path) -> None:
    api.create_repo("alice/shards")
    folders = shard_folders(tmp_path)
    results: dict[int, dict[str, Any]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(UPLOADS)

    def upload(index: int) -> None:
        operator = HfUploadFolderOperator(
            task_id=f"upload_{index}",
            repo_id="alice/shards",
            folder_path=str(folders[index]),
            commit_message=f"Shard {index}",
        )
        try:
            start.wait()
            results[index] = operator.execute({"ti": _TaskInstance()})
        except BaseException as exc:  # reported below with the shard it came from
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(index,)) for index in range(UPLOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert set(repo_state(api, "alice/shards")) == expected_paths() | {".gitattributes"}
    assert all(results[i]["files_added"] == 2 and results[i]["commit_oid"] for i in range(UPLOADS))
    assert len({r["commit_oid"] for r in results.values()}) == UPLOADS
    assert commit_count(api, "alice/shards") == 1 + UPLOADS


def test_twenty_mapped_upload_tasks_in_one_dag_run(
    hub_connection: Any, run_dag: Any, api: Any, tmp_path: Path
) -> None:
    from airflow.sdk import DAG

    folders = shard_folders(tmp_path)
    with DAG(
        "parallel_uploads", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False
    ) as dag:
        HfUploadFolderOperator.partial(
            task_id="upload", repo_id="alice/mapped-shards", create_repo=True, commit_message="Shard"
        ).expand(folder_path=[str(folder) for folder in folders])

    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"upload": "success"}
    assert len(dag_run.get_task_instances()) == UPLOADS
    assert {ti.state for ti in dag_run.get_task_instances()} == {"success"}
    assert set(repo_state(api, "alice/mapped-shards")) == expected_paths() | {".gitattributes"}
    assert commit_count(api, "alice/mapped-shards") == 1 + UPLOADS
