"""The hash cache (``hooks/hash_cache.py``) and the commit engine's use of it, against the emulator.

The operator's cases (no-change run reading nothing, restored size and mtime, racy entries, corrupt and
foreign caches, read-only folders, two tasks at once) are in ``tests/operators/test_repo.py``; here are the
digests themselves, the checks a cache file must pass, concurrent writers in separate processes, and the
merge of entries written by another task.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hub.hooks.hash_cache import (
    CACHE_FORMAT,
    CACHE_VERSION,
    RACY_WINDOW_NS,
    HashCache,
    LocalFileAddition,
    cache_path,
)
from airflow_provider_hub.hooks.hub import HfHubHook
from tests.support.permissions import NOBODY, assert_unreadable, owned_by_nobody, permissions_enforced

MiB = 1 << 20


def settle() -> None:
    """Let the files written so far age past the racy window, so their digests may be cached."""
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ckpt"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"layers": 2}')
    (folder / "sub" / "empty.txt").write_bytes(b"")
    (folder / "model.safetensors").write_bytes(os.urandom(11 * MiB))
    return folder


def additions_of(cache: HashCache, folder: Path) -> list[LocalFileAddition]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return [
        cache.addition(p.relative_to(folder).as_posix(), p.relative_to(folder).as_posix(), str(p))
        for p in files
    ]


def sign(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "checksum"}
    checksum = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return json.dumps({**body, "checksum": checksum})


def test_digests_are_the_ones_huggingface_hub_and_the_hub_compute(hub_connection: Any, folder: Path) -> None:
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.utils.sha import git_hash

    additions = additions_of(HashCache.load(folder), folder)
    for addition in additions:
        reference = CommitOperationAdd(
            path_in_repo=addition.path_in_repo, path_or_fileobj=addition.local_path
        )
        assert addition.sha256() == reference.upload_info.sha256.hex()
        assert addition.git_oid() == git_hash(Path(addition.local_path).read_bytes())
        assert addition.size == reference.upload_info.size

    hook = HfHubHook()
    hook.create_repo("alice/m")
    outcome = hook.commit_exactly_once("alice/m", additions, commit_message="Add")
    assert outcome.files_added == 3
    at_head = hook.get_paths_info("alice/m", [a.path_in_repo for a in additions], revision=outcome.head_oid)
    for addition in additions:
        entry = at_head[addition.path_in_repo]
        if entry.lfs is not None:
            assert entry.lfs.sha256 == addition.sha256()
        else:
            assert entry.blob_id == addition.git_oid()


def test_cached_additions_the_head_has_are_never_opened(hub_connection: Any, folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    owned_by_nobody(files)
    settle()
    hook = HfHubHook()
    hook.create_repo("alice/m")
    cache = HashCache.load(folder)
    first = additions_of(cache, folder)
    hook.commit_exactly_once("alice/m", first, commit_message="Add")
    cache.save(first)

    hub_connection.reset_counts()
    with permissions_enforced():
        assert_unreadable(files)
        again = additions_of(HashCache.load(folder), folder)
        outcome = hook.commit_exactly_once("alice/m", again, commit_message="Add")
    assert outcome.no_changes and outcome.files_unchanged == 3
    assert all(a.cached for a in again)
    assert hub_connection.request_count("/api/*/*/*/preupload/*") == 0


def test_only_complete_entries_of_settled_files_are_written(hub_connection: Any, folder: Path) -> None:
    """Digests nobody computed are not invented, and a file changed within the racy window gets no entry."""
    settle()
    cache = HashCache.load(folder)
    additions = {a.relative: a for a in additions_of(cache, folder)}
    additions["model.safetensors"].sha256()
    (folder / "config.json").write_text('{"layers": 3}')  # changed just now: racy
    fresh = cache.addition("config.json", "config.json", str(folder / "config.json"))
    fresh.git_oid()
    cache.save([additions["model.safetensors"], additions["sub/empty.txt"], fresh])

    entries = HashCache.load(folder).entries
    assert set(entries) == {"model.safetensors"}
    assert entries["model.safetensors"].sha256 == additions["model.safetensors"].sha256()
    assert entries["model.safetensors"].git_oid is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, None),  # no cache yet: nothing to report
        ("", "not JSON"),
        ("[1, 2]", "not a hash cache"),
        ('{"format": "airflow-provider-hub/hash-cache", "version": 1', "not JSON"),
        ("\udcff", "'utf-8' codec can't decode"),
    ],
)
def test_unusable_cache_files_give_an_empty_cache(
    hub_connection: Any,
    folder: Path,
    content: str | None,
    reason: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = cache_path(folder)
    if content is not None:
        path.parent.mkdir(parents=True)
        path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with caplog.at_level(logging.WARNING, logger="airflow_provider_hub.hooks.hash_cache"):
        cache = HashCache.load(folder)
    assert cache.entries == {}
    warnings = [r.getMessage() for r in caplog.records if r.name == "airflow_provider_hub.hooks.hash_cache"]
    if reason is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and f"({reason}" in warnings[0]


@pytest.mark.parametrize(
    "entry",
    [
        ["a.bin", -1, 1, 1, 1, None, "0" * 40],
        ["a.bin", 1, 1, 1, True, None, "0" * 40],
        ["a.bin", 1, 1, 1, 1, "0" * 63, None],
        ["a.bin", 1, 1, 1, 1, None, "G" * 40],
        ["a.bin", 1, 1, 1, 1, None],
        [7, 1, 1, 1, 1, None, None],
    ],
)
def test_signed_cache_with_a_malformed_entry_is_ignored(
    hub_connection: Any, folder: Path, entry: list[Any]
) -> None:
    real = os.path.realpath(folder)
    good = ["b.bin", 1, 1, 1, 1, None, "1" * 40]
    data = {"format": CACHE_FORMAT, "version": CACHE_VERSION, "source": real, "entries": [good, entry]}
    path = cache_path(folder)
    path.parent.mkdir(parents=True)
    path.write_text(sign(data))
    assert HashCache.load(folder).entries == {}
    path.write_text(sign({**data, "entries": [good]}))  # the same file without it is trusted
    assert set(HashCache.load(folder).entries) == {"b.bin"}


def test_entries_of_files_another_task_listed_are_kept_while_unchanged(
    hub_connection: Any, folder: Path
) -> None:
    settle()
    everything = additions_of(HashCache.load(folder), folder)
    for addition in everything:
        addition.git_oid()
    HashCache.load(folder).save(everything)  # another task published every file

    (folder / "sub" / "empty.txt").unlink()  # gone since: its entry is dropped
    mine = HashCache.load(folder)
    config = mine.addition("config.json", "config.json", str(folder / "config.json"))
    config.git_oid()
    mine.save([config])  # this task lists config.json only
    assert set(HashCache.load(folder).entries) == {"config.json", "model.safetensors"}


WRITER = """
import sys, time
from pathlib import Path
from airflow_provider_hub.hooks.hash_cache import HashCache

