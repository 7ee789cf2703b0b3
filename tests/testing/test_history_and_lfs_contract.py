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
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download, hf_hub_url
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import LFSFileInfo

from airflow_provider_hub.testing import HubEmulator
from airflow_provider_hub.testing._core import RepoChange


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


# -- permanently_delete_lfs_files ---------------------------------------------------------------------
def test_delete_with_history_rewrite_removes_the_pointers_everywhere(
    api: HfApi, hub_connection: HubEmulator
) -> None:
    api.create_repo("alice/purge")
    api.create_branch("alice/purge", branch="my-branch")
    api.upload_file(
        path_or_fileobj=b"\0kept", path_in_repo="c.bin", repo_id="alice/purge", revision="my-branch"
    )
    api.create_commit(
        "alice/purge",
        operations=[CommitOperationAdd("a.bin", b"\0a"), CommitOperationAdd("b.bin", b"\0b")],
        commit_message="Add weights",
    )
    api.create_tag("alice/purge", tag="v1")
    old_head = api.upload_file(path_or_fileobj=b"notes", path_in_repo="notes.txt", repo_id="alice/purge").oid
    titles = [c.title for c in api.list_repo_commits("alice/purge")]
    changes: list[RepoChange] = []
    hub_connection.state.subscribe(changes.append)

    on_main = [f for f in api.list_lfs_files("alice/purge") if f.ref == "refs/heads/main"]
    api.permanently_delete_lfs_files("alice/purge", on_main)

    assert [f.filename for f in api.list_lfs_files("alice/purge")] == ["c.bin"]
    assert sorted(api.list_repo_files("alice/purge")) == [".gitattributes", "notes.txt"]
    with pytest.raises(EntryNotFoundError):
        _download(api, "alice/purge", "a.bin")
    with pytest.raises(EntryNotFoundError):  # the tag moved to the rewritten commit too
        _download(api, "alice/purge", "b.bin", revision="v1")
    # Same history, new ids: the commits that held the pointers are gone.
    assert [c.title for c in api.list_repo_commits("alice/purge")] == titles
    with pytest.raises(RevisionNotFoundError):
        api.model_info("alice/purge", revision=old_head)
    new_head = api.model_info("alice/purge").sha
    assert len(changes) == 1
    moved = {ref["ref"]: (ref["oldSha"], ref["newSha"]) for ref in changes[0].updated_refs}
    assert set(moved) == {"refs/heads/main", "refs/tags/v1"} and moved["refs/heads/main"] == (
        old_head,
        new_head,
    )
    # The storage is freed; the branch's object, which nothing deleted, still downloads.
    blobs = hub_connection.state.repos.blobs
    assert not blobs.has(_sha256(b"\0a")) and not blobs.has(_sha256(b"\0b"))
    assert _download(api, "alice/purge", "c.bin", revision="my-branch") == b"\0kept"


def test_delete_without_rewrite_keeps_pointers_whose_downloads_fail(
    api: HfApi, hub_connection: HubEmulator
) -> None:
    api.create_repo("alice/pointers")
    v1 = api.upload_file(path_or_fileobj=b"\0v1", path_in_repo="w.bin", repo_id="alice/pointers").oid
    api.create_tag("alice/pointers", tag="v1")
    head = api.upload_file(path_or_fileobj=b"\0v2", path_in_repo="w.bin", repo_id="alice/pointers").oid
    old = [f for f in api.list_lfs_files("alice/pointers") if f.file_oid == _sha256(b"\0v1")]

    api.permanently_delete_lfs_files("alice/pointers", old, rewrite_history=False)

    assert [f.file_oid for f in api.list_lfs_files("alice/pointers")] == [_sha256(b"\0v2")]
    assert api.model_info("alice/pointers").sha == head
    assert api.list_repo_refs("alice/pointers").tags[0].target_commit == v1
    assert "w.bin" in api.list_repo_files("alice/pointers", revision="v1")
    # The pointer answers HEAD; its bytes are gone, a 404 without an error code, as the Hub's storage.
    metadata = api.get_hf_file_metadata(url=hf_hub_url("alice/pointers", "w.bin", revision="v1"))
    assert (metadata.commit_hash, metadata.size) == (v1, 3)
    with pytest.raises(HfHubHTTPError, match="permanently deleted") as gone:
        _download(api, "alice/pointers", "w.bin", revision="v1")
    assert _status(gone) == 404
    assert not isinstance(gone.value, EntryNotFoundError | RevisionNotFoundError)
    assert not hub_connection.state.repos.blobs.has(_sha256(b"\0v1"))
    assert _download(api, "alice/pointers", "w.bin") == b"\0v2"

    # Pushing the same content again stores it again (it is uploaded anew), and the old pointer serves it.
    hub_connection.reset_counts()
    api.upload_file(path_or_fileobj=b"\0v1", path_in_repo="restored.bin", repo_id="alice/pointers")
    assert hub_connection.request_count("/_lfs/objects/*", method="PUT") == 1
    assert _download(api, "alice/pointers", "w.bin", revision="v1") == b"\0v1"


