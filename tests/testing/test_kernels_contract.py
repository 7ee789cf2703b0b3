"""Kernel repos, driven by the real ``huggingface_hub`` client: the calls it accepts for ``repo_type="kernel"``
go to ``/api/kernels/...`` and downloads to ``/kernels/{repo}/resolve/...``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from huggingface_hub import HfApi, KernelInfo, hf_hub_download, snapshot_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

from airflow_provider_hub.testing import HubEmulator

KERNEL = "alice/activation"


def test_create_info_and_delete(api: HfApi, hub_connection: HubEmulator) -> None:
    url = api.create_repo(KERNEL, repo_type="kernel")
    assert (url.repo_type, url.repo_id) == ("kernel", KERNEL)
    assert url == f"{hub_connection.url}/kernels/{KERNEL}"
    assert api.create_repo(KERNEL, repo_type="kernel", exist_ok=True).repo_id == KERNEL

    info = api.kernel_info(KERNEL)
    assert isinstance(info, KernelInfo)
    assert (info.id, info.author, info.private, info.gated, info.likes) == (KERNEL, "alice", False, False, 0)
    assert len(info.sha) == 40
    assert info.last_modified is not None
    assert isinstance(api.repo_info(KERNEL, repo_type="kernel"), KernelInfo)
    # A kernel and a model of the same name are two repos.
    assert not api.repo_exists(KERNEL)
    assert api.repo_exists(KERNEL, repo_type="kernel")

    api.delete_repo(KERNEL, repo_type="kernel")
    assert not api.repo_exists(KERNEL, repo_type="kernel")
    with pytest.raises(RepositoryNotFoundError) as missing:
        api.kernel_info(KERNEL)
    # The client does not parse kernel API URLs: the error names no repo.
    assert missing.value.repo_id is None
    assert not api.repo_exists("activation", repo_type="kernel")  # no namespace: no repo


def test_commits_downloads_and_tree(api: HfApi, tmp_path: Path, hub_connection: HubEmulator) -> None:
    api.create_repo(KERNEL, repo_type="kernel", private=True)
    (tmp_path / "build" / "torch-cpu").mkdir(parents=True)
    (tmp_path / "build" / "torch-cpu" / "__init__.py").write_text("ACTIVATION = 'gelu'\n")
    (tmp_path / "build" / "torch-cpu" / "_ops.so").write_bytes(b"\0ELF" * 1000)  # binary: through LFS
    api.upload_folder(folder_path=tmp_path, repo_id=KERNEL, repo_type="kernel", commit_message="Build")
    assert api.kernel_info(KERNEL).private is True

    files = api.list_repo_files(KERNEL, repo_type="kernel")
    assert sorted(files) == [".gitattributes", "build/torch-cpu/__init__.py", "build/torch-cpu/_ops.so"]
    [ops] = api.get_paths_info(KERNEL, ["build/torch-cpu/_ops.so"], repo_type="kernel")
    assert ops.size == 4000 and ops.lfs is not None
    tree = list(api.list_repo_tree(KERNEL, path_in_repo="build", repo_type="kernel", recursive=True))
    assert {entry.path for entry in tree} >= {"build/torch-cpu", "build/torch-cpu/_ops.so"}

    token = hub_connection.token
    init = hf_hub_download(KERNEL, "build/torch-cpu/__init__.py", repo_type="kernel", token=token)
    assert Path(init).read_text() == "ACTIVATION = 'gelu'\n"
    snapshot = snapshot_download(KERNEL, repo_type="kernel", token=token)
    assert Path(snapshot, "build/torch-cpu/_ops.so").read_bytes() == b"\0ELF" * 1000
    assert api.file_exists(KERNEL, "build/torch-cpu/_ops.so", repo_type="kernel")
    assert not api.file_exists(KERNEL, "README.md", repo_type="kernel")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(
            KERNEL, "README.md", repo_type="kernel", token=token, cache_dir=os.fspath(tmp_path / "c")
        )
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    assert not bob.repo_exists(KERNEL, repo_type="kernel")  # private

    api.delete_file("build/torch-cpu/_ops.so", repo_id=KERNEL, repo_type="kernel")
    assert [c.title for c in api.list_repo_commits(KERNEL, repo_type="kernel")] == [
        "Delete build/torch-cpu/_ops.so with huggingface_hub",
        "Build",
        "initial commit",
    ]


def test_branches_tags_and_move(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo(KERNEL, repo_type="kernel")
    api.create_branch(KERNEL, branch="v2", repo_type="kernel")
    api.create_tag(KERNEL, tag="v1.0.0", repo_type="kernel")
    refs = api.list_repo_refs(KERNEL, repo_type="kernel")
    assert sorted(b.name for b in refs.branches) == ["main", "v2"]
    assert [t.name for t in refs.tags] == ["v1.0.0"]
    assert api.revision_exists(KERNEL, "v1.0.0", repo_type="kernel")
    assert not api.revision_exists(KERNEL, "v3", repo_type="kernel")
    with pytest.raises(RevisionNotFoundError):
        api.kernel_info(KERNEL, revision="v3")
    api.delete_tag(KERNEL, tag="v1.0.0", repo_type="kernel")
    api.delete_branch(KERNEL, branch="v2", repo_type="kernel")
    assert [b.name for b in api.list_repo_refs(KERNEL, repo_type="kernel").branches] == ["main"]

    api.move_repo(KERNEL, "acme/activation", repo_type="kernel")
    assert api.kernel_info("acme/activation").id == "acme/activation"
    assert not api.repo_exists(KERNEL, repo_type="kernel")


def test_likes_of_a_kernel(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo(KERNEL, repo_type="kernel")
    hub_connection.add_like("bob", KERNEL, repo_type="kernel")
    hub_connection.add_like("alice", KERNEL, repo_type="kernel")
    assert api.kernel_info(KERNEL).likes == 2
    assert [u.username for u in api.list_repo_likers(KERNEL, repo_type="kernel")] == ["alice", "bob"]
    likes = api.list_liked_repos("bob")
    assert (likes.kernels, likes.models, likes.total) == ([KERNEL], [], 1)
    api.unlike(KERNEL, repo_type="kernel")
    assert api.kernel_info(KERNEL).likes == 1
    assert list(api.list_user_repos()) == []  # the storage listing has no kernels


def test_kernel_changes_are_not_delivered_to_webhooks(api: HfApi, hub_connection: HubEmulator) -> None:
    # huggingface_hub's webhook payload knows model, dataset and Space repos only.
    api.create_webhook(url="http://127.0.0.1:9/hook", watched=[{"type": "user", "name": "alice"}])
    api.create_repo(KERNEL, repo_type="kernel")
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.py", repo_id=KERNEL, repo_type="kernel")
    api.create_repo("alice/model")
    deadline = time.time() + 5
    while not hub_connection.webhook_deliveries() and time.time() < deadline:
        time.sleep(0.05)
    assert [d["payload"]["repo"]["name"] for d in hub_connection.webhook_deliveries()] == ["alice/model"]
