"""A worker killed mid-task: the retry picks up where the killed try left the Hub, without duplicates.

The first try runs in a child process (the worker) that is ``SIGKILL``-ed at a chosen moment -- no
``on_kill``, no ``finally``, exactly what an OOM kill or a lost node does. The retry then runs the same
operator for the same task instance (try 2) in this process.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hub.operators.jobs import HfRunJobOperator
from airflow_provider_hub.operators.repo import HfUploadFolderOperator, HfUploadLargeFolderOperator
from tests.reliability._support import commit_count, deterministic_bytes, repo_state

MiB = 1024 * 1024
RUN_ID = "scheduled__2026-01-01T00:00:00+00:00"

#: The first try, as a worker would run it: the operator's execute for task instance (dag, task, run).
WORKER = textwrap.dedent(
    """
    import json, sys
    from airflow_provider_hub.operators.jobs import HfRunJobOperator
    from airflow_provider_hub.operators.repo import HfUploadFolderOperator, HfUploadLargeFolderOperator

    class TaskInstance:
        def __init__(self, dag_id, task_id, run_id):
            self.dag_id, self.task_id, self.run_id, self.map_index, self.try_number = dag_id, task_id, run_id, -1, 1
        def xcom_push(self, key, value):
            pass

    kind, kwargs = sys.argv[1], json.loads(sys.argv[2])
    operator_class = {
        "job": HfRunJobOperator, "upload": HfUploadFolderOperator, "large": HfUploadLargeFolderOperator
    }[kind]
    operator = operator_class(**kwargs)
    operator.execute({"ti": TaskInstance("kill_and_retry", kwargs["task_id"], sys.argv[3])})
    """
)


class _TaskInstance:
    def __init__(self, task_id: str, try_number: int) -> None:
        self.dag_id, self.task_id, self.run_id, self.map_index = "kill_and_retry", task_id, RUN_ID, -1
        self.try_number = try_number
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def start_worker(kind: str, kwargs: dict[str, Any], log_path: Path) -> subprocess.Popen[bytes]:
    """The first try in a child process; its output goes to ``log_path`` (a pipe could fill and block it)."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER, kind, json.dumps(kwargs), RUN_ID],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )


