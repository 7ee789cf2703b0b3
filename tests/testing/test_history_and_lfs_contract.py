"""Contract tests of history squashing and LFS storage, driven by the real ``huggingface_hub`` client.

``super_squash_history``, ``list_lfs_files`` and ``permanently_delete_lfs_files`` against the session
emulator. Uploads run with ``HF_HUB_DISABLE_XET=1``, so ``.bin`` files (LFS per the default
``.gitattributes``) go through the LFS batch API, however small.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from airflow_provider_hub.testing import HubEmulator
from airflow_provider_hub.testing._core import RepoChange


@pytest.fixture
def api(hub_connection: HubEmulator) -> HfApi:
    return HfApi(endpoint=hub_connection.url, token=hub_connection.token)


@pytest.fixture
def bob(hub_connection: HubEmulator) -> HfApi:
    """Another signed-in user, who may read alice's public repos but not write to them."""
    return HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(api: HfApi, repo_id: str, filename: str, revision: str | None = None) -> bytes:
    # force_download: each download asks the emulator, never the cache of an earlier one.
    path = api.hf_hub_download(repo_id, filename, revision=revision, force_download=True)
    return Path(path).read_bytes()


def _status(error: pytest.ExceptionInfo[HfHubHTTPError]) -> int:
    response = error.value.response
    assert response is not None
    return response.status_code


# -- super_squash_history -------------------------------------------------------------------------------
def test_squash_leaves_one_commit_with_the_tree_and_keeps_tags_and_other_branches(
    api: HfApi, hub_connection: HubEmulator
) -> None:
    api.create_repo("alice/squash")
    api.upload_file(path_or_fileobj=b"zero", path_in_repo="0.txt", repo_id="alice/squash")
    tagged = api.upload_file(path_or_fileobj=b"\0weights", path_in_repo="w.bin", repo_id="alice/squash").oid
    api.create_tag("alice/squash", tag="v1")
    api.create_branch("alice/squash", branch="dev")
    old_head = api.upload_file(path_or_fileobj=b"one", path_in_repo="1.txt", repo_id="alice/squash").oid
    tag_history = [c.commit_id for c in api.list_repo_commits("alice/squash", revision="v1")]
    files = sorted(api.list_repo_files("alice/squash"))
    changes: list[RepoChange] = []
    hub_connection.state.subscribe(changes.append)

    api.super_squash_history("alice/squash", commit_message="Fresh start\n\nOnly the current files")

    commits = api.list_repo_commits("alice/squash")
    assert [(c.title, c.message) for c in commits] == [("Fresh start", "Only the current files")]
    assert sorted(api.list_repo_files("alice/squash")) == files
    assert _download(api, "alice/squash", "w.bin") == b"\0weights"  # LFS content is still served
    # The tag keeps its commit and that commit's history; a branch made before keeps its own.
    refs = api.list_repo_refs("alice/squash")
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1", tagged)]
    assert [c.commit_id for c in api.list_repo_commits("alice/squash", revision="v1")] == tag_history
    assert [c.title for c in api.list_repo_commits("alice/squash", revision="dev")][-1] == "initial commit"
    assert len(api.list_repo_commits("alice/squash", revision="dev")) == 3
    assert [(c.scope, c.updated_refs) for c in changes] == [
        ("repo.content", [{"ref": "refs/heads/main", "oldSha": old_head, "newSha": commits[0].commit_id}])
    ]
    # A committer still holding the old head as its parent is refused, as after any move of the branch.
    with pytest.raises(HfHubHTTPError) as stale:
        api.create_commit(
            "alice/squash",
            operations=[CommitOperationAdd("2.txt", b"two")],
            commit_message="late",
            parent_commit=old_head,
        )
    assert _status(stale) == 412


