"""Publishing operators against the Hub emulator with the real ``huggingface_hub`` client.

Operators run their ``execute`` with a small context (a task instance that records XCom pushes for the
extra links, and Airflow's own outlet-event accessors); full DAG runs are in ``tests/e2e``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import structlog

from airflow_provider_hub.exceptions import HfHubConflictError
from airflow_provider_hub.hooks.hash_cache import RACY_WINDOW_NS, HashCache, cache_path
from airflow_provider_hub.operators.repo import (
    HfCreateCommitOperator,
    HfCreateRepoOperator,
    HfCreateTagOperator,
    HfUploadFolderOperator,
)
from airflow_provider_hub.utils.progress import ProgressLog
from tests.support.operators import COMMIT_ROUTE, make_context, run
from tests.support.permissions import assert_unreadable, owned_by_nobody, permissions_enforced

MiB = 1 << 20


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"a": 1}')
    (folder / "sub" / "notes.txt").write_text("notes")
    (folder / "weights.bin").write_bytes(os.urandom(11 * MiB))  # > 10 MiB: an LFS file
    return folder


def commits(api: Any, repo_id: str, repo_type: str = "model") -> list[Any]:
    return api.list_repo_commits(repo_id, repo_type=repo_type)


# -- create repo -----------------------------------------------------------------------------------------
def test_create_repo_is_idempotent_with_exist_ok(hub_connection: Any, api: Any) -> None:
    first = run(HfCreateRepoOperator(task_id="c", repo_id="alice/new", repo_type="dataset", private=True))
    second = run(HfCreateRepoOperator(task_id="c", repo_id="alice/new", repo_type="dataset"))
    assert (
        first
        == second
        == {
            "repo_id": "alice/new",
            "repo_type": "dataset",
            "repo_url": f"{hub_connection.url}/datasets/alice/new",
        }
    )
    assert api.repo_info("alice/new", repo_type="dataset").private is True


def test_create_repo_without_exist_ok_fails_on_existing_repo(hub_connection: Any, api: Any) -> None:
    api.create_repo("alice/taken")
    with pytest.raises(Exception, match="(?i)already|conflict|409"):
        run(HfCreateRepoOperator(task_id="c", repo_id="alice/taken", exist_ok=False))


def test_bare_repo_name_uses_connection_namespace(hub_connection: Any, api: Any) -> None:
    result = run(HfCreateRepoOperator(task_id="c", repo_id="bare"))
    assert result["repo_id"] == "alice/bare"
    assert api.repo_exists("alice/bare")


# -- upload folder ---------------------------------------------------------------------------------------
def test_upload_folder_commits_once_then_is_a_no_op(
    hub_connection: Any, api: Any, model_folder: Path
) -> None:
    op = HfUploadFolderOperator(
        task_id="up", repo_id="alice/m", folder_path=str(model_folder), create_repo=True, commit_message="v1"
    )
    context = make_context()
    result = op.execute(context)
    assert result["commit_oid"] and result["commit_url"].endswith(result["commit_oid"])
    assert result["files_added"] == 3 and result["files_unchanged"] == 0 and result["files_deleted"] == 0
    assert result["bytes_uploaded"] == 11 * MiB + len('{"a": 1}') + len("notes")
    assert result["repo_url"] == f"{hub_connection.url}/alice/m"
    assert context["ti"].pushed == {"hf_repo_url": result["repo_url"], "hf_commit_url": result["commit_url"]}
    info = {f.path: f for f in api.get_paths_info("alice/m", ["config.json", "sub/notes.txt", "weights.bin"])}
    assert info["weights.bin"].lfs is not None and info["weights.bin"].size == 11 * MiB
    assert info["sub/notes.txt"].lfs is None

    hub_connection.reset_counts()
    again = run(
        HfUploadFolderOperator(
            task_id="up", repo_id="alice/m", folder_path=str(model_folder), commit_message="v1"
        )
    )
    assert again["commit_oid"] is None and again["no_changes"] is True
    assert again["files_added"] == 0 and again["files_unchanged"] == 3
    assert again["head_oid"] == result["commit_oid"]
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 0
    assert hub_connection.request_count("/_lfs/objects/*", "PUT") == 0
    assert [c.title for c in commits(api, "alice/m")][0] == "v1"


def test_upload_folder_counts_added_deleted_unchanged(
    api: Any, hub_connection: Any, model_folder: Path
) -> None:
    api.create_repo("alice/m")
    api.upload_folder(repo_id="alice/m", folder_path=str(model_folder), path_in_repo="ckpt")
    api.upload_file(path_or_fileobj=b"stale", path_in_repo="ckpt/old.tmp", repo_id="alice/m")
    api.upload_file(path_or_fileobj=b"keep", path_in_repo="other/old.tmp", repo_id="alice/m")
    (model_folder / "config.json").write_text('{"a": 2}')
    (model_folder / "scratch.tmp").write_text("ignored")

    result = run(
        HfUploadFolderOperator(
            task_id="up",
            repo_id="alice/m",
            folder_path=str(model_folder),
            path_in_repo="ckpt",
            ignore_patterns=["*.tmp"],
            delete_patterns=["*.tmp"],
            commit_message="update",
            commit_description="nightly",
        )
    )
    assert (result["files_added"], result["files_deleted"], result["files_unchanged"]) == (1, 1, 2)
    files = set(api.list_repo_files("alice/m"))
    assert "ckpt/old.tmp" not in files and "ckpt/scratch.tmp" not in files
    assert "other/old.tmp" in files  # outside path_in_repo: untouched
    assert api.hf_hub_download("alice/m", "ckpt/config.json", revision=result["commit_oid"]) is not None
    assert commits(api, "alice/m")[0].message.strip() == "nightly"


def test_upload_folder_allow_patterns_and_branch(api: Any, hub_connection: Any, model_folder: Path) -> None:
    api.create_repo("alice/m")
    api.create_branch("alice/m", branch="dev")
    result = run(
        HfUploadFolderOperator(
            task_id="up",
            repo_id="alice/m",
            folder_path=str(model_folder),
            allow_patterns=["*.json", "sub/*"],
            revision="dev",
        )
    )
    assert result["files_added"] == 2 and result["revision"] == "dev"
    assert set(api.list_repo_files("alice/m", revision="dev")) >= {"config.json", "sub/notes.txt"}
    assert "config.json" not in api.list_repo_files("alice/m")


def test_upload_folder_create_pr_returns_pr_url(api: Any, hub_connection: Any, model_folder: Path) -> None:
    api.create_repo("alice/m")
    result = run(
        HfUploadFolderOperator(
            task_id="up",
            repo_id="alice/m",
            folder_path=str(model_folder),
            allow_patterns=["*.json"],
            create_pr=True,
        )
    )
    assert result["pr_url"] and "/discussions/" in result["pr_url"]
    assert "config.json" not in api.list_repo_files("alice/m")
    num = result["pr_url"].rsplit("/", 1)[1]
    assert "config.json" in api.list_repo_files("alice/m", revision=f"refs/pr/{num}")


def test_progress_is_logged_at_an_interval_not_per_file(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.progress")
    progress = ProgressLog(
        "Uploading", total_files=10_000, total_bytes=10_000 * 100, interval=3600, logger=logger
    )
    with caplog.at_level(logging.INFO, logger="test.progress"):
        for _ in range(10_000):
            progress.advance(1, 100)
        progress.finish()
    lines = [r.getMessage() for r in caplog.records if r.name == "test.progress"]
    assert len(lines) == 1
    assert lines[0].startswith("Uploading: 10000/10000 files, 976.6 KiB/976.6 KiB (") and lines[0].endswith(
        "/s)"
    )


# -- bad input: clear error, no request ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"folder_path": "/nonexistent/folder"},
            "folder_path '/nonexistent/folder' is not an existing folder",
        ),
        ({"folder_path": "EMPTY"}, "has no file to upload (the folder is empty)"),
        ({"allow_patterns": ["*.nothing"]}, "has no file to upload (after allow_patterns/ignore_patterns)"),
        ({"repo_id": "alice/bad--name"}, "repo_id 'alice/bad--name' is not a valid Hub repo id"),
        ({"repo_id": "a/b/c"}, "repo_id must look like 'namespace/name'; got 'a/b/c'"),
        ({"repo_type": "modle"}, "repo_type must be one of model, dataset, space; got 'modle'"),
        ({"path_in_repo": "../escape"}, "path_in_repo '../escape' escapes the repository"),
        ({"path_in_repo": "a/../../b"}, "path_in_repo 'a/../../b' escapes the repository"),
        ({"create_pr": True, "revision": "dev"}, "create_pr=True opens the pull request against main"),
    ],
)
def test_upload_folder_rejects_bad_input_before_any_request(
    hub_connection: Any, model_folder: Path, tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    arguments = {"repo_id": "alice/m", "folder_path": str(model_folder), "create_repo": True, **kwargs}
    if arguments["folder_path"] == "EMPTY":
        arguments["folder_path"] = str(tmp_path / "empty")
    hub_connection.reset_counts()
    with pytest.raises(ValueError) as excinfo:
        run(HfUploadFolderOperator(task_id="up", **arguments))
    assert message in str(excinfo.value)
    assert hub_connection.request_count() == 0


# -- create commit ---------------------------------------------------------------------------------------
def test_create_commit_add_delete_copy(api: Any, hub_connection: Any, tmp_path: Path) -> None:
    api.create_repo("alice/m")
    big = os.urandom(11 * MiB)
    api.upload_file(path_or_fileobj=big, path_in_repo="ckpt/best.bin", repo_id="alice/m")
    api.upload_file(path_or_fileobj=b"old", path_in_repo="old.txt", repo_id="alice/m")
    v1 = api.upload_file(path_or_fileobj=b"first", path_in_repo="notes.txt", repo_id="alice/m").oid
    api.upload_file(path_or_fileobj=b"second", path_in_repo="notes.txt", repo_id="alice/m")
    local = tmp_path / "root" / "metrics.json"
    local.parent.mkdir()
    local.write_text('{"acc": 0.9}')

    operations = [
        {"op": "add", "path_in_repo": "metrics.json", "local_path": str(local)},
        {"op": "add", "path_in_repo": "VERSION", "content": "2026-11-22"},
        {"op": "add", "path_in_repo": "raw.bin", "content": b"\x00\x01"},
        {"op": "copy", "src_path_in_repo": "ckpt/best.bin", "path_in_repo": "model.bin"},
        {"op": "copy", "src_path_in_repo": "notes.txt", "path_in_repo": "notes_v1.txt", "src_revision": v1},
        {"op": "delete", "path_in_repo": "old.txt"},
        {"op": "delete", "path_in_repo": "ckpt", "is_folder": True},
    ]
    op = HfCreateCommitOperator(
        task_id="commit",
        repo_id="alice/m",
        operations=operations,
        commit_message="promote",
        local_root=str(tmp_path / "root"),
    )
    result = run(op)
    assert (result["files_added"], result["files_copied"], result["files_deleted"]) == (3, 2, 2)
    files = set(api.list_repo_files("alice/m"))
    assert {"metrics.json", "VERSION", "raw.bin", "model.bin", "notes_v1.txt", "notes.txt"} <= files
    assert not {"old.txt", "ckpt/best.bin"} & files
    model = api.get_paths_info("alice/m", ["model.bin"])[0]
    assert model.lfs is not None and model.size == 11 * MiB
    assert Path(api.hf_hub_download("alice/m", "notes_v1.txt")).read_bytes() == b"first"
    assert Path(api.hf_hub_download("alice/m", "VERSION")).read_text() == "2026-11-22"
    assert len(commits(api, "alice/m")) == 6

    # The same operations again: everything is already at the head, so no second commit.
    hub_connection.reset_counts()
    again = run(
        HfCreateCommitOperator(
            task_id="commit", repo_id="alice/m", operations=operations, commit_message="promote"
        )
    )
    assert again["commit_oid"] is None and again["files_unchanged"] == 3
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 0


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        ([], "operations must be a non-empty list of dicts"),
        ("{{ not json }}", "operations must be a list of dicts (or its JSON)"),
        (
            [{"op": "add", "path_in_repo": "a", "content": "x"}, {"op": "rename", "path_in_repo": "b"}],
            "operations[1].op must be one of 'add', 'delete', 'copy'; got 'rename'",
        ),
        (
            [{"op": "add", "path_in_repo": "a"}],
            "operations[0]: give exactly one of 'local_path' or 'content'",
        ),
        (
            [{"op": "add", "path_in_repo": "a", "content": "x", "local_path": "/etc/hosts"}],
            "operations[0]: give exactly one of 'local_path' or 'content'",
        ),
        (
            [{"op": "add", "path_in_repo": "a", "local_path": "/etc/hosts"}],
            "operations[0].local_path '/etc/hosts' is outside local_root",
        ),
        (
            [{"op": "add", "path_in_repo": "a", "local_path": "ROOT/missing.txt"}],
            "operations[0].local_path 'ROOT/missing.txt' is not an existing file",
        ),
        (
            [{"op": "add", "path_in_repo": "../x", "content": "x"}],
            "operations[0].path_in_repo '../x' escapes the repository",
        ),
        ([{"op": "delete"}], "operations[0]: missing field(s) ['path_in_repo'] for op 'delete'"),
        (
            [{"op": "delete", "path_in_repo": "a", "recursive": True}],
            "operations[0]: unknown field(s) ['recursive']",
        ),
        ([{"op": "copy", "path_in_repo": "b"}], "operations[0]: missing field(s) ['src_path_in_repo']"),
        (
            [{"op": "add", "path_in_repo": "a", "content": 3}],
            "operations[0].content must be str or bytes; got int",
        ),
        (["add a"], "operations[0] must be a dict"),
    ],
)
def test_create_commit_validates_every_entry_before_any_request(
    hub_connection: Any, tmp_path: Path, operations: Any, message: str
) -> None:
    for entry in operations if isinstance(operations, list) else ():
        if isinstance(entry, dict) and str(entry.get("local_path", "")).startswith("ROOT/"):
            entry["local_path"] = entry["local_path"].replace("ROOT", str(tmp_path))
            message = message.replace("ROOT", str(tmp_path))
    hub_connection.reset_counts()
    with pytest.raises(ValueError) as excinfo:
        run(
            HfCreateCommitOperator(
                task_id="commit",
                repo_id="alice/m",
                operations=operations,
                commit_message="x",
                local_root=str(tmp_path),
            )
        )
    assert message in str(excinfo.value)
    assert hub_connection.request_count() == 0


def test_create_commit_rejects_bad_parent_commit_and_policy(hub_connection: Any) -> None:
    with pytest.raises(ValueError, match="on_head_moved must be 'fail' or 'rebase'; got 'merge'"):
        HfCreateCommitOperator(
            task_id="c", repo_id="alice/m", operations=[], commit_message="x", on_head_moved="merge"
        )
    hub_connection.reset_counts()
    with pytest.raises(ValueError, match="parent_commit must be a commit id"):
        run(
            HfCreateCommitOperator(
                task_id="c",
                repo_id="alice/m",
                operations=[{"op": "add", "path_in_repo": "a", "content": "x"}],
                commit_message="x",
                parent_commit="not-a-sha",
            )
        )
    assert hub_connection.request_count() == 0


def _commit_op(parent: str, policy: str, path: str = "b.txt") -> HfCreateCommitOperator:
    return HfCreateCommitOperator(
        task_id="c",
        repo_id="alice/m",
        operations=[{"op": "add", "path_in_repo": path, "content": "mine"}],
        commit_message="mine",
        parent_commit=parent,
        on_head_moved=policy,
    )


def test_parent_commit_on_unmoved_head_commits(api: Any, hub_connection: Any) -> None:
    api.create_repo("alice/m")
    parent = api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id="alice/m").oid
    result = run(_commit_op(parent, "fail"))
    assert result["commit_oid"] and not result["rebased"]
    assert commits(api, "alice/m")[1].commit_id == parent


def test_parent_commit_head_moved_fail_policy(api: Any, hub_connection: Any) -> None:
    api.create_repo("alice/m")
    parent = api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id="alice/m").oid
    head = api.upload_file(path_or_fileobj=b"other", path_in_repo="c.txt", repo_id="alice/m").oid
    with pytest.raises(
        HfHubConflictError, match=f"The head of model alice/m is {head}, not parent_commit {parent}"
    ):
        run(_commit_op(parent, "fail"))
    assert "b.txt" not in api.list_repo_files("alice/m")


def test_parent_commit_head_moved_rebase_without_conflict(api: Any, hub_connection: Any) -> None:
    api.create_repo("alice/m")
    parent = api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id="alice/m").oid
    head = api.upload_file(path_or_fileobj=b"other", path_in_repo="c.txt", repo_id="alice/m").oid
    result = run(_commit_op(parent, "rebase"))
    assert result["rebased"] is True and result["commit_oid"]
    history = commits(api, "alice/m")
    assert history[0].commit_id == result["commit_oid"] and history[1].commit_id == head
    assert {"a.txt", "b.txt", "c.txt"} <= set(api.list_repo_files("alice/m"))


def test_parent_commit_head_moved_rebase_with_conflict(api: Any, hub_connection: Any) -> None:
    api.create_repo("alice/m")
    parent = api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id="alice/m").oid
    api.upload_file(path_or_fileobj=b"theirs", path_in_repo="b.txt", repo_id="alice/m")
    with pytest.raises(
        HfHubConflictError, match=r"Cannot rebase onto the head .*: b.txt changed since parent_commit"
    ):
        run(_commit_op(parent, "rebase"))
    assert Path(api.hf_hub_download("alice/m", "b.txt")).read_text() == "theirs"


# -- reliability -----------------------------------------------------------------------------------------
def test_commit_applied_then_failed_is_recognised_not_repeated(
    api: Any, hub_connection: Any, model_folder: Path
) -> None:
    """The Hub applies the commit, then the response is lost (a 500): the operator sees its commit at
    the head and does not send it again."""
    api.create_repo("alice/m")

    failed = []

    def fail_after_apply(change: Any) -> None:
        if change.scope == "repo.content" and change.repo_id == "alice/m" and not failed:
            failed.append(change.head_sha)
            raise RuntimeError("response lost after the commit was applied")

    hub_connection.state.subscribe(fail_after_apply)
    result = run(HfUploadFolderOperator(task_id="up", repo_id="alice/m", folder_path=str(model_folder)))
    assert failed and result["recovered"] is True
    assert result["commit_oid"] == failed[0]
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 1
    assert len(commits(api, "alice/m")) == 2  # the initial commit and ours, once
    assert {"config.json", "sub/notes.txt", "weights.bin"} <= set(api.list_repo_files("alice/m"))


def test_commit_dropped_before_apply_is_retried_once(
    api: Any, hub_connection: Any, model_folder: Path
) -> None:
    api.create_repo("alice/m")
    hub_connection.inject_fault(COMMIT_ROUTE, drop=True, times=1, method="POST")
    result = run(HfUploadFolderOperator(task_id="up", repo_id="alice/m", folder_path=str(model_folder)))
    assert result["recovered"] is False and result["commit_oid"]
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 2
    assert len(commits(api, "alice/m")) == 2


def test_task_retry_after_lfs_upload_reuses_uploads_and_commits_once(
    api: Any, hub_connection: Any, model_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First try: LFS uploaded, then the commit keeps failing (the task dies). The retry uploads
    nothing again and makes exactly one commit."""
    api.create_repo("alice/m")
    fault = hub_connection.inject_fault(COMMIT_ROUTE, status=503, method="POST")
    no_retries = json.loads(hub_connection.connection_uri())
    no_retries["extra"]["max_retries"] = 0
    monkeypatch.setenv("AIRFLOW_CONN_HF_NO_RETRIES", json.dumps(no_retries))
    first = HfUploadFolderOperator(
        task_id="up", repo_id="alice/m", folder_path=str(model_folder), hf_conn_id="hf_no_retries"
    )
    with pytest.raises(Exception, match="503|Injected fault"):
        run(first)
    assert hub_connection.request_count("/_lfs/objects/*", "PUT") == 1
    hub_connection.remove_fault(fault)
    hub_connection.reset_counts()

    result = run(HfUploadFolderOperator(task_id="up", repo_id="alice/m", folder_path=str(model_folder)))
    assert result["files_added"] == 3
    assert hub_connection.request_count("/_lfs/objects/*", "PUT") == 0
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 1
    assert len(commits(api, "alice/m")) == 2


