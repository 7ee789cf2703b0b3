"""Contract tests: history, trees, listings, settings, moves, the change feed and persistence."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.hf_api import RepoFile, RepoFolder

from airflow_provider_hub.testing import HubEmulator
from airflow_provider_hub.testing._core import RepoChange


def test_list_repo_commits_follows_link_pagination(api: HfApi, hub_connection: HubEmulator) -> None:
    hub_connection.state.repos.commits_page_size = 2
    api.create_repo("alice/history")
    oids = [
        api.upload_file(path_or_fileobj=str(i).encode(), path_in_repo=f"{i}.txt", repo_id="alice/history").oid
        for i in range(4)
    ]
    hub_connection.reset_counts()
    commits = api.list_repo_commits("alice/history")
    assert [c.commit_id for c in commits[:4]] == oids[::-1]
    assert commits[-1].title == "initial commit" and len(commits) == 5
    assert commits[0].authors == ["alice"]
    assert hub_connection.request_count("/api/models/alice/history/commits/*") == 3
    formatted = api.list_repo_commits("alice/history", formatted=True)
    assert formatted[0].formatted_title == commits[0].title


def test_list_repo_tree_and_paths_info(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/tree")
    first = api.create_commit(
        "alice/tree",
        operations=[
            CommitOperationAdd("a/b/deep.txt", b"deep"),
            CommitOperationAdd("a/top.txt", b"top"),
            CommitOperationAdd("w.safetensors", b"weights"),
        ],
        commit_message="tree",
    )
    api.upload_file(path_or_fileobj=b"later", path_in_repo="later.txt", repo_id="alice/tree")

    top = list(api.list_repo_tree("alice/tree"))
    assert [(type(e).__name__, e.path) for e in top] == [
        ("RepoFolder", "a"),
        ("RepoFile", ".gitattributes"),
        ("RepoFile", "later.txt"),
        ("RepoFile", "w.safetensors"),
    ]
    under_a = {e.path for e in api.list_repo_tree("alice/tree", path_in_repo="a")}
    assert under_a == {"a/b", "a/top.txt"}
    everything = {e.path for e in api.list_repo_tree("alice/tree", recursive=True)}
    assert everything == {
        ".gitattributes",
        "a",
        "a/b",
        "a/b/deep.txt",
        "a/top.txt",
        "later.txt",
        "w.safetensors",
    }
    assert sorted(api.list_repo_files("alice/tree")) == sorted(
        p for p in everything if "." in p.rsplit("/")[-1]
    )

    expanded = {e.path: e for e in api.list_repo_tree("alice/tree", path_in_repo="a", expand=True)}
    assert expanded["a/top.txt"].last_commit.oid == first.oid
    assert expanded["a/top.txt"].security["safe"] is True
    file_entry = expanded["a/top.txt"]
    assert isinstance(file_entry, RepoFile) and file_entry.blob_id == hashlib.sha1(b"blob 3\0top").hexdigest()

    infos = {
        e.path: e for e in api.get_paths_info("alice/tree", ["a", "w.safetensors", "missing"], expand=True)
    }
    assert set(infos) == {"a", "w.safetensors"}
    assert isinstance(infos["a"], RepoFolder) and len(infos["a"].tree_id) == 40
    assert infos["w.safetensors"].lfs.sha256 == hashlib.sha256(b"weights").hexdigest()
    assert infos["w.safetensors"].last_commit.oid == first.oid

    hub_connection.state.repos.tree_page_size = 2
    assert {e.path for e in api.list_repo_tree("alice/tree", recursive=True)} == everything


def test_move_repo_and_settings(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/old-name")
    api.upload_file(path_or_fileobj=b"k", path_in_repo="k.txt", repo_id="alice/old-name")
    api.create_repo("alice/taken")
    with pytest.raises(HfHubHTTPError, match="A model repository called alice/taken already exists"):
        api.move_repo("alice/old-name", "alice/taken")
    api.move_repo("alice/old-name", "acme/new-name")
    assert api.repo_exists("alice/old-name") is False
    assert api.file_exists("acme/new-name", "k.txt") is True

    api.update_repo_settings("acme/new-name", private=True, gated="auto")
    info = api.model_info("acme/new-name")
    assert (info.private, info.gated) == (True, "auto")
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    with pytest.raises(RepositoryNotFoundError):
        bob.update_repo_settings("acme/new-name", private=False)
    api.update_repo_settings("acme/new-name", private=False, gated=False)
    assert bob.model_info("acme/new-name").gated is False


class _Providers:
    """Stands in for the providers store's two read methods (the interface this area consumes)."""

    def model_expand(self, repo_id: str) -> dict[str, Any]:
        if repo_id != "acme/served":
            return {}
        return {
            "inference": "warm",
            "inferenceProviderMapping": {
                "together": {"status": "live", "providerId": "served-fast", "task": "conversational"}
            },
        }

    def models_served_by(self, provider: str) -> set[str]:
        return {"acme/served"} if provider == "together" else set()


