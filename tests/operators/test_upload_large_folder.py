"""``HfUploadLargeFolderOperator`` against the emulator with the real client: several commits within the
Hub's per-commit limits (small ones set on the emulator), resume from what the Hub has, the repository
limits checked before anything is sent, and bad input.

Uploads run with ``HF_HUB_DISABLE_XET=1``; ``.bin`` files are LFS (the default ``.gitattributes``), ``.txt``
files regular (their base64 content travels in the commit body).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hub.operators.repo import HfUploadLargeFolderOperator
from airflow_provider_hub.utils.checks import MAX_FILE_SIZE
from airflow_provider_hub.utils.progress import ProgressLog
from tests.reliability._support import deterministic_bytes, repo_state
from tests.support.operators import run

KiB = 1024
LFS_FILES, LFS_SIZE = 12, 16 * KiB
TEXT_FILES, TEXT_SIZE = 10, 300  # 400 bytes each once base64-encoded


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """12 LFS shards in ``shards/`` and 10 regular text files in ``texts/``."""
    folder = tmp_path / "corpus"
    (folder / "shards").mkdir(parents=True)
    (folder / "texts").mkdir()
    for index in range(LFS_FILES):
        (folder / "shards" / f"{index:02d}.bin").write_bytes(deterministic_bytes(f"shard {index}", LFS_SIZE))
    for index in range(TEXT_FILES):
        (folder / "texts" / f"{index:02d}.txt").write_bytes(
            deterministic_bytes(f"text {index}", TEXT_SIZE).hex()[:TEXT_SIZE].encode()
        )
    return folder


def local_state(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def added_by_commit(hub: Any, repo_id: str, commits: list[str], repo_type: str = "dataset") -> list[set[str]]:
    """The paths each commit added or changed relative to its parent (from the emulator's history)."""
    repo = hub.state.repos.get(repo_type, repo_id)
    added = []
    for oid in commits:
        commit = repo.commits[oid]
        parent = repo.commits[commit.parents[0]].tree if commit.parents else {}
        added.append({path for path, entry in commit.tree.items() if parent.get(path) != entry})
    return added


def assert_uploaded(api: Any, folder: Path, repo_id: str = "alice/corpus") -> None:
    state = repo_state(api, repo_id, repo_type="dataset")
    for rel, data in local_state(folder).items():
        blob, sha256 = state[rel]
        if rel.endswith(".bin"):
            assert sha256 == hashlib.sha256(data).hexdigest(), rel
        else:
            assert blob == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(), rel


def upload(folder: Path, **kwargs: Any) -> HfUploadLargeFolderOperator:
    return HfUploadLargeFolderOperator(
        task_id="upload", repo_id="alice/corpus", repo_type="dataset", folder_path=str(folder), **kwargs
    )


def test_commits_within_the_hubs_limits_each_file_once(hub_connection: Any, api: Any, corpus: Path) -> None:
    hub_connection.set_commit_limits(max_lfs_files=5, max_regular_payload=1600)  # 5 shards, 4 texts

    result = run(upload(corpus, private=True, num_workers=3))

    assert api.repo_info("alice/corpus", repo_type="dataset").private is True  # created by the operator
    assert result["repo_id"] == "alice/corpus"
    assert result["files"] == LFS_FILES + TEXT_FILES
    assert result["bytes"] == LFS_FILES * LFS_SIZE + TEXT_FILES * TEXT_SIZE
    history = [c.commit_id for c in api.list_repo_commits("alice/corpus", repo_type="dataset")]
    assert history[0] == result["head_oid"] == result["commits"][-1]
    assert history[: len(result["commits"])] == result["commits"][::-1]  # this try's commits, oldest first
    added = added_by_commit(hub_connection, "alice/corpus", result["commits"])
    assert len(added) >= 3  # 12 shards at most 5 per commit
    for paths in added:
        assert sum(p.endswith(".bin") for p in paths) <= 5 and sum(p.endswith(".txt") for p in paths) <= 4
    every = [path for paths in added for path in paths]
    assert sorted(every) == sorted(local_state(corpus))  # each file in exactly one commit
    assert_uploaded(api, corpus)
    # Each LFS object was sent once, refused commits included (a refused commit sends only pointers).
    assert hub_connection.bytes_received("lfs") == LFS_FILES * LFS_SIZE


def test_resumes_from_what_the_hub_has_and_a_rerun_changes_nothing(
    hub_connection: Any, api: Any, corpus: Path
) -> None:
    from huggingface_hub import CommitOperationAdd

    api.create_repo("alice/corpus", repo_type="dataset")
    files = sorted(local_state(corpus))
    committed, preuploaded = files[:5], [f for f in files if f.endswith(".bin")][5:9]
    api.create_commit(
        "alice/corpus",
        [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(corpus / f)) for f in committed],
        commit_message="an earlier, interrupted upload",
        repo_type="dataset",
    )
    api.preupload_lfs_files(
        "alice/corpus",
        additions=[CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(corpus / f)) for f in preuploaded],
        repo_type="dataset",
    )
    hub_connection.reset_counts()

    result = run(upload(corpus))

    left = [f for f in files if f not in committed]
    assert result["files"] == len(left)
    assert set().union(*added_by_commit(hub_connection, "alice/corpus", result["commits"])) == set(left)
    never_sent = [f for f in left if f.endswith(".bin") and f not in preuploaded]
    assert hub_connection.bytes_received("lfs") == sum((corpus / f).stat().st_size for f in never_sent)
    assert_uploaded(api, corpus)

    hub_connection.reset_counts()
    again = run(upload(corpus))
    assert again == {
        "repo_id": "alice/corpus",
        "head_oid": result["head_oid"],
        "commits": [],
        "files": 0,
        "bytes": 0,
    }
    assert hub_connection.bytes_received() == 0
    assert hub_connection.request_count("/api/*/*/*/preupload/*") == 0


