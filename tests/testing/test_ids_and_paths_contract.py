"""Contract tests: repo ids (namespace-less, any casing), who may open a pull request, paths in commits,
a new Space's files, and the request id of errors on every route, through the real ``huggingface_hub``.

Written from the Hub's documented behaviour and the 2.4 client's source (``hub_http_api_part2.md`` §1.5,
§2.4, §7): the client maps a 404 to ``RepositoryNotFoundError`` only with ``X-Error-Code: RepoNotFound``,
and ``repo_exists`` / ``file_exists`` return ``False`` only for the typed errors.
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from airflow_provider_hub.testing import HubEmulator


@pytest.fixture
def bob(hub_connection: HubEmulator) -> HfApi:
    """Another signed-in user, with no rights on alice's repos."""
    return HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))


# -- repo ids ---------------------------------------------------------------------------------------


def test_a_repo_id_without_namespace_is_a_missing_repo(api: HfApi) -> None:
    assert api.repo_exists("no-such-repo") is False
    assert api.repo_exists("no-such-repo", repo_type="dataset") is False
    assert api.revision_exists("no-such-repo", "main") is False
    assert api.file_exists("no-such-repo", "config.json") is False
    with pytest.raises(RepositoryNotFoundError) as raised:
        api.list_repo_commits("no-such-repo")
    assert raised.value.request_id and f"(Request ID: {raised.value.request_id})" in str(raised.value)
    with pytest.raises(RepositoryNotFoundError):
        api.hf_hub_download("no-such-repo", "config.json")


def test_repo_ids_match_in_any_case_and_answer_as_created(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/MixedCase")
    assert api.model_info("ALICE/mixedcase").id == "alice/MixedCase"
    assert api.repo_exists("alice/mixedcase")
    api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id="alice/mixedCASE")
    assert api.list_repo_files("alice/MixedCase") == [".gitattributes", "a.txt"]
    with pytest.raises(HfHubHTTPError) as raised:
        api.create_repo("alice/mixedcase")  # taken, whatever the casing
    assert raised.value.response.status_code == 409
    url = api.create_repo("alice/mixedcase", exist_ok=True)
    assert url == f"{hub_connection.url}/alice/MixedCase"


# -- pull requests ----------------------------------------------------------------------------------


def test_any_reader_may_open_a_pull_request_but_not_push(api: HfApi, bob: HfApi) -> None:
    api.create_repo("alice/open-model")
    commit = bob.upload_file(
        path_or_fileobj=b"fix", path_in_repo="fix.txt", repo_id="alice/open-model", create_pr=True
    )
    assert commit.pr_num is not None
    discussion = bob.create_discussion("alice/open-model", title="Also this", pull_request=True)
    assert discussion.is_pull_request and discussion.author == "bob"
    with pytest.raises(HfHubHTTPError) as raised:
        bob.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/open-model")
    assert raised.value.response.status_code == 403
    assert api.list_repo_files("alice/open-model") == [".gitattributes"]  # main untouched
    # The PR's author may push to its branch; another reader may not.
    bob.upload_file(
        path_or_fileobj=b"more",
        path_in_repo="more.txt",
        repo_id="alice/open-model",
        revision=commit.pr_revision,
    )
    assert "more.txt" in api.list_repo_files("alice/open-model", revision=commit.pr_revision)


def test_a_pull_request_on_another_readers_pr_branch_or_a_private_repo_is_refused(
    api: HfApi, bob: HfApi, hub_connection: HubEmulator
) -> None:
    api.create_repo("alice/shared")
    pr = api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id="alice/shared", create_pr=True)
    with pytest.raises(HfHubHTTPError) as raised:
        bob.upload_file(
            path_or_fileobj=b"b", path_in_repo="b.txt", repo_id="alice/shared", revision=pr.pr_revision
        )
    assert raised.value.response.status_code == 403
    api.create_repo("alice/secret", private=True)
    with pytest.raises(RepositoryNotFoundError):
        bob.upload_file(path_or_fileobj=b"b", path_in_repo="b.txt", repo_id="alice/secret", create_pr=True)


def test_a_pull_request_on_a_missing_revision_is_revision_not_found(api: HfApi) -> None:
    api.create_repo("alice/base")
    with pytest.raises(RevisionNotFoundError):
        api.upload_file(
            path_or_fileobj=b"a",
            path_in_repo="a.txt",
            repo_id="alice/base",
            revision="no-such",
            create_pr=True,
        )
    assert list(api.get_repo_discussions("alice/base")) == []