def test_list_models_filters_pagination_and_expand(
    api: HfApi, hub_connection: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for repo_id, card in [
        ("alice/chat-one", "pipeline_tag: text-generation\nlibrary_name: transformers"),
        ("alice/chat-two", "pipeline_tag: text-generation"),
        ("acme/served", "pipeline_tag: text-generation"),
        ("acme/vision", "pipeline_tag: image-classification"),
    ]:
        api.create_repo(repo_id)
        api.upload_file(
            path_or_fileobj=f"---\n{card}\n---\n".encode(), path_in_repo="README.md", repo_id=repo_id
        )
    api.create_repo("alice/hidden", private=True)
    api.create_repo("alice/a-dataset", repo_type="dataset")
    hub_connection.state.repos.page_size = 2
    monkeypatch.setattr(hub_connection.state, "providers", _Providers(), raising=False)
    hub_connection.reset_counts()

    everything = [m.id for m in api.list_models()]
    assert everything == ["alice/chat-one", "alice/chat-two", "acme/served", "acme/vision", "alice/hidden"]
    assert hub_connection.request_count("/api/models") == 3  # absolute Link pagination
    anonymous = HfApi(endpoint=hub_connection.url, token=False)
    assert "alice/hidden" not in [m.id for m in anonymous.list_models()]
    assert [m.id for m in api.list_models(author="acme")] == ["acme/served", "acme/vision"]
    assert [m.id for m in api.list_models(search="CHAT")] == ["alice/chat-one", "alice/chat-two"]
    assert [m.id for m in api.list_models(pipeline_tag="image-classification")] == ["acme/vision"]
    assert [m.id for m in api.list_models(inference_provider="together")] == ["acme/served"]
    assert [m.id for m in api.list_models(inference_provider="all")] == ["acme/served"]
    assert [m.id for m in api.list_models(filter="transformers")] == ["alice/chat-one"]
    assert [d.id for d in api.list_datasets()] == ["alice/a-dataset"]

    [listed] = list(api.list_models(author="acme", search="served", expand=["inferenceProviderMapping"]))
    assert [(p.provider, p.provider_id, p.status) for p in listed.inference_provider_mapping] == [
        ("together", "served-fast", "live")
    ]
    info = api.model_info("acme/served", expand=["inference", "inferenceProviderMapping", "pipeline_tag"])
    assert info.inference == "warm" and info.pipeline_tag == "text-generation"
    assert info.inference_provider_mapping[0].task == "conversational"
    assert info.sha is None  # with expand, only the requested keys come back
    assert api.model_info("alice/chat-one", expand=["inference"]).inference is None


def test_changes_are_published(api: HfApi, hub_connection: HubEmulator) -> None:
    changes: list[RepoChange] = []
    hub_connection.state.subscribe(changes.append)
    api.create_repo("alice/watched")
    commit = api.upload_file(path_or_fileobj=b"1", path_in_repo="1.txt", repo_id="alice/watched")
    api.create_branch("alice/watched", branch="dev")
    api.create_tag("alice/watched", tag="v1")
    api.create_commit(
        "alice/watched", operations=[CommitOperationAdd("2.txt", b"2")], commit_message="PR", create_pr=True
    )
    api.update_repo_settings("alice/watched", gated="auto")
    api.move_repo("alice/watched", "alice/renamed")
    api.delete_repo("alice/renamed")

    summary = [(c.scope, c.action, c.updated_refs[0]["ref"] if c.updated_refs else None) for c in changes]
    assert summary == [
        ("repo", "create", None),
        ("repo.content", "update", "refs/heads/main"),
        ("repo.content", "update", "refs/heads/dev"),
        ("repo.content", "update", "refs/tags/v1"),
        ("discussion", "create", None),
        ("repo.content", "update", "refs/pr/1"),
        ("repo.config", "update", None),
        ("repo", "move", None),
        ("repo", "delete", None),
    ]
    update = changes[1]
    assert update.head_sha == commit.oid and update.updated_refs[0]["newSha"] == commit.oid
    assert update.updated_refs[0]["oldSha"] == changes[0].head_sha
    assert changes[4].discussion["isPullRequest"] is True and changes[4].discussion["num"] == 1
    assert changes[7].moved_to == "alice/renamed"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "hub-data"
    with HubEmulator(data_dir=str(data_dir)) as hub:
        api = HfApi(endpoint=hub.url, token=hub.token)
        api.create_repo("alice/kept", private=True)
        oid = api.upload_file(
            path_or_fileobj=b"\0kept weights", path_in_repo="w.bin", repo_id="alice/kept"
        ).oid
        api.create_tag("alice/kept", tag="v1")
    with HubEmulator(data_dir=str(data_dir)) as hub:
        api = HfApi(endpoint=hub.url, token=hub.token)
        assert api.model_info("alice/kept", revision="v1").sha == oid
        path = hf_hub_download(
            "alice/kept", "w.bin", token=hub.token, cache_dir=tmp_path / "cache", endpoint=hub.url
        )
        assert Path(path).read_bytes() == b"\0kept weights"
        second = api.upload_file(path_or_fileobj=b"more", path_in_repo="more.txt", repo_id="alice/kept").oid
        assert [c.commit_id for c in api.list_repo_commits("alice/kept")][:2] == [second, oid]


def test_pull_request_lifecycle_and_merge(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/merge")
    api.upload_file(path_or_fileobj=b"v1", path_in_repo="shared.txt", repo_id="alice/merge")
    pr = api.create_commit(
        "alice/merge",
        operations=[CommitOperationAdd("feature.txt", b"feature")],
        commit_message="Add feature",
        create_pr=True,
    )
    main_moved = api.upload_file(
        path_or_fileobj=b"other", path_in_repo="other.txt", repo_id="alice/merge"
    ).oid
    api.comment_discussion("alice/merge", pr.pr_num, "Looks good")
    api.merge_pull_request("alice/merge", pr.pr_num, comment="Merging")

    details = api.get_discussion_details("alice/merge", pr.pr_num)
    assert details.status == "merged"
    assert [type(e).__name__ for e in details.events] == [
        "DiscussionCommit",  # the PR's commit
        "DiscussionComment",
        "DiscussionStatusChange",
        "DiscussionComment",
    ]
    head = api.list_repo_commits("alice/merge")[0]
    assert details.merge_commit_oid == head.commit_id
    assert sorted(api.list_repo_files("alice/merge")) == [
        ".gitattributes",
        "feature.txt",
        "other.txt",
        "shared.txt",
    ]
    assert hub_connection.state.repos.get("model", "alice/merge").commits[head.commit_id].parents == [
        main_moved,
        pr.oid,
    ]

    conflicting = api.create_commit(
        "alice/merge",
        operations=[CommitOperationAdd("shared.txt", b"v2-pr")],
        commit_message="PR",
        create_pr=True,
    )
    api.upload_file(path_or_fileobj=b"v2-main", path_in_repo="shared.txt", repo_id="alice/merge")
    with pytest.raises(HfHubHTTPError, match="Merge conflict in shared.txt") as conflict:
        api.merge_pull_request("alice/merge", conflicting.pr_num)
    assert conflict.value.response.status_code == 409
    api.change_discussion_status("alice/merge", conflicting.pr_num, "closed", comment="superseded")
    assert api.get_discussion_details("alice/merge", conflicting.pr_num).status == "closed"