def test_twenty_concurrent_uploads_lose_no_file(api: Any, hub_connection: Any, tmp_path: Path) -> None:
    api.create_repo("alice/shared")
    folders = []
    for task in range(20):
        folder = tmp_path / f"task{task}"
        folder.mkdir()
        for index in range(3):
            (folder / f"part{index}.txt").write_text(f"task {task} part {index}")
        folders.append(folder)
    results: dict[int, Any] = {}

    def upload(task: int) -> None:
        try:
            results[task] = run(
                HfUploadFolderOperator(
                    task_id=f"up{task}",
                    repo_id="alice/shared",
                    folder_path=str(folders[task]),
                    path_in_repo=f"task{task}",
                    commit_message=f"task {task}",
                )
            )
        except Exception as exc:  # reported below with the task number
            results[task] = exc

    threads = [threading.Thread(target=upload, args=(task,)) for task in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = {task: r for task, r in results.items() if isinstance(r, Exception)}
    assert not errors
    files = set(api.list_repo_files("alice/shared"))
    assert {f"task{t}/part{i}.txt" for t in range(20) for i in range(3)} <= files
    assert len({r["commit_oid"] for r in results.values()}) == 20
    assert len(commits(api, "alice/shared")) == 21


# -- tags ------------------------------------------------------------------------------------------------
def test_create_tag_and_exist_ok_policy(api: Any, hub_connection: Any) -> None:
    api.create_repo("alice/m")
    first = api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id="alice/m").oid
    result = run(HfCreateTagOperator(task_id="t", repo_id="alice/m", tag="v1", tag_message="release"))
    assert result["created"] is True and result["commit_oid"] == first
    assert [t.name for t in api.list_repo_refs("alice/m").tags] == ["v1"]

    with pytest.raises(HfHubConflictError, match="Tag 'v1' of model alice/m already exists"):
        run(HfCreateTagOperator(task_id="t", repo_id="alice/m", tag="v1"))
    same = run(HfCreateTagOperator(task_id="t", repo_id="alice/m", tag="v1", exist_ok=True))
    assert same["created"] is False and same["commit_oid"] == first

    api.upload_file(path_or_fileobj=b"2", path_in_repo="a.txt", repo_id="alice/m")
    with pytest.raises(HfHubConflictError, match=f"already exists on commit {first}, not on main"):
        run(HfCreateTagOperator(task_id="t", repo_id="alice/m", tag="v1", exist_ok=True))
    tagged = run(HfCreateTagOperator(task_id="t", repo_id="alice/m", tag="v0", revision=first))
    assert tagged["commit_oid"] == first