folder, start_at, seconds = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
expected = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
incomplete = rounds = 0
time.sleep(max(0.0, start_at - time.time()))  # every writer starts at once, whatever its import time
while time.time() < start_at + seconds:
    rounds += 1
    cache = HashCache.load(folder)
    incomplete += set(cache.entries) != expected
    additions = [cache.addition(rel, rel, str(folder / rel)) for rel in sorted(expected)]
    for addition in additions:
        addition.git_oid()
    cache.save(additions)
print(incomplete, rounds)
"""


def test_concurrent_writers_in_separate_processes_leave_a_valid_cache(
    hub_connection: Any, folder: Path
) -> None:
    """Every load by any of the writers, and the last one, sees a whole, valid cache (never a partial one)."""
    settle()
    seed = additions_of(HashCache.load(folder), folder)
    for addition in seed:
        addition.git_oid()
    HashCache.load(folder).save(seed)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start_at = str(time.time() + 3)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), start_at, "2"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    outputs = [writer.communicate(timeout=120)[0].split() for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0, 0]
    assert [incomplete for incomplete, _ in outputs] == ["0", "0", "0"]
    assert all(int(rounds) > 10 for _, rounds in outputs)  # they did overlap, many times
    assert set(HashCache.load(folder).entries) == {"config.json", "sub/empty.txt", "model.safetensors"}
    assert not [p for p in cache_path(folder).parent.iterdir() if p.suffix == ".tmp"]


def test_an_unwritable_hf_home_is_a_warning_not_a_failure(
    hub_connection: Any, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from huggingface_hub import constants

    settle()
    home = Path(constants.HF_HOME)
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, NOBODY, NOBODY)
    home.chmod(0o755)
    cache = HashCache.load(folder)
    additions = additions_of(cache, folder)
    for addition in additions:
        addition.git_oid()
    with (
        permissions_enforced(),
        caplog.at_level(logging.INFO, logger="airflow_provider_hub.hooks.hash_cache"),
    ):
        cache.save(additions)
    assert not cache_path(folder).exists()
    assert [r.levelname for r in caplog.records if "Could not write" in r.getMessage()] == ["WARNING"]