def kill_when(
    worker: subprocess.Popen[bytes], log_path: Path, condition: Callable[[], bool], timeout: float = 60
) -> None:
    """``SIGKILL`` the worker as soon as ``condition()`` holds; fail if it ended or never got there."""
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.poll() is not None:
            raise AssertionError(f"the worker ended before the kill point:\n{log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            worker.kill()
            raise AssertionError(f"the worker never reached the kill point:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=10) == -signal.SIGKILL


def test_retry_after_a_kill_mid_job_reattaches_and_starts_no_second_job(
    hub_connection: Any, api: Any, tmp_path: Path
) -> None:
    hub_connection.set_job_plan(durations=(0.2, 4.0), logs=("step 1", "step 2", "done"))
    kwargs = {
        "task_id": "train",
        "image": "python:3.12",
        "command": ["python", "train.py"],
        "poll_interval": 0.2,
    }
    worker = start_worker("job", kwargs, tmp_path / "worker.log")
    kill_when(
        worker,
        tmp_path / "worker.log",
        lambda: any(job.status.stage == "RUNNING" for job in api.list_jobs(namespace="alice")),
    )
    [started] = api.list_jobs(namespace="alice")

    retry = HfRunJobOperator(**kwargs)
    result = retry.execute({"ti": _TaskInstance("train", try_number=2)})

    assert result["reattached"] is True
    assert result["job_id"] == started.id and result["stage"] == "COMPLETED"
    assert [job.id for job in api.list_jobs(namespace="alice")] == [started.id]  # 0 duplicate Jobs


def test_retry_after_a_kill_mid_upload_completes_with_one_commit(
    hub_connection: Any, api: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    for index in range(4):
        (folder / f"shard_{index}.safetensors").write_bytes(deterministic_bytes(f"shard {index}", 8 * MiB))
    for index in range(50):
        (folder / f"file_{index:02d}.txt").write_text(f"small file {index}")
    api.create_repo("alice/big")
    # Slow the LFS transfers down so the kill lands while they are under way, not after the commit.
    slow = hub_connection.inject_fault("/_lfs/objects/*", latency=1.0, method="PUT")
    kwargs = {
        "task_id": "upload",
        "repo_id": "alice/big",
        "folder_path": str(folder),
        "commit_message": "Upload",
    }
    worker = start_worker("upload", kwargs, tmp_path / "worker.log")
    kill_when(
        worker,
        tmp_path / "worker.log",
        lambda: hub_connection.request_count("/_lfs/objects/*", method="PUT") > 0,
    )
    hub_connection.remove_fault(slow)
    assert commit_count(api, "alice/big") == 1  # only the repo's initial commit: the kill came first

    result = HfUploadFolderOperator(**kwargs).execute({"ti": _TaskInstance("upload", try_number=2)})

    assert result["commit_oid"] and result["files_added"] == 54
    assert commit_count(api, "alice/big") == 2
    state = repo_state(api, "alice/big")
    assert set(state) == {".gitattributes", *(p.name for p in folder.iterdir())}
    for index in range(4):
        expected = hashlib.sha256(deterministic_bytes(f"shard {index}", 8 * MiB)).hexdigest()
        assert state[f"shard_{index}.safetensors"][1] == expected


def added_by(hub: Any, repo_id: str, commits: list[str]) -> list[str]:
    """Every path ``commits`` added or changed, all of them together (a path twice: committed twice)."""
    repo = hub.state.repos.get("dataset", repo_id)
    added: list[str] = []
    for oid in commits:
        commit = repo.commits[oid]
        parent = repo.commits[commit.parents[0]].tree if commit.parents else {}
        added.extend(path for path, entry in commit.tree.items() if parent.get(path) != entry)
    return added


def _paths_added(hub: Any, repo_id: str) -> list[str]:
    """Every path the commits of ``main`` added or changed (in the order they did)."""
    return added_by(hub, repo_id, [c.commit_id for c in reversed(repo_commits(hub, repo_id))])


def wait_for_killed_requests(hub: Any, quiet: float = 1.5) -> None:
    """Wait until the emulator is done with the killed worker's requests (it reads what reached its socket
    before the kill, and may even store an upload whose body had all arrived): no byte received for ``quiet`` s."""
    deadline = time.monotonic() + 60
    last, since = hub.bytes_received(), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, "the emulator kept receiving bytes after the kill"
        time.sleep(0.1)
        if hub.bytes_received() != last:
            last, since = hub.bytes_received(), time.monotonic()


def repo_commits(hub: Any, repo_id: str) -> list[Any]:
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.url, token=hub.token).list_repo_commits(repo_id, repo_type="dataset")


@pytest.mark.parametrize("kill_at", ["mid_lfs_uploads", "between_commits"])
def test_retry_after_a_kill_mid_large_upload_sends_only_what_is_left(
    hub_connection: Any, api: Any, tmp_path: Path, kill_at: str
) -> None:
    folder = tmp_path / "corpus"
    (folder / "shards").mkdir(parents=True)
    (folder / "texts").mkdir()
    shards = {f"shards/{i}.bin": deterministic_bytes(f"shard {i}", 2 * MiB) for i in range(6)}
    texts = {f"texts/{i:02d}.txt": f"text file {i}".encode() for i in range(30)}
    for rel, data in {**shards, **texts}.items():
        (folder / rel).write_bytes(data)
    # Two LFS files per commit: the upload makes several commits (each one exactly once).
    hub_connection.set_commit_limits(max_lfs_files=2)
    if kill_at == "mid_lfs_uploads":
        slow = hub_connection.inject_fault("/_lfs/objects/*", latency=0.5, method="PUT")
        reached = lambda: hub_connection.request_count("/_lfs/objects/*", method="PUT") >= 3  # noqa: E731
    else:
        slow = hub_connection.inject_fault("/api/datasets/*/commit/*", latency=0.5, method="POST")
        reached = lambda: len(repo_commits(hub_connection, "alice/corpus")) >= 3  # noqa: E731
    kwargs = {
        "task_id": "upload",
        "repo_id": "alice/corpus",
        "repo_type": "dataset",
        "folder_path": str(folder),
        "num_workers": 2,
    }
    api.create_repo("alice/corpus", repo_type="dataset")
    worker = start_worker("large", kwargs, tmp_path / "worker.log")
    kill_when(worker, tmp_path / "worker.log", reached)
    hub_connection.remove_fault(slow)
    wait_for_killed_requests(hub_connection)
    killed_try = [c.commit_id for c in repo_commits(hub_connection, "alice/corpus")][:-1]
    blobs = hub_connection.state.repos.blobs
    lfs_left = sum(len(d) for d in shards.values() if not blobs.has(hashlib.sha256(d).hexdigest()))
    if kill_at == "between_commits":
        assert killed_try and lfs_left == 0  # some commits landed; every shard was uploaded before them
    else:
        assert not killed_try and 0 < lfs_left < sum(len(d) for d in shards.values())
    hub_connection.reset_counts()

    result = HfUploadLargeFolderOperator(**kwargs).execute({"ti": _TaskInstance("upload", try_number=2)})

    assert hub_connection.bytes_received("lfs") <= lfs_left  # nothing the Hub had was sent again
    history = [c.commit_id for c in repo_commits(hub_connection, "alice/corpus")]
    assert result["commits"] == history[: len(result["commits"])][::-1]  # this try's commits only
    assert not set(result["commits"]) & set(killed_try)
    assert result["head_oid"] == history[0]
    added = [p for p in _paths_added(hub_connection, "alice/corpus") if p != ".gitattributes"]
    assert result["files"] == len(added) - len(added_by(hub_connection, "alice/corpus", killed_try))
    assert sorted(added) == sorted({**shards, **texts})  # every file, none committed twice
    state = repo_state(api, "alice/corpus", repo_type="dataset")
    for rel, data in shards.items():
        assert state[rel][1] == hashlib.sha256(data).hexdigest()