def test_create_tag_rejects_bad_tag_before_any_request(hub_connection: Any) -> None:
    hub_connection.reset_counts()
    with pytest.raises(ValueError, match="tag must be a git tag name without spaces"):
        run(HfCreateTagOperator(task_id="t", repo_id="alice/m", tag="v 1"))
    assert hub_connection.request_count() == 0


# -- outlets ---------------------------------------------------------------------------------------------
def test_outlet_event_carries_the_revision(api: Any, hub_connection: Any, model_folder: Path) -> None:
    from airflow_provider_hub.assets import hf_asset

    asset, unrelated = hf_asset("alice/m"), hf_asset("alice/other")
    context = make_context()
    result = HfUploadFolderOperator(
        task_id="up",
        repo_id="alice/m",
        folder_path=str(model_folder),
        create_repo=True,
        outlets=[asset, unrelated],
    ).execute(context)
    assert context["outlet_events"][asset].extra == {
        "revision": result["commit_oid"],
        "commit_url": result["commit_url"],
        "pr_url": None,
    }
    assert context["outlet_events"][unrelated].extra == {}


def test_uncertain_pull_request_commit_is_found_again_not_repeated(
    api: Any, hub_connection: Any, model_folder: Path
) -> None:
    """A PR commit whose answer is lost is looked for (an open PR of ours with its title holding its files)
    before it is sent again: one pull request, recovered."""
    api.create_repo("alice/m")
    hub_connection.inject_fault(COMMIT_ROUTE, status=502, method="POST", times=1, after_apply=True)
    result = run(
        HfUploadFolderOperator(
            task_id="up",
            repo_id="alice/m",
            folder_path=str(model_folder),
            allow_patterns=["*.json"],
            create_pr=True,
        )
    )
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 1
    [pr] = api.get_repo_discussions("alice/m")
    assert (result["pr_num"], result["recovered"]) == (pr.num, True)
    # A commit that did not land (502 before applying) is sent again: still one pull request.
    hub_connection.inject_fault(COMMIT_ROUTE, status=502, method="POST", times=1)
    (model_folder / "extra.json").write_text("{}")
    again = run(
        HfUploadFolderOperator(
            task_id="up2", repo_id="alice/m", folder_path=str(model_folder), allow_patterns=["extra.json"],
            create_pr=True, commit_message="Another",
        )
    )  # fmt: skip
    assert again["recovered"] is False and again["pr_num"] != pr.num
    assert len(list(api.get_repo_discussions("alice/m"))) == 2


