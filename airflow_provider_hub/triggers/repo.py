"""The polling triggers of repos: :class:`HfRepoFileTrigger` (the deferrable wait of
:class:`~airflow_provider_hub.sensors.repo.HfRepoFileSensor`) and :class:`HfRepoCommitTrigger` (an asset
watcher's trigger that polls a branch's head)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger

from airflow_provider_hub.hooks.states import Verdict
from airflow_provider_hub.triggers._base import HfPollingTrigger
from airflow_provider_hub.triggers._watermarks import FiredHeads, Watermarks, reconcile_head, watermark_key
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID, REPO_TYPES
from airflow_provider_hub.utils.webhook_payloads import parse_watched_repo

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


class HfRepoFileTrigger(HfPollingTrigger["dict[str, Any] | None"]):
    """Poll a repo until a file exists at a revision; fires once.

    Events: ``{"status": "success", "file": {...}}``, ``{"status": "timeout", "message"}`` once
    ``end_time`` (epoch seconds) passes, ``{"status": "error", "message"}`` after
    :data:`~airflow_provider_hub.triggers._base.MAX_CONSECUTIVE_ERRORS` failed reads in a row. A repo or
    revision that does not exist yet counts as "not yet".

    Example::

        HfRepoFileTrigger(repo_id="acme/sentiment", path_in_repo="model.safetensors", poll_interval=60)

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
        hf_conn_id: str = DEFAULT_CONN_ID,
    ) -> None:
        super().__init__(hf_conn_id=hf_conn_id, poll_interval=poll_interval, end_time=end_time)
        self.repo_id = repo_id
        self.path_in_repo = path_in_repo
        self.repo_type = repo_type
        self.revision = revision

    @property
    def subject(self) -> str:
        return f"{self.path_in_repo} in {self.repo_type} {self.repo_id}@{self.revision or 'main'}"

    @property
    def timeout_message(self) -> str:
        return f"{self.subject} did not appear in time"

    async def read(self, hook: HfHubAsyncHook) -> dict[str, Any] | None:
        return await afind_file(hook, self.repo_id, self.path_in_repo, self.repo_type, self.revision)

    def judge(self, reading: dict[str, Any] | None) -> Verdict:
        return Verdict.WAITING if reading is None else Verdict.DONE

    def payload(self, status: str, reading: dict[str, Any] | None, message: str | None) -> dict[str, Any]:
        if status == "success":
            return {"status": status, "file": reading}
        return {"status": status, "message": message}


class HfRevisionTrigger(HfPollingTrigger["str | None"]):
    """Poll a repo until ``revision`` (a branch, tag or commit) exists, then fire one event.

    One light read per interval (``GET /api/{type}s/{repo}/revision/{rev}?expand=sha``). A repo or revision
    that does not exist yet is waited for. Payload: ``{"status": "success" | "timeout" | "error", "revision",
    "commit_oid", "message"}``.

    Example::

        HfRevisionTrigger(repo_id="alice/m", revision="v2", poll_interval=60)

    :param repo_id: ``namespace/name``.
    :param revision: the branch, tag or commit to wait for.
    :param repo_type: ``model``, ``dataset`` or ``space``.
    :param hf_conn_id: the Hugging Face Hub connection.
    :param poll_interval: seconds between reads; ``None``: ``[huggingface_hub] default_poll_interval``.
    :param end_time: give up at this wall-clock time (epoch seconds); ``None`` waits forever.
    """

    def __init__(
        self,
        *,
        repo_id: str,
        revision: str,
        repo_type: str = "model",
        hf_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float | None = None,
        end_time: float | None = None,
    ) -> None:
        super().__init__(
            hf_conn_id=hf_conn_id,
            poll_interval=None if poll_interval is None else float(poll_interval),
            end_time=end_time,
        )
        self.repo_id, self.revision, self.repo_type = repo_id, revision, repo_type

    @property
    def subject(self) -> str:
        return f"{self.repo_type} {self.repo_id}@{self.revision}"

    async def read(self, hook: HfHubAsyncHook) -> str | None:
        from airflow_provider_hub.exceptions import HfHubNotFoundError

        try:
            return await hook.get_repo_head(self.repo_id, self.repo_type, self.revision)
        except HfHubNotFoundError:
            return None  # not there yet

    def judge(self, reading: str | None) -> Verdict:
        return Verdict.WAITING if reading is None else Verdict.DONE

    def payload(self, status: str, reading: str | None, message: str | None) -> dict[str, Any]:
        return {"status": status, "revision": self.revision, "commit_oid": reading, "message": message}


