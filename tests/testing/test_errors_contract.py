"""How the emulator answers errors, and that seeding and HTTP share one commit path.

Every error carries the Hub's status, ``X-Error-Message``, a JSON object ``{"error": ...}`` and
``X-Request-Id`` (echoing the client's trace id); ``X-Error-Code`` only for the four codes the client
maps (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``, ``GatedRepo``).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from airflow_provider_hub.testing import HubEmulator
from airflow_provider_hub.testing._core import RepoChange
from airflow_provider_hub.testing.errors import (
    BadRequest,
    EntryNotFound,
    GatedRepo,
    HubError,
    NotFound,
    RepoNotFound,
    RevisionNotFound,
)


def _auth(hub: HubEmulator, token: str | None = None) -> dict[str, str]:
    return {"authorization": f"Bearer {token or hub.token}"}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/models/alice/nowhere", 404, "RepoNotFound"),
        ("/api/models/alice/errs/revision/no-such-branch", 404, "RevisionNotFound"),
        ("/api/models/alice/errs/tree/main/no/such/dir", 404, "EntryNotFound"),
        ("/alice/errs/resolve/main/missing.txt", 404, "EntryNotFound"),
        ("/api/models/alice/errs/discussions/7", 404, None),
        ("/api/jobs/nobody-here", 404, None),
        ("/api/users/nobody-here/overview", 404, None),
        ("/v2/endpoint/alice/none", 404, None),
        ("/api/settings/webhooks/none", 404, None),
        ("/v1/models/alice/unserved", 404, None),
    ],
)
def test_every_error_carries_message_request_id_and_only_the_hubs_codes(
    hub_connection: HubEmulator, path: str, status: int, code: str | None
) -> None:
    hub_connection.add_repo("alice/errs", files={"a.txt": b"a"})
    response = httpx.get(
        f"{hub_connection.url}{path}", headers={**_auth(hub_connection), "X-Amzn-Trace-Id": "trace-123"}
    )
    assert response.status_code == status
    assert response.headers.get("x-error-code") == code
    assert response.headers["x-error-message"] == response.json()["error"]
    assert response.headers["x-request-id"] == "trace-123"


def test_request_id_is_minted_when_the_client_sends_none(hub_connection: HubEmulator) -> None:
    first = httpx.get(f"{hub_connection.url}/api/models/alice/nowhere")
    second = httpx.get(f"{hub_connection.url}/api/models/alice/nowhere")
    assert first.headers["x-request-id"] and second.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_client_sees_request_id_and_the_right_error_classes(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/classes")
    with pytest.raises(RepositoryNotFoundError) as missing:
        api.model_info("alice/not-there")
    assert missing.value.request_id  # the client quotes it in its message
    assert f"Request ID: {missing.value.request_id}" in str(missing.value)
    with pytest.raises(RevisionNotFoundError):
        api.model_info("alice/classes", revision="nope")
    with pytest.raises(EntryNotFoundError):
        api.list_repo_tree("alice/classes", path_in_repo="nope").__next__()
    api.update_repo_settings("alice/classes", gated="manual")
    with pytest.raises(GatedRepoError):
        HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("mallory")).auth_check(
            "alice/classes"
        )
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_branch("alice/classes", branch="main")
    assert conflict.value.response.status_code == 409
    assert "x-error-code" not in conflict.value.response.headers


def test_error_bodies_keep_the_keys_the_client_reads(hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("alice/exists")
    response = httpx.post(
        f"{hub_connection.url}/api/repos/create", json={"name": "exists"}, headers=_auth(hub_connection)
    )
    assert response.status_code == 409
    assert response.json()["url"] == f"{hub_connection.url}/alice/exists"  # create_repo(exist_ok=True)
    assert response.headers["x-request-id"]


def test_injected_faults_carry_a_request_id(hub_connection: HubEmulator) -> None:
    hub_connection.inject_fault("/api/whoami-v2", status=503, times=1)
    response = httpx.get(f"{hub_connection.url}/api/whoami-v2", headers={"X-Request-Id": "mine"})
    assert response.status_code == 503
    assert response.headers["x-request-id"] == "mine"
    assert "x-error-code" not in response.headers


def test_error_classes_map_to_the_hubs_status_and_code() -> None:
    assert (RepoNotFound().status, RepoNotFound().code) == (404, "RepoNotFound")
    assert (RevisionNotFound("dev").status, RevisionNotFound("dev").message) == (404, "Invalid rev id: dev")
    assert EntryNotFound("x").code == "EntryNotFound"
    assert GatedRepo("no", anonymous=True).status == 401
    assert GatedRepo("no", anonymous=False).status == 403
    assert NotFound("discussion").code is None
    # Python callers of the seeding methods catch them as any failed lookup or bad argument.
    assert isinstance(RevisionNotFound("dev"), KeyError) and isinstance(BadRequest("bad"), ValueError)
    assert str(RevisionNotFound("dev")) == "Invalid rev id: dev"
    assert all(issubclass(cls, HubError) for cls in (RepoNotFound, BadRequest, GatedRepo))


def test_seeding_commits_take_the_http_commit_path(api: HfApi, hub_connection: HubEmulator) -> None:
    changes: list[RepoChange] = []
    hub_connection.add_repo("alice/seeded")
    hub_connection.state.subscribe(changes.append)
    repos = hub_connection.state.repos
    seeded = repos.commit_files("model", "alice/seeded", {"a.txt": b"a", "w.safetensors": b"\0" * 10})
    over_http = api.create_commit(
        "alice/seeded", operations=[CommitOperationAdd("b.txt", b"b")], commit_message="HTTP"
    ).oid
    assert [(c.scope, c.updated_refs) for c in changes] == [
        (
            "repo.content",
            [{"ref": "refs/heads/main", "oldSha": changes[0].updated_refs[0]["oldSha"], "newSha": seeded}],
        ),
        ("repo.content", [{"ref": "refs/heads/main", "oldSha": seeded, "newSha": over_http}]),
    ]
    repo = repos.get("model", "alice/seeded")
    assert repo.commits[over_http].parents == [seeded]
    assert repo.commits[seeded].author == "alice"  # the namespace authors seeded commits
    tree = repo.commits[seeded].tree
    assert (tree["a.txt"].lfs, tree["w.safetensors"].lfs) == (False, True)  # .gitattributes decides
    with pytest.raises(KeyError):
        repos.commit_files("model", "alice/seeded", {"c.txt": b"c"}, revision="no-such-branch")
    with pytest.raises(RevisionNotFound):
        repos.commit_files("model", "alice/seeded", {"c.txt": b"c"}, revision="no-such-branch")


def test_state_saved_by_the_previous_layout_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``data_dir`` written when the repo objects lived in ``testing._repos`` loads after the split."""
    from airflow_provider_hub.testing.backends import repo_model

    data_dir = tmp_path / "hub-data"
    old_module = types.ModuleType("airflow_provider_hub.testing._repos")
    for cls in (repo_model.Repo, repo_model.Commit, repo_model.Discussion):
        setattr(old_module, cls.__name__, cls)
        monkeypatch.setattr(cls, "__module__", old_module.__name__)
    monkeypatch.setitem(sys.modules, old_module.__name__, old_module)
    with HubEmulator(data_dir=str(data_dir)) as hub:
        hub.add_repo("alice/kept")
        oid = (
            HfApi(endpoint=hub.url, token=hub.token)
            .upload_file(path_or_fileobj=b"kept", path_in_repo="kept.txt", repo_id="alice/kept")
            .oid
        )
    assert b"airflow_provider_hub.testing._repos" in (data_dir / "repos" / "repos.pickle").read_bytes()
    monkeypatch.undo()
    with HubEmulator(data_dir=str(data_dir)) as hub:
        assert HfApi(endpoint=hub.url, token=hub.token).model_info("alice/kept").sha == oid