def test_create_commit_accepts_operations_rendered_as_json(api: Any, hub_connection: Any) -> None:
    api.create_repo("alice/m")
    rendered = '[{"op": "add", "path_in_repo": "a.txt", "content": "from a template"}]'
    result = run(
        HfCreateCommitOperator(task_id="c", repo_id="alice/m", operations=rendered, commit_message="x")
    )
    assert result["files_added"] == 1
    assert Path(api.hf_hub_download("alice/m", "a.txt")).read_text() == "from a template"


# -- hash cache ------------------------------------------------------------------------------------------
PREUPLOAD_ROUTE = "/api/*/*/*/preupload/*"


def settle() -> None:
    """Let the files written so far age past the racy window, so the next run may cache their digests."""
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.1)


def folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def upload(folder: Path, repo_id: str = "alice/m", **kwargs: Any) -> dict[str, Any]:
    return run(
        HfUploadFolderOperator(
            task_id="up", repo_id=repo_id, folder_path=str(folder), create_repo=True, **kwargs
        )
    )


def assert_nothing_sent(hub: Any) -> None:
    assert hub.request_count(PREUPLOAD_ROUTE, "POST") == 0
    assert hub.request_count("/_lfs/objects/*", "PUT") == 0
    assert hub.request_count(COMMIT_ROUTE, "POST") == 0