class HfRepoCommitTrigger(HfPollingTrigger["dict[str, Any] | None"], BaseEventTrigger):
    """Fire when the head commit of ``revision`` of a repo changes, by polling (no inbound networking).

    One light request per interval (``GET /api/{type}s/{repo}/revision/{rev}?expand=sha``). The heads fired for
    are kept as a watermark (:class:`~airflow_provider_hub.triggers._watermarks.Watermarks`), so a restarted
    trigger fires once for a change made while it was down and never twice for the same head. The first poll
    only records the head. It keeps polling through failed reads, logging every
    :data:`~airflow_provider_hub.triggers._base.MAX_CONSECUTIVE_ERRORS`-th at error level.

    Importable as ``airflow_provider_hub.triggers.webhooks.HfRepoCommitTrigger`` too, the path it serializes
    under.

    Event payload: ``{"repo_id", "repo_type", "revision", "head_sha", "previous_sha",
    "event": "repo.content.update", "source": "poll", "updated_refs"}``.

    Example::

        trigger = HfRepoCommitTrigger(repo_id="alice/my-model", poll_interval=60)
        model = Asset("hf://models/alice/my-model", watchers=[AssetWatcher(name="poll", trigger=trigger)])

    :param repo_id: ``namespace/name``.
    :param repo_type: ``model``, ``dataset`` or ``space``.
    :param revision: the branch to watch.
    :param poll_interval: seconds between polls.
    :param hf_conn_id: the Hub connection.
    """

    # Where it was defined first: running watchers' trigger rows and their hash (BaseEventTrigger.hash) name it.
    serialized_classpath = "airflow_provider_hub.triggers.webhooks.HfRepoCommitTrigger"
    fires_once = False

    def __init__(
        self,
        *,
        repo_id: str,
        repo_type: str = "model",
        revision: str = "main",
        poll_interval: float = 60,
        hf_conn_id: str = DEFAULT_CONN_ID,
    ) -> None:
        parse_watched_repo(repo_id)
        if repo_type not in REPO_TYPES:
            raise ValueError(f"repo_type must be one of {', '.join(REPO_TYPES)}; got {repo_type!r}")
        if not revision or not isinstance(revision, str):
            raise ValueError(f"revision must be a branch name; got {revision!r}")
        if not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
            raise ValueError(f"poll_interval must be a positive number of seconds; got {poll_interval!r}")
        # poll_interval is kept as given, not as a float: it is part of the watcher's hash.
        super().__init__(hf_conn_id=hf_conn_id, poll_interval=poll_interval)
        self.repo_id, self.repo_type, self.revision = repo_id, repo_type, revision

    @property
    def subject(self) -> str:
        return f"the head of {self.repo_type} {self.repo_id}@{self.revision}"

    @property
    def watermark_key(self) -> str:
        """Where its fired heads are kept: ``poll:{repo}@{revision}:{digest of its arguments}``."""
        return watermark_key(f"poll:{self.repo_type}/{self.repo_id}@{self.revision}", self.serialize()[1])

    @cached_property
    def _fired(self) -> FiredHeads:
        # Built at the first read, not in __init__: the triggerer sets asset_state_store after construction.
        return FiredHeads(Watermarks(self))

    async def read(self, hook: HfHubAsyncHook) -> dict[str, Any] | None:
        """The event of a head this trigger has not fired for yet (recorded as fired), else ``None``."""
        return await reconcile_head(hook, self.repo_type, self.repo_id, self.revision, self._fired, self.log)

    def judge(self, reading: dict[str, Any] | None) -> Verdict:
        return Verdict.WAITING if reading is None else Verdict.DONE

    def payload(self, status: str, reading: dict[str, Any] | None, message: str | None) -> dict[str, Any]:
        assert reading is not None  # it only fires for a new head
        return {**reading, "source": "poll", "previous_sha": reading["updated_refs"][0]["old_sha"]}