def test_squash_of_a_pr_ref_and_the_default_message(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/pr-squash")
    api.upload_file(path_or_fileobj=b"base", path_in_repo="base.txt", repo_id="alice/pr-squash")
    main_history = [c.commit_id for c in api.list_repo_commits("alice/pr-squash")]
    pr = api.create_commit(
        "alice/pr-squash",
        operations=[CommitOperationAdd("a.txt", b"a")],
        commit_message="PR part 1",
        create_pr=True,
    )
    api.create_commit(
        "alice/pr-squash",
        operations=[CommitOperationAdd("b.txt", b"b")],
        commit_message="PR part 2",
        revision=f"refs/pr/{pr.pr_num}",
    )

    api.super_squash_history("alice/pr-squash", branch=f"refs/pr/{pr.pr_num}")

    squashed = api.list_repo_commits("alice/pr-squash", revision=f"refs/pr/{pr.pr_num}")
    assert [c.title for c in squashed] == [f"Super-squash branch 'refs/pr/{pr.pr_num}' using huggingface_hub"]
    assert sorted(api.list_repo_files("alice/pr-squash", revision=f"refs/pr/{pr.pr_num}")) == [
        ".gitattributes",
        "a.txt",
        "b.txt",
        "base.txt",
    ]
    assert [c.commit_id for c in api.list_repo_commits("alice/pr-squash")] == main_history
    # A caller that sends no message gets the same default the client builds.
    answer = httpx.post(
        f"{hub_connection.url}/api/models/alice/pr-squash/super-squash/main",
        headers={"Authorization": f"Bearer {hub_connection.token}"},
    )
    assert answer.status_code == 200
    assert [c.title for c in api.list_repo_commits("alice/pr-squash")] == [
        "Super-squash branch 'main' using huggingface_hub"
    ]


def test_squash_refuses_tags_missing_refs_and_non_writers(api: HfApi, bob: HfApi) -> None:
    api.create_repo("alice/guarded")
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/guarded")
    api.create_tag("alice/guarded", tag="v1")
    history = [c.commit_id for c in api.list_repo_commits("alice/guarded")]

    with pytest.raises(BadRequestError, match="You cannot squash history on tags"):
        api.super_squash_history("alice/guarded", branch="v1")
    with pytest.raises(BadRequestError, match="Invalid reference for a branch"):
        api.super_squash_history("alice/guarded", branch="refs/convert/parquet")
    with pytest.raises(RevisionNotFoundError):
        api.super_squash_history("alice/guarded", branch="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        api.super_squash_history("alice/guarded", branch="refs/pr/9")
    with pytest.raises(HfHubHTTPError, match="rights to write") as forbidden:
        bob.super_squash_history("alice/guarded")
    assert _status(forbidden) == 403
    assert [c.commit_id for c in api.list_repo_commits("alice/guarded")] == history

    api.create_repo("alice/secret", private=True)
    with pytest.raises(RepositoryNotFoundError):
        bob.super_squash_history("alice/secret")


# -- list_lfs_files ---------------------------------------------------------------------------------------
def test_list_lfs_files_covers_every_branch_and_pr_in_link_pages(
    api: HfApi, bob: HfApi, hub_connection: HubEmulator
) -> None:
    hub_connection.state.repos.lfs_files_page_size = 2
    api.create_repo("alice/inventory")
    before = datetime.now(timezone.utc) - timedelta(seconds=2)
    api.create_commit(
        "alice/inventory",
        operations=[
            CommitOperationAdd("a.bin", b"\0a"),
            CommitOperationAdd("b.bin", b"\0b"),
            CommitOperationAdd("same-as-a.bin", b"\0a"),  # one object, listed once
            CommitOperationAdd("README.md", b"# not LFS"),
        ],
        commit_message="weights",
    )
    api.create_branch("alice/inventory", branch="my-branch")
    api.upload_file(
        path_or_fileobj=b"\0c", path_in_repo="c.bin", repo_id="alice/inventory", revision="my-branch"
    )
    api.upload_file(path_or_fileobj=b"\0d", path_in_repo="d.bin", repo_id="alice/inventory", create_pr=True)
    api.upload_file(path_or_fileobj=b"\0e", path_in_repo="e.bin", repo_id="alice/inventory")
    hub_connection.reset_counts()

    files = list(api.list_lfs_files("alice/inventory"))

    assert hub_connection.request_count("/api/models/alice/inventory/lfs-files") == 3  # Link pages of 2
    assert [(f.filename, f.ref, f.size) for f in files] == [
        ("a.bin", "refs/heads/main", 2),
        ("b.bin", "refs/heads/main", 2),
        ("c.bin", "refs/heads/my-branch", 2),
        ("d.bin", "refs/pr/1", 2),
        ("e.bin", "refs/heads/main", 2),
    ]
    for lfs_file in files:
        content = b"\0" + lfs_file.filename[0].encode()
        assert lfs_file.file_oid == lfs_file.oid == _sha256(content)
        assert before <= lfs_file.pushed_at <= datetime.now(timezone.utc)
    with pytest.raises(HfHubHTTPError) as forbidden:
        list(bob.list_lfs_files("alice/inventory"))
    assert _status(forbidden) == 403


def test_inventory_survives_restarts_and_is_rebuilt_for_older_saves(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "hub-data")
    with HubEmulator(data_dir=data_dir) as hub:
        api = HfApi(endpoint=hub.url, token=hub.token)
        api.create_repo("alice/kept")
        api.upload_file(path_or_fileobj=b"\0old", path_in_repo="old.bin", repo_id="alice/kept")
        api.upload_file(path_or_fileobj=b"\0new", path_in_repo="new.bin", repo_id="alice/kept")
    with HubEmulator(data_dir=data_dir) as hub:
        api = HfApi(endpoint=hub.url, token=hub.token)
        kept = [(f.filename, f.ref) for f in api.list_lfs_files("alice/kept")]
        assert kept == [("old.bin", "refs/heads/main"), ("new.bin", "refs/heads/main")]
        # State saved by an emulator from before repos kept an LFS inventory.
        for repo in hub.state.repos.repos.values():
            del vars(repo)["lfs_files"]
        hub.state.repos.save()
    with HubEmulator(data_dir=data_dir) as hub:
        api = HfApi(endpoint=hub.url, token=hub.token)
        rebuilt = [(f.filename, f.ref) for f in api.list_lfs_files("alice/kept")]
        assert rebuilt == [("old.bin", None), ("new.bin", None)]
