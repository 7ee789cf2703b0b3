"""Likes and a namespace's own repo listing, driven by the real ``huggingface_hub`` client.

The client cannot like a repo (no ``like`` in 2.4, to prevent spam): likes are seeded with
``HubEmulator.add_like``, and the client unlikes and lists them.
"""

from __future__ import annotations

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from airflow_provider_hub.testing import HubEmulator


def test_likes_show_in_info_likers_and_liked_repos(api: HfApi, hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("alice/model")
    hub_connection.add_repo("alice/data", repo_type="dataset")
    hub_connection.add_repo("alice/demo", repo_type="space")
    hub_connection.add_user("bob", fullname="Bob Builder")
    hub_connection.add_like("bob", "alice/model")
    hub_connection.add_like("carol", "alice/model")  # a new user
    hub_connection.add_like("bob", "alice/data", repo_type="dataset")
    hub_connection.add_like("bob", "Alice/Demo", repo_type="space")
    hub_connection.add_like("bob", "alice/model")  # liking twice is one like

    assert api.model_info("alice/model").likes == 2
    assert api.dataset_info("alice/data").likes == 1
    assert api.model_info("alice/model", expand=["likes"]).likes == 2
    likers = list(api.list_repo_likers("alice/model"))
    assert [(u.username, u.fullname) for u in likers] == [("carol", "Carol"), ("bob", "Bob Builder")]
    assert all(u.avatar_url for u in likers)

    likes = api.list_liked_repos("bob")
    assert (likes.user, likes.total) == ("bob", 3)
    assert (likes.models, likes.datasets, likes.spaces, likes.kernels) == (
        ["alice/model"],
        ["alice/data"],
        ["alice/demo"],
        [],
    )
    raw = httpx.get(f"{hub_connection.url}/api/users/bob/likes").json()
    assert [like["repo"] for like in raw] == [
        {"name": "alice/demo", "type": "space"},  # newest first
        {"name": "alice/data", "type": "dataset"},
        {"name": "alice/model", "type": "model"},
    ]
    assert all(like["createdAt"].endswith("Z") for like in raw)
    assert [m.id for m in api.list_models(sort="likes")][0] == "alice/model"


def test_unlike(api: HfApi, hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("acme/model")
    hub_connection.add_like("alice", "acme/model")
    assert api.list_liked_repos().models == ["acme/model"]  # the token's user, through whoami
    api.unlike("acme/model")
    assert api.list_liked_repos().total == 0
    assert api.model_info("acme/model").likes == 0
    assert list(api.list_repo_likers("acme/model")) == []
    api.unlike("acme/model")  # not liked (any more): nothing to do
    with pytest.raises(RepositoryNotFoundError):
        api.unlike("acme/missing")
    with pytest.raises(RepositoryNotFoundError):
        api.unlike("acme/model", repo_type="dataset")


def test_unlike_needs_a_write_token(hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("alice/model")
    hub_connection.add_like("alice", "alice/model")
    reader = HfApi(endpoint=hub_connection.url, token=hub_connection.add_token("alice", role="read"))
    with pytest.raises(HfHubHTTPError) as read_only:
        reader.unlike("alice/model")
    assert read_only.value.response.status_code == 403
    assert read_only.value.server_message
    with pytest.raises(HfHubHTTPError) as anonymous:
        HfApi(endpoint=hub_connection.url, token=False).unlike("alice/model")
    assert anonymous.value.response.status_code == 401
    assert reader.model_info("alice/model").likes == 1


def test_likes_of_private_repos_show_to_readers_only(api: HfApi, hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("alice/secret", private=True)
    hub_connection.add_repo("alice/open")
    hub_connection.add_like("alice", "alice/secret")
    hub_connection.add_like("alice", "alice/open")
    assert api.list_liked_repos("alice").models == ["alice/open", "alice/secret"]
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    assert bob.list_liked_repos("alice").models == ["alice/open"]
    with pytest.raises(RepositoryNotFoundError):
        list(bob.list_repo_likers("alice/secret"))
    with pytest.raises(RepositoryNotFoundError):
        list(api.list_repo_likers("alice/missing"))
    with pytest.raises(KeyError):
        hub_connection.add_like("bob", "alice/secret")  # bob cannot see it, so cannot like it


def test_unknown_user_has_no_likes_page(api: HfApi) -> None:
    with pytest.raises(HfHubHTTPError) as unknown:
        api.list_liked_repos("nobody")
    assert unknown.value.response.status_code == 404


def test_likers_and_likes_paginate(api: HfApi, hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("alice/popular")
    users = [f"user{n}" for n in range(5)]
    for user in users:
        hub_connection.add_like(user, "alice/popular")
    for n in range(3):
        hub_connection.add_repo(f"alice/r{n}")
        hub_connection.add_like("user0", f"alice/r{n}")
    hub_connection.state.likes.page_size = 2
    first = httpx.get(f"{hub_connection.url}/api/models/alice/popular/likers")
    assert len(first.json()) == 2
    assert first.links["next"]["url"].startswith(hub_connection.url)
    assert [u.username for u in api.list_repo_likers("alice/popular")] == users[::-1]
    assert api.list_liked_repos("user0").total == 4


def test_likes_follow_the_repo(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/old-name")
    hub_connection.add_like("bob", "alice/old-name")
    api.move_repo("alice/old-name", "alice/new-name")
    assert api.model_info("alice/new-name").likes == 1
    assert api.list_liked_repos("bob").models == ["alice/new-name"]
    api.delete_repo("alice/new-name")
    assert api.list_liked_repos("bob").total == 0
    api.create_repo("alice/new-name")
    assert api.model_info("alice/new-name").likes == 0  # a new repo, not the liked one


def test_add_like_over_the_control_api(hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("alice/model")
    answer = httpx.post(
        f"{hub_connection.url}/_emulator/add_like",
        json={"user": "bob", "repo_id": "alice/model", "repo_type": "model"},
    )
    assert answer.status_code == 200
    assert HfApi(endpoint=hub_connection.url).model_info("alice/model").likes == 1
    missing = httpx.post(
        f"{hub_connection.url}/_emulator/add_like", json={"user": "bob", "repo_id": "alice/none"}
    )
    assert missing.status_code == 400


# -- a namespace's own repos (the settings' storage page) ------------------------------------------------
def test_list_user_repos_lists_the_token_users_repos_with_storage(
    api: HfApi, hub_connection: HubEmulator
) -> None:
    hub_connection.add_repo("alice/model", files={"weights.bin": b"w" * 1000})
    hub_connection.add_repo("alice/data", repo_type="dataset", private=True)
    hub_connection.add_repo("acme/shared")
    hub_connection.add_repo("bob/theirs")
    api.upload_file(path_or_fileobj=b"v" * 500, path_in_repo="weights.bin", repo_id="alice/model")

    repos = list(api.list_user_repos())
    assert [(r.id, r.type, r.visibility) for r in repos] == [
        ("alice/model", "model", "public"),  # most recently updated first
        ("alice/data", "dataset", "private"),
    ]
    model, data = repos
    gitattributes = len(httpx.get(f"{hub_connection.url}/alice/model/resolve/main/.gitattributes").content)
    assert model.storage == gitattributes + 1000 + 500  # every version in the history, once
    assert data.storage > 0
    assert round(model.storage_percent + data.storage_percent) == 100
    assert model.updated_at > data.updated_at

    assert [r.id for r in api.list_user_repos(namespace="acme")] == ["acme/shared"]


def test_list_user_repos_needs_a_token_and_membership(hub_connection: HubEmulator) -> None:
    with pytest.raises(HfHubHTTPError) as anonymous:
        list(HfApi(endpoint=hub_connection.url, token=False).list_user_repos())
    assert anonymous.value.response.status_code == 401
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    assert list(bob.list_user_repos()) == []
    with pytest.raises(HfHubHTTPError) as not_a_member:
        list(bob.list_user_repos(namespace="acme"))
    assert not_a_member.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as unknown:
        list(bob.list_user_repos(namespace="no-such-org"))
    assert unknown.value.response.status_code == 404


def test_list_user_repos_paginates(api: HfApi, hub_connection: HubEmulator) -> None:
    for n in range(5):
        hub_connection.add_repo(f"alice/r{n}")
    hub_connection.state.repos.page_size = 2
    first = httpx.get(
        f"{hub_connection.url}/api/settings/repositories", headers={"authorization": f"Bearer {api.token}"}
    )
    assert len(first.json()) == 2
    assert first.links["next"]["url"].startswith(hub_connection.url)
    assert sorted(r.id for r in api.list_user_repos()) == [f"alice/r{n}" for n in range(5)]