def test_republish_with_nothing_changed_reads_no_file(hub_connection: Any, model_folder: Path) -> None:
    """The files are unreadable to the second run: it succeeds without a commit from the cache alone,
    while the same run without the cache fails on the first file it opens."""
    files = folder_files(model_folder)
    owned_by_nobody(files)
    settle()
    first = upload(model_folder, commit_message="v1")
    assert first["files_added"] == 3

    hub_connection.reset_counts()
    with permissions_enforced():
        assert_unreadable(files)
        again = upload(model_folder, commit_message="v1")
        with pytest.raises(PermissionError):
            upload(model_folder, commit_message="v1", hash_cache=False)
    assert again["no_changes"] is True and again["files_unchanged"] == 3
    assert again["head_oid"] == first["commit_oid"]
    assert_nothing_sent(hub_connection)


def test_content_changed_with_size_and_mtime_restored_is_committed(
    api: Any, hub_connection: Any, model_folder: Path
) -> None:
    settle()
    first = upload(model_folder)
    config, weights = model_folder / "config.json", model_folder / "weights.bin"
    before = {path: path.stat() for path in (config, weights)}
    config.write_text('{"a": 9}')
    with weights.open("r+b") as handle:
        handle.seek(5 * MiB)
        handle.write(b"changed!")
    for path, stat in before.items():
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)

    second = upload(model_folder)
    assert second["commit_oid"] and second["commit_oid"] != first["commit_oid"]
    assert (second["files_added"], second["files_unchanged"]) == (2, 1)
    for path in (config, weights):
        downloaded = api.hf_hub_download("alice/m", path.name, revision=second["commit_oid"])
        assert Path(downloaded).read_bytes() == path.read_bytes()


