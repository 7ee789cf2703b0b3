"""``hf://`` object storage through Airflow's ObjectStoragePath and the provider's registered filesystem."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hub.fs import hf as hf_fs


def test_object_storage_path_reads_a_file_written_through_hfapi(api: Any, hub_connection: Any) -> None:
    from airflow.sdk import ObjectStoragePath

    api.create_repo("alice/reviews", repo_type="dataset")
    api.upload_file(
        path_or_fileobj=b"id,label\n1,pos\n",
        path_in_repo="data/train.csv",
        repo_id="alice/reviews",
        repo_type="dataset",
    )
    path = ObjectStoragePath("hf://datasets/alice/reviews/data/train.csv", conn_id="huggingface_hub_default")
    assert path.read_text() == "id,label\n1,pos\n"
    assert path.exists() and path.stat()["size"] == 15
    folder = ObjectStoragePath("hf://datasets/alice/reviews/data", conn_id="huggingface_hub_default")
    assert [p.name for p in folder.iterdir()] == ["train.csv"]


def test_writes_go_through_the_filesystem_as_commits(api: Any, hub_connection: Any) -> None:
    """universal_pathlib's HfPath is read-only (``write_text`` raises); the filesystem itself writes."""
    from airflow.sdk import ObjectStoragePath

    api.create_repo("alice/m")
    path = ObjectStoragePath("hf://models/alice/m/notes/hello.txt", conn_id="huggingface_hub_default")
    with pytest.raises(NotImplementedError, match="does not support writing"):
        path.write_text("hi")
    path.fs.pipe_file("models/alice/m/notes/hello.txt", b"hi")
    assert "notes/hello.txt" in api.list_repo_files("alice/m")
    assert path.read_text() == "hi"


def test_get_fs_uses_the_connection_token_and_endpoint(
    hub_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = hf_fs.get_fs("huggingface_hub_default")
    assert fs.endpoint == hub_connection.url and fs.token == hub_connection.token
    assert hf_fs.schemes == ["hf"]
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_ANON", '{"conn_type": "huggingface_hub", "host": "http://127.0.0.1:1"}'
    )
    anonymous = hf_fs.get_fs("hf_anon", {"block_size": 1024})
    assert (
        anonymous.endpoint == "http://127.0.0.1:1"
        and anonymous.token is False
        and anonymous.block_size == 1024
    )


def test_private_repo_needs_the_connection_token(
    api: Any, hub_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import ObjectStoragePath

    api.create_repo("alice/secret", repo_type="dataset", private=True)
    api.upload_file(path_or_fileobj=b"s", path_in_repo="s.txt", repo_id="alice/secret", repo_type="dataset")
    assert (
        ObjectStoragePath("hf://datasets/alice/secret/s.txt", conn_id="huggingface_hub_default").read_text()
        == "s"
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_ANON", f'{{"conn_type": "huggingface_hub", "host": "{hub_connection.url}"}}'
    )
    assert not ObjectStoragePath("hf://datasets/alice/secret/s.txt", conn_id="hf_anon").exists()