def test_a_changed_file_is_uploaded_again(hub_connection: Any, api: Any, corpus: Path) -> None:
    run(upload(corpus))
    (corpus / "shards" / "03.bin").write_bytes(deterministic_bytes("new shard", LFS_SIZE))  # same size
    hub_connection.reset_counts()

    result = run(upload(corpus))

    assert result["files"] == 1 and len(result["commits"]) == 1
    assert hub_connection.bytes_received("lfs") == LFS_SIZE
    assert_uploaded(api, corpus)


def test_progress_goes_to_the_task_log(
    hub_connection: Any, corpus: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    run(upload(corpus))
    total = (LFS_FILES * LFS_SIZE + TEXT_FILES * TEXT_SIZE) / KiB
    output = capfd.readouterr()
    assert (
        f"Uploading: {LFS_FILES + TEXT_FILES}/{LFS_FILES + TEXT_FILES} files, {total:.1f} KiB/{total:.1f} KiB ("
        in output.out + output.err
    )
    assert "error" not in (output.out + output.err).lower()


def test_progress_ticks_while_nothing_advances() -> None:
    """One large file uploading advances nothing for minutes: the ticker still logs at the interval."""
    ticked = threading.Event()

    class Recorder:
        def __init__(self) -> None:
            self.lines: list[str] = []

        def info(self, msg: Any, /, *args: Any) -> None:
            self.lines.append(msg % args)
            if len(self.lines) >= 2:
                ticked.set()

        def warning(self, msg: Any, /, *args: Any) -> None:
            raise AssertionError(msg % args)

    recorder = Recorder()
    progress = ProgressLog("Uploading", total_files=1, total_bytes=KiB, interval=0.01, logger=recorder)
    with progress.ticking():
        assert ticked.wait(timeout=30)
        progress.advance(1, KiB)
    assert recorder.lines[0].startswith("Uploading: 0/1 files, 0 B/1.0 KiB")
    assert recorder.lines[-1].startswith("Uploading: 1/1 files, 1.0 KiB/1.0 KiB")  # the final line


def test_a_file_past_the_hubs_50_gb_limit_fails_before_any_request(
    hub_connection: Any, api: Any, corpus: Path
) -> None:
    with open(corpus / "shards" / "huge.bin", "wb") as handle:
        handle.truncate(MAX_FILE_SIZE + 1)  # sparse: no disk used, never read
    hub_connection.reset_counts()

    with pytest.raises(ValueError, match=r"'shards/huge\.bin' \(50,000,000,001 bytes\)"):
        run(upload(corpus))

    assert hub_connection.request_count() == 0
    assert not api.repo_exists("alice/corpus", repo_type="dataset")


def test_repo_type_is_required(corpus: Path) -> None:
    with pytest.raises(TypeError, match="repo_type"):
        HfUploadLargeFolderOperator(task_id="upload", repo_id="alice/corpus", folder_path=str(corpus))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("repo_type", "", "repo_type is required"),
        ("repo_type", "datasets", "repo_type must be one of model, dataset, space; got 'datasets'"),
        ("num_workers", 0, "num_workers must be a whole number >= 1; got 0"),
        ("private", "yes", "private must be true or false; got 'yes'"),
        ("revision", "a..b", "revision must be a branch"),
        ("folder_path", "/no/such/folder", "folder_path '/no/such/folder' is not an existing folder"),
        ("allow_patterns", ["*.parquet"], "has no file to upload"),
    ],
)
def test_bad_input_fails_before_any_request(
    hub_connection: Any, corpus: Path, field: str, value: Any, message: str
) -> None:
    kwargs: dict[str, Any] = {"repo_type": "dataset", "folder_path": str(corpus), field: value}
    hub_connection.reset_counts()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        run(HfUploadLargeFolderOperator(task_id="upload", repo_id="alice/corpus", **kwargs))
    assert hub_connection.request_count() == 0


def test_an_empty_folder_is_refused(hub_connection: Any, tmp_path: Path) -> None:
    os.makedirs(tmp_path / "empty")
    with pytest.raises(ValueError, match="the folder is empty"):
        run(upload(tmp_path / "empty"))
