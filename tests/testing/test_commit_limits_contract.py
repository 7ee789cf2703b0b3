"""Contract tests of the Hub's per-commit limits and of the emulator's byte counters, with the real client.

``create_commit`` is "limited to 25k LFS files and a 1GB payload for regular files" (the client's
docstring); what the Hub answers past them is not documented, so the emulator answers the closest
documented refusal, a 400 (``BadRequestError``), before applying anything. Uploads run with
``HF_HUB_DISABLE_XET=1``: ``.bin`` files (LFS per the default ``.gitattributes``) go through the LFS batch API.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import BadRequestError

from airflow_provider_hub.testing import HubEmulator
from airflow_provider_hub.testing.backends.repos import (
    MAX_LFS_FILES_PER_COMMIT,
    MAX_REGULAR_PAYLOAD_PER_COMMIT,
)


@pytest.fixture
def api(hub_connection: HubEmulator) -> HfApi:
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/limits")
    return api


def _lfs(path: str, seed: str, size: int = 4096) -> CommitOperationAdd:
    data = (hashlib.sha256(seed.encode()).digest() * (size // 32 + 1))[:size]
    return CommitOperationAdd(path_in_repo=path, path_or_fileobj=data)


def test_the_defaults_are_the_hubs_limits(hub_connection: HubEmulator) -> None:
    assert MAX_LFS_FILES_PER_COMMIT == 25_000
    assert MAX_REGULAR_PAYLOAD_PER_COMMIT == 1_000_000_000
    hub_connection.set_commit_limits(max_lfs_files=2, max_regular_payload=10)
    hub_connection.reset()
    assert hub_connection.state.repos.max_lfs_files_per_commit == MAX_LFS_FILES_PER_COMMIT
    assert hub_connection.state.repos.max_regular_payload_per_commit == MAX_REGULAR_PAYLOAD_PER_COMMIT


def test_a_commit_past_the_lfs_file_limit_is_refused_and_changes_nothing(
    api: HfApi, hub_connection: HubEmulator
) -> None:
    hub_connection.set_commit_limits(max_lfs_files=2)
    head = api.repo_info("alice/limits").sha

    with pytest.raises(BadRequestError, match="Too many LFS files in one commit: 3 \\(at most 2\\)"):
        api.create_commit(
            "alice/limits", [_lfs(f"w{i}.bin", str(i)) for i in range(3)], commit_message="three"
        )

    assert api.repo_info("alice/limits").sha == head
    api.create_commit("alice/limits", [_lfs(f"w{i}.bin", str(i)) for i in range(2)], commit_message="two")
    assert {"w0.bin", "w1.bin"} <= set(api.list_repo_files("alice/limits"))


def test_a_commit_past_the_regular_payload_limit_is_refused(api: HfApi, hub_connection: HubEmulator) -> None:
    content = b"x" * 300  # 400 bytes once base64-encoded in the commit body
    assert len(base64.b64encode(content)) == 400
    hub_connection.set_commit_limits(max_regular_payload=799)
    operations = [CommitOperationAdd(path_in_repo=f"t{i}.txt", path_or_fileobj=content) for i in range(2)]

    with pytest.raises(BadRequestError, match="Commit payload too large: 800 bytes"):
        api.create_commit("alice/limits", operations, commit_message="too large")
    assert "t0.txt" not in api.list_repo_files("alice/limits")

    hub_connection.set_commit_limits(max_regular_payload=800)
    operations = [CommitOperationAdd(path_in_repo=f"t{i}.txt", path_or_fileobj=content) for i in range(2)]
    api.create_commit("alice/limits", operations, commit_message="just fits")
    assert {"t0.txt", "t1.txt"} <= set(api.list_repo_files("alice/limits"))


def test_seeding_is_not_limited(hub_connection: HubEmulator) -> None:
    hub_connection.set_commit_limits(max_lfs_files=1, max_regular_payload=1)
    hub_connection.add_repo("alice/seeded", files={"a.txt": "a" * 100, "b.txt": "b" * 100})
    assert set(hub_connection.state.repos.files("model", "alice/seeded")) >= {"a.txt", "b.txt"}


def test_byte_counters_and_no_upload_action_for_stored_lfs_objects(
    api: HfApi, hub_connection: HubEmulator
) -> None:
    hub_connection.reset_counts()
    first = _lfs("weights.bin", "weights", size=64 * 1024)
    api.preupload_lfs_files("alice/limits", additions=[first])
    assert first._upload_mode == "lfs" and first._is_uploaded
    assert hub_connection.bytes_received("lfs") == 64 * 1024
    assert hub_connection.bytes_received("commit") == 0

    # The same content again (pre-uploaded, never committed): the LFS batch answers no upload action.
    again = _lfs("copy/weights.bin", "weights", size=64 * 1024)
    api.preupload_lfs_files("alice/limits", additions=[again])
    assert again._is_uploaded
    assert hub_connection.bytes_received("lfs") == 64 * 1024
    assert hub_connection.request_count("/_lfs/objects/*", method="PUT") == 1

    api.create_commit("alice/limits", [first, again], commit_message="two pointers")
    assert 0 < hub_connection.bytes_received("commit") < 4096  # two pointer lines, no content
    assert hub_connection.bytes_received() == 64 * 1024 + hub_connection.bytes_received("commit")
    with pytest.raises(ValueError, match="kind must be"):
        hub_connection.bytes_received("xet")