def test_racy_entries_are_hashed_again(hub_connection: Any, model_folder: Path) -> None:
    """Files written just before a run (within the racy window) get no entry: the next run reads them."""
    files = folder_files(model_folder)
    owned_by_nobody(files)
    upload(model_folder)  # right after writing: every entry is racy
    assert HashCache.load(model_folder).entries == {}
    with permissions_enforced(), pytest.raises(PermissionError):
        upload(model_folder)

    settle()
    upload(model_folder)  # reads the files again, now long enough after their last change
    assert set(HashCache.load(model_folder).entries) == {"config.json", "sub/notes.txt", "weights.bin"}
    hub_connection.reset_counts()
    with permissions_enforced():
        assert upload(model_folder)["no_changes"] is True
    assert_nothing_sent(hub_connection)


def rewrite_cache(folder: Path, change: Any) -> None:
    """Apply ``change`` to the cache file's content and sign it again: a well-formed cache that lies."""
    path = cache_path(folder)
    data = json.loads(path.read_text())
    data.pop("checksum")
    change(data)
    data["checksum"] = hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    path.write_text(json.dumps(data))


def bogus_digests(data: dict[str, Any]) -> None:
    """Every entry claims other content: trusted, it would make the run commit every file again."""
    for entry in data["entries"]:
        entry[5] = "0" * 64 if entry[5] else None
        entry[6] = "0" * 40 if entry[6] else None


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda path: path.write_text("{not json"), id="garbage"),
        pytest.param(lambda path: path.write_bytes(path.read_bytes()[:-40]), id="truncated"),
        pytest.param(lambda path: path.write_bytes(b""), id="empty"),
        pytest.param(
            lambda path: path.write_text(path.read_text().replace('"0000', '"1000', 1)),
            id="bytes-changed",
        ),
    ],
)
def test_corrupt_cache_is_ignored(hub_connection: Any, model_folder: Path, damage: Any) -> None:
    settle()
    upload(model_folder)
    rewrite_cache(model_folder, bogus_digests)  # a lying cache: would force a commit if trusted ...
    damage(cache_path(model_folder))  # ... and then damaged

    hub_connection.reset_counts()
    with structlog.testing.capture_logs() as task_log:
        result = upload(model_folder)
    assert result["no_changes"] is True and result["files_unchanged"] == 3
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 0
    assert "Ignoring the hash cache" in repr(task_log)
    assert len(HashCache.load(model_folder).entries) == 3  # rewritten whole


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("source", "/some/other/folder", "written for another source"),
        ("version", 99, "format version 99"),
        ("format", "someone-else/cache", "not a hash cache"),
    ],
)
def test_foreign_cache_is_ignored(
    hub_connection: Any,
    model_folder: Path,
    field: str,
    value: Any,
    reason: str,
) -> None:
    """A cache signed correctly but of another folder, version or format is not trusted."""
    settle()
    upload(model_folder)

    def foreign(data: dict[str, Any]) -> None:
        bogus_digests(data)
        data[field] = value

    rewrite_cache(model_folder, foreign)
    hub_connection.reset_counts()
    with structlog.testing.capture_logs() as task_log:
        result = upload(model_folder)
    assert result["no_changes"] is True
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 0
    assert reason in repr(task_log)


