"""Trigger of the deferrable :class:`~airflow_provider_hub.sensors.repo.HfRepoFileSensor`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_hub._offloop import async_hook
from airflow_provider_hub.triggers._polling import MAX_CONSECUTIVE_ERRORS

if TYPE_CHECKING:
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook


def file_info(entry: Any, revision: str | None) -> dict[str, Any]:
    """The XCom/event view of a ``RepoFile``: path, size, git oid and LFS sha256."""
    lfs = getattr(entry, "lfs", None)
    return {
        "path": entry.path,
        "revision": revision or "main",
        "size": getattr(entry, "size", None),
        "oid": getattr(entry, "blob_id", None),
        "lfs_sha256": lfs.sha256 if lfs else None,
    }


def find_file(
    hook: Any, repo_id: str, path_in_repo: str, repo_type: str, revision: str | None
) -> dict | None:
    """The file's info if ``path_in_repo`` is a file of the repo at ``revision``; ``None`` when it is not
    there yet, including when the repo or the revision does not exist yet."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.hf_api import RepoFile

    from airflow_provider_hub.exceptions import HfHubNotFoundError

    try:
        entries = hook.get_paths_info(repo_id, [path_in_repo], repo_type=repo_type, revision=revision)
    except (RepositoryNotFoundError, RevisionNotFoundError, HfHubNotFoundError):
        return None
    entry = entries.get(path_in_repo)
    return file_info(entry, revision) if isinstance(entry, RepoFile) else None


async def afind_file(
    hook: HfHubAsyncHook, repo_id: str, path_in_repo: str, repo_type: str, revision: str | None
) -> dict | None:
    """:func:`find_file` through the async hook: one ``paths-info`` request, no ``huggingface_hub``."""
    from airflow_provider_hub.exceptions import HfHubNotFoundError

    try:
        entry = await hook.get_path_info(repo_id, path_in_repo, repo_type=repo_type, revision=revision)
    except HfHubNotFoundError:
        return None
    if entry is None or entry.get("type") != "file":
        return None
    lfs = entry.get("lfs")
    return {
        "path": entry["path"],
        "revision": revision or "main",
        "size": entry.get("size"),
        "oid": entry.get("oid"),
        "lfs_sha256": lfs.get("oid") if isinstance(lfs, dict) else None,
    }


class HfRepoFileTrigger(BaseTrigger):
    """Poll a repo until a file exists at a revision; fires once.

    Events: ``{"status": "success", "file": {...}}``, ``{"status": "timeout", "message"}`` once
    ``end_time`` (epoch seconds) passes, ``{"status": "error", "message"}`` after repeated failures.

    :param repo_id: ``namespace/name``.
    :param path_in_repo: the file to wait for.
    :param repo_type: ``model``, ``dataset`` or ``space``.
    :param revision: branch, tag or commit (default ``main``).
    :param poll_interval: seconds between polls.
    :param end_time: wall-clock deadline (``time.time()``); ``None`` waits forever.
    :param hf_conn_id: the Hugging Face Hub connection.
    """

    def __init__(
        self,
        *,
        repo_id: str,
        path_in_repo: str,
        repo_type: str = "model",
        revision: str | None = None,
        poll_interval: float = 60.0,
        end_time: float | None = None,
        hf_conn_id: str = "huggingface_hub_default",
    ) -> None:
        super().__init__()
        self.repo_id = repo_id
        self.path_in_repo = path_in_repo
        self.repo_type = repo_type
        self.revision = revision
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.hf_conn_id = hf_conn_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_hub.triggers.repo.HfRepoFileTrigger",
            {
                "repo_id": self.repo_id,
                "path_in_repo": self.path_in_repo,
                "repo_type": self.repo_type,
                "revision": self.revision,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "hf_conn_id": self.hf_conn_id,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await async_hook(self.hf_conn_id)
        subject = f"{self.path_in_repo} in {self.repo_type} {self.repo_id}@{self.revision or 'main'}"
        errors = 0
        while True:
            try:
                found = await afind_file(hook, self.repo_id, self.path_in_repo, self.repo_type, self.revision)
                errors = 0
            except Exception as exc:
                errors += 1
                self.log.warning(
                    "Polling %s failed (%d/%d): %s", subject, errors, MAX_CONSECUTIVE_ERRORS, exc
                )
                if errors >= MAX_CONSECUTIVE_ERRORS:
                    yield TriggerEvent({"status": "error", "message": f"Polling {subject} failed: {exc}"})
                    return
                found = None
            if found is not None:
                yield TriggerEvent({"status": "success", "file": found})
                return
            if self.end_time is not None and time.time() >= self.end_time:
                yield TriggerEvent({"status": "timeout", "message": f"{subject} did not appear in time"})
                return
            await asyncio.sleep(self.poll_interval)
