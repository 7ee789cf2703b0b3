"""Access requests of gated repos, driven by the real ``huggingface_hub`` client against the emulator."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

REPO = "alice/gated-model"


def _seed(hub, users, repo_id=REPO, repo_type="model"):
    hub.add_access_requests(
        repo_id,
        [
            {
                "user": user,
                "email": f"{user}@{user}.org",
                "fields": {"affiliation": user.upper()},
                "timestamp": f"2026-11-0{i + 1}T10:00:00Z",
            }
            for i, user in enumerate(users)
        ],
        repo_type=repo_type,
    )


def test_listing_carries_fields_user_info_and_timestamps(hub_connection, api):
    _seed(hub_connection, ["bob", "carol"])
    pending = list(api.list_pending_access_requests(REPO))
    assert [r.username for r in pending] == ["bob", "carol"]
    bob = pending[0]
    assert bob.email == "bob@bob.org"
    assert bob.fields == {"affiliation": "BOB"}
    assert bob.status == "pending"
    assert bob.timestamp == datetime(2026, 11, 1, 10, tzinfo=timezone.utc)
    assert bob.fullname == "Bob"
    assert bob.request_id
    assert list(api.list_accepted_access_requests(REPO)) == []
    assert list(api.list_rejected_access_requests(REPO)) == []


def test_accept_reject_cancel_move_between_lists(hub_connection, api):
    _seed(hub_connection, ["bob", "carol", "dave"])
    api.accept_access_request(REPO, "bob")
    api.reject_access_request(REPO, "carol", rejection_reason="Not a research use")
    assert [r.username for r in api.list_accepted_access_requests(REPO)] == ["bob"]
    assert [r.username for r in api.list_rejected_access_requests(REPO)] == ["carol"]
    assert [r.username for r in api.list_pending_access_requests(REPO)] == ["dave"]
    # A rejected request can be accepted later, an accepted one cancelled back to pending.
    api.accept_access_request(REPO, "carol")
    api.cancel_access_request(REPO, "bob")
    assert [r.username for r in api.list_accepted_access_requests(REPO)] == ["carol"]
    assert sorted(r.username for r in api.list_pending_access_requests(REPO)) == ["bob", "dave"]
    # By request id too.
    dave = next(r for r in api.list_pending_access_requests(REPO) if r.username == "dave")
    api.accept_access_request(REPO, request_id=dave.request_id)
    assert hub_connection.state.access.status_of("model", REPO, "dave") == "accepted"


def test_handle_errors_like_the_hub(hub_connection, api):
    _seed(hub_connection, ["bob"])
    hub_connection.add_user("erin")
    api.accept_access_request(REPO, "bob")
    with pytest.raises(HfHubHTTPError) as already:
        api.accept_access_request(REPO, "bob")
    assert already.value.response.status_code == 404
    assert "already in the accepted list" in str(already.value)
    with pytest.raises(HfHubHTTPError) as no_request:
        api.accept_access_request(REPO, "erin")
    assert no_request.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as no_user:
        api.reject_access_request(REPO, "nobody-at-all", rejection_reason=None)
    assert no_user.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as too_long:
        api.reject_access_request(REPO, "bob", rejection_reason="x" * 201)
    assert too_long.value.response.status_code == 400


def test_only_writers_of_the_namespace_manage_requests(hub_connection):
    _seed(hub_connection, ["bob"])
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    with pytest.raises(HfHubHTTPError) as forbidden:
        list(bob.list_pending_access_requests(REPO))
    assert forbidden.value.response.status_code == 403
    reader = HfApi(endpoint=hub_connection.url, token=hub_connection.add_token("alice", role="read"))
    with pytest.raises(HfHubHTTPError) as read_only:
        reader.accept_access_request(REPO, "bob")
    assert read_only.value.response.status_code == 403
    with pytest.raises(RepositoryNotFoundError):
        list(
            HfApi(endpoint=hub_connection.url, token=hub_connection.token).list_pending_access_requests(
                "alice/none"
            )
        )


def test_not_gated_repo_is_a_400(hub_connection, api):
    hub_connection.add_repo("alice/open-model")
    with pytest.raises(HfHubHTTPError) as not_gated:
        list(api.list_pending_access_requests("alice/open-model"))
    assert not_gated.value.response.status_code == 400


def test_grant_and_the_gate(hub_connection, api):
    hub_connection.add_repo(REPO, files={"weights.bin": b"w"})
    hub_connection.add_repo(REPO, gated="manual")  # settings apart: seeding files resets them (repos area)
    carol_token = hub_connection.add_user("carol", email="carol@example.org")
    carol = HfApi(endpoint=hub_connection.url, token=carol_token)
    with pytest.raises(GatedRepoError):
        carol.hf_hub_download(REPO, "weights.bin")
    assert api.grant_access(REPO, "carol") is not None
    assert carol.hf_hub_download(REPO, "weights.bin")
    granted = next(r for r in api.list_accepted_access_requests(REPO) if r.username == "carol")
    assert granted.email is None  # a granted user never shared an e-mail with the owner
    with pytest.raises(HfHubHTTPError) as again:
        api.grant_access(REPO, "carol")
    assert again.value.response.status_code == 400
    api.reject_access_request(REPO, "carol", rejection_reason="Revoked")
    with pytest.raises(GatedRepoError):
        carol.auth_check(REPO)


def test_seeding_makes_the_repo_gated_and_datasets_work(hub_connection, api):
    hub_connection.add_repo("alice/data", repo_type="dataset")
    _seed(hub_connection, ["bob"], repo_id="alice/data", repo_type="dataset")
    assert hub_connection.state.repos.get("dataset", "alice/data").gated == "manual"
    assert [r.username for r in api.list_pending_access_requests("alice/data", repo_type="dataset")] == [
        "bob"
    ]
    api.accept_access_request("alice/data", "bob", repo_type="dataset")
    assert hub_connection.state.access.has_access("dataset", "alice/data", "bob")


def test_thousands_seeded_fast_and_listed_across_pages(hub_connection, api):
    users = [f"user{i:05d}" for i in range(3000)]
    started = time.perf_counter()
    hub_connection.add_access_requests(REPO, [{"user": u, "fields": {"n": i}} for i, u in enumerate(users)])
    assert time.perf_counter() - started < 5
    hub_connection.state.access.page_size = 1000
    hub_connection.reset_counts()
    listed = [r.username for r in api.list_pending_access_requests(REPO)]
    assert listed == users
    assert hub_connection.request_count("/api/models/alice/gated-model/user-access-request/pending") == 3


def test_concurrent_handling_decides_each_request_once(hub_connection, api):
    users = [f"u{i}" for i in range(60)]
    hub_connection.add_access_requests(REPO, [{"user": u} for u in users])
    outcomes: list[int] = []
    lock = threading.Lock()

    def accept_all() -> None:
        for user in users:
            try:
                api.accept_access_request(REPO, user)
                code = 200
            except HfHubHTTPError as exc:
                code = exc.response.status_code
            with lock:
                outcomes.append(code)

    threads = [threading.Thread(target=accept_all) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(200) == len(users)
    assert outcomes.count(404) == 2 * len(users)
    assert len(list(api.list_accepted_access_requests(REPO))) == len(users)


def test_org_membership_lookups(hub_connection, api):
    hub_connection.add_user("bob", orgs=["research-lab"])
    hub_connection.add_org("research-lab", fullname="Research Lab", members=["carol"])
    overview = api.get_user_overview("bob")
    assert [org.name for org in overview.orgs] == ["research-lab"]
    assert sorted(u.username for u in api.list_organization_members("research-lab")) == ["bob", "carol"]
    assert api.get_organization_overview("research-lab").fullname == "Research Lab"
    with pytest.raises(HfHubHTTPError) as missing:
        api.get_user_overview("nobody-at-all")
    assert missing.value.response.status_code == 404


def test_deciding_while_paginating_misses_no_request(hub_connection, api):
    users = [f"u{i:02d}" for i in range(35)]
    hub_connection.add_access_requests(REPO, [{"user": u} for u in users])
    hub_connection.state.access.page_size = 10
    for request in api.list_pending_access_requests(REPO):  # the listing is consumed lazily, page by page
        api.accept_access_request(REPO, request.username)
    assert [r.username for r in api.list_accepted_access_requests(REPO)] == users
    assert list(api.list_pending_access_requests(REPO)) == []