def test_read_only_folder_keeps_its_cache_under_hf_home(hub_connection: Any, model_folder: Path) -> None:
    from huggingface_hub import constants

    files = folder_files(model_folder)
    owned_by_nobody(files)
    for path in files:
        path.chmod(0o444)  # readable by anyone, writable by no one
    for folder in [model_folder, *(p for p in model_folder.rglob("*") if p.is_dir())]:
        folder.chmod(0o555)
    settle()
    before = sorted(model_folder.rglob("*"))
    with permissions_enforced():
        first = upload(model_folder)
        again = upload(model_folder)
    assert first["commit_oid"] and again["no_changes"] is True
    assert sorted(model_folder.rglob("*")) == before
    assert cache_path(model_folder).parent == Path(constants.HF_HOME, "airflow_provider_hub", "hash_cache")
    assert len(HashCache.load(model_folder).entries) == 3


def test_two_tasks_publishing_one_folder_at_once_both_succeed(
    hub_connection: Any, model_folder: Path
) -> None:
    files = folder_files(model_folder)
    owned_by_nobody(files)
    settle()
    start = threading.Barrier(2)
    results: dict[int, Any] = {}

    def publish(task: int) -> None:
        start.wait()
        try:
            results[task] = upload(model_folder, commit_message=f"task {task}")
        except Exception as exc:  # reported below with the task number
            results[task] = exc

    threads = [threading.Thread(target=publish, args=(task,)) for task in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [r for r in results.values() if isinstance(r, Exception)], results
    assert len(results) == 2
    assert len(HashCache.load(model_folder).entries) == 3
    hub_connection.reset_counts()
    with permissions_enforced():
        assert upload(model_folder)["no_changes"] is True
    assert_nothing_sent(hub_connection)


def test_hash_cache_false_writes_no_cache(hub_connection: Any, model_folder: Path) -> None:
    settle()
    upload(model_folder, hash_cache=False)
    assert upload(model_folder, hash_cache=False)["no_changes"] is True
    assert not cache_path(model_folder).parent.exists()
