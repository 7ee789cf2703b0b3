"""The ``hf://`` filesystem gets its credentials where the hook does: ``HubConnectionSettings``.

A token pasted with a trailing newline (a common copy-paste slip) works for the operators because the hook
strips it; the filesystem must send the same stripped token, not the raw password.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_hub.fs import hf as hf_fs
from airflow_provider_hub.hooks.hub import HfHubHook


@pytest.fixture
def newline_token_connection(hub_connection: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A connection to the emulator whose password is the token with whitespace around it; its id."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_PASTED_TOKEN",
        json.dumps(
            {
                "conn_type": "huggingface_hub",
                "host": hub_connection.url,
                "password": f" {hub_connection.token}\n",
            }
        ),
    )
    return "hf_pasted_token"


def test_object_storage_path_reads_with_a_token_pasted_with_a_newline(
    hub_connection: Any, newline_token_connection: str
) -> None:
    from airflow.sdk import ObjectStoragePath
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/private-notes", repo_type="dataset", private=True)
    api.upload_file(
        path_or_fileobj=b"hello\n",
        path_in_repo="notes.txt",
        repo_id="alice/private-notes",
        repo_type="dataset",
    )
    path = ObjectStoragePath("hf://datasets/alice/private-notes/notes.txt", conn_id=newline_token_connection)
    assert path.read_text() == "hello\n"


def test_the_filesystem_and_the_hook_use_the_same_credentials(
    hub_connection: Any, newline_token_connection: str
) -> None:
    fs = hf_fs.get_fs(newline_token_connection)
    api = HfHubHook(hf_conn_id=newline_token_connection).get_conn()
    assert (fs.endpoint, fs.token) == (api.endpoint, api.token) == (hub_connection.url, hub_connection.token)


def test_an_anonymous_connection_sends_no_token_from_the_environment(
    hub_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", hub_connection.token)
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_ANONYMOUS", json.dumps({"conn_type": "huggingface_hub", "host": hub_connection.url})
    )
    assert hf_fs.get_fs("hf_anonymous").token is False