# -- paths ------------------------------------------------------------------------------------------


def _raw_commit(hub: HubEmulator, path: str) -> httpx.Response:
    """A commit the client would refuse to build (it checks paths itself), sent as the Hub receives it."""
    lines = [
        {"key": "header", "value": {"summary": "escape"}},
        {
            "key": "file",
            "value": {"path": path, "content": base64.b64encode(b"x").decode(), "encoding": "base64"},
        },
    ]
    return get_session().post(
        f"{hub.url}/api/models/alice/paths/commit/main",
        content="\n".join(json.dumps(line) for line in lines),
        headers={**build_hf_headers(token=hub.token), "Content-Type": "application/x-ndjson"},
    )


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/./b", "a/../../b", "a//b", "dir/"])
def test_a_commit_path_outside_the_repo_is_a_bad_request(
    api: HfApi, hub_connection: HubEmulator, path: str
) -> None:
    api.create_repo("alice/paths")
    response = _raw_commit(hub_connection, path)
    with pytest.raises(BadRequestError) as raised:
        hf_raise_for_status(response)
    assert isinstance(raised.value, HfHubHTTPError) and raised.value.request_id
    assert api.list_repo_files("alice/paths") == [".gitattributes"]


def test_deleting_a_folder_by_its_name_deletes_the_folder(api: HfApi) -> None:
    api.create_repo("alice/folders")
    api.upload_file(path_or_fileobj=b"1", path_in_repo="1/a.txt", repo_id="alice/folders")
    api.upload_file(path_or_fileobj=b"2", path_in_repo="1/b/c.txt", repo_id="alice/folders")
    api.upload_file(path_or_fileobj=b"3", path_in_repo="10.txt", repo_id="alice/folders")
    api.delete_file("1", "alice/folders")  # no trailing slash: the folder
    assert api.list_repo_files("alice/folders") == [".gitattributes", "10.txt"]
    with pytest.raises(EntryNotFoundError):
        api.delete_file("1", "alice/folders")


# -- Spaces -----------------------------------------------------------------------------------------


def test_a_new_space_holds_the_readme_with_its_configuration(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/demo", repo_type="space", space_sdk="streamlit")
    assert api.list_repo_files("alice/demo", repo_type="space") == [".gitattributes", "README.md"]
    info = api.space_info("alice/demo")
    assert info.sdk == "streamlit" and info.card_data.get("app_file") == "app.py"
    # The client asks for an SDK itself; the Hub refuses a Space without one too.
    response = httpx.post(
        f"{hub_connection.url}/api/repos/create",
        json={"name": "no-sdk", "type": "space"},
        headers=build_hf_headers(token=hub_connection.token),
    )
    assert response.status_code == 400 and "sdk" in response.headers["X-Error-Message"]


# -- errors on every route --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda api: api.list_repo_commits("alice/errors", revision="nope"), RevisionNotFoundError),
        (lambda api: api.model_info("alice/errors", revision="nope"), RevisionNotFoundError),
        (lambda api: api.hf_hub_download("alice/errors", "missing.txt"), EntryNotFoundError),
        (
            lambda api: api.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id="alice/missing"),
            RepositoryNotFoundError,
        ),
        (lambda api: api.delete_file("missing.txt", "alice/errors"), EntryNotFoundError),
        (lambda api: api.list_repo_commits("alice/missing"), RepositoryNotFoundError),
    ],
)
def test_not_found_is_typed_and_carries_the_request_id_on_every_route(api: HfApi, call, error) -> None:
    api.create_repo("alice/errors", exist_ok=True)
    with pytest.raises(error) as raised:
        call(api)
    assert raised.value.request_id and f"(Request ID: {raised.value.request_id})" in str(raised.value)


def test_a_route_the_hub_does_not_have_still_answers_with_a_request_id(hub_connection: HubEmulator) -> None:
    response = httpx.get(f"{hub_connection.url}/api/no-such-area", headers={"X-Amzn-Trace-Id": "trace-7"})
    assert response.status_code == 404 and response.headers["X-Request-Id"] == "trace-7"
    assert "X-Error-Code" not in response.headers and response.json() == {
        "error": "Not found: /api/no-such-area"
    }
    wrong_method = httpx.delete(f"{hub_connection.url}/api/whoami-v2")
    assert wrong_method.status_code == 405 and wrong_method.headers["X-Request-Id"]