def test_deleting_from_one_repo_keeps_the_content_other_repos_store(
    api: HfApi, hub_connection: HubEmulator
) -> None:
    shared = b"shared weights, same bytes in three repos"
    api.create_repo("alice/one")
    api.upload_file(path_or_fileobj=shared, path_in_repo="w.bin", repo_id="alice/one")
    api.create_repo("acme/two")
    api.upload_file(path_or_fileobj=shared, path_in_repo="copy.bin", repo_id="acme/two")
    api.create_repo("alice/three")
    api.upload_file(path_or_fileobj=shared, path_in_repo="plain.txt", repo_id="alice/three")  # a git blob
    blobs = hub_connection.state.repos.blobs

    api.permanently_delete_lfs_files("alice/one", api.list_lfs_files("alice/one"), rewrite_history=False)

    with pytest.raises(HfHubHTTPError, match="permanently deleted"):
        _download(api, "alice/one", "w.bin")
    assert _download(api, "acme/two", "copy.bin") == shared
    assert [f.file_oid for f in api.list_lfs_files("acme/two")] == [_sha256(shared)]

    # Once no repo stores it as LFS, the regular file of alice/three still needs the bytes.
    api.permanently_delete_lfs_files("acme/two", api.list_lfs_files("acme/two"))
    assert blobs.has(_sha256(shared))
    assert _download(api, "alice/three", "plain.txt") == shared


def test_deletions_by_others_and_of_unknown_shas_change_nothing(
    api: HfApi, bob: HfApi, hub_connection: HubEmulator
) -> None:
    api.create_repo("alice/mine")
    api.upload_file(path_or_fileobj=b"\0alice's", path_in_repo="w.bin", repo_id="alice/mine")
    listed = list(api.list_lfs_files("alice/mine"))
    history = [c.commit_id for c in api.list_repo_commits("alice/mine")]

    with pytest.raises(HfHubHTTPError, match="rights to write") as forbidden:
        bob.permanently_delete_lfs_files("alice/mine", listed)
    assert _status(forbidden) == 403
    # Naming alice's sha in his own repo, which does not store it, deletes nothing anywhere.
    bob.create_repo("bob/his")
    bob.permanently_delete_lfs_files("bob/his", listed)
    # Nor do shas alice's repo does not store.
    unknown = LFSFileInfo(
        fileOid="0" * 64, oid="0" * 64, size=1, filename="ghost.bin", pushedAt="2024-01-01T00:00:00.000Z"
    )
    api.permanently_delete_lfs_files("alice/mine", [unknown])

    assert [f.file_oid for f in api.list_lfs_files("alice/mine")] == [listed[0].file_oid]
    assert [c.commit_id for c in api.list_repo_commits("alice/mine")] == history
    assert _download(bob, "alice/mine", "w.bin") == b"\0alice's"
    assert hub_connection.state.repos.blobs.has(listed[0].file_oid)
    malformed = httpx.post(
        f"{hub_connection.url}/api/models/alice/mine/lfs-files/batch",
        headers={"Authorization": f"Bearer {hub_connection.token}"},
        json={"deletions": {"sha": listed[0].file_oid}},
    )
    assert malformed.status_code == 400 and "deletions" in malformed.json()["error"]


def test_inventory_and_deletions_survive_restarts(tmp_path: Path) -> None:
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
        api.permanently_delete_lfs_files("alice/kept", list(api.list_lfs_files("alice/kept"))[:1])
    with HubEmulator(data_dir=data_dir) as hub:
        api = HfApi(endpoint=hub.url, token=hub.token)
        assert [f.filename for f in api.list_lfs_files("alice/kept")] == ["new.bin"]
        assert api.list_repo_files("alice/kept") == [".gitattributes", "new.bin"]
        path = hf_hub_download(
            "alice/kept", "new.bin", token=hub.token, cache_dir=tmp_path / "cache", endpoint=hub.url
        )
        assert Path(path).read_bytes() == b"\0new"
