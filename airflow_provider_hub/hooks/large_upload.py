"""Uploads too large for one commit: several bounded commits, each exactly once, resumable after any interruption.

``huggingface_hub`` 2.4 has no ``upload_large_folder`` and its ``upload_folder`` batches commits only on
its Xet path, so the batching is ours, over the client's own ``preupload_lfs_files`` and ``create_commit``
(through the hook and its commit engine). Nothing is kept locally: the Hub is the resume state.

- **Plan**: the head's tree is read once; a file whose content is there already is dropped (never sent,
  never committed again). Only files with the same size as the head's entry are read to compare.
- **Rounds**: the rest goes through ``/preupload`` and the LFS upload in rounds of
  :data:`ROUND_FILES` files (at most :data:`ROUND_BYTES`), hashed one round ahead while the previous one
  uploads. The Hub's LFS batch answers no upload action for an object it stores, so content a killed try
  pre-uploaded but never committed is not sent again.
- **Commits**: files whose content is on the Hub are committed in batches within the Hub's per-commit
  limits (:data:`MAX_LFS_FILES_PER_COMMIT`, :data:`MAX_REGULAR_PAYLOAD_PER_COMMIT`) and ours
  (:data:`COMMIT_FILES`, a commit at least every :data:`COMMIT_INTERVAL` seconds), each through
  :class:`~airflow_provider_hub.hooks.commit.CommitEngine` (never twice, never empty). A commit the Hub
  refuses as too large (400 or 413) is split in halves, and later commits stay within the size it took.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_hub.exceptions import HfHubError
from airflow_provider_hub.hooks.commit import additions_at_head, hash_in_parallel
from airflow_provider_hub.hooks.retry import status_of
from airflow_provider_hub.utils.progress import ProgressLog, TaskLogger

if TYPE_CHECKING:
    from huggingface_hub import CommitOperationAdd

    from airflow_provider_hub.hooks.repo import RepoHookMixin

log = logging.getLogger(__name__)

#: The Hub's per-commit limits: ``create_commit`` "is limited to 25k LFS files and a 1GB payload for
#: regular files" (regular files travel base64-encoded in the commit body).
MAX_LFS_FILES_PER_COMMIT = 25_000
MAX_REGULAR_PAYLOAD_PER_COMMIT = 1_000_000_000
#: Files per commit at most (``upload_large_folder``'s largest batch): what a commit holds is on the Hub
#: for good, and a commit of more files takes the Hub longer than a client waits.
COMMIT_FILES = 1_000
#: Seconds between commits at most while files are ready, as ``upload_large_folder`` (5 minutes).
COMMIT_INTERVAL = 300.0
#: Files (and bytes) per pre-upload round: the client's ``/preupload`` chunk, and one progress step.
ROUND_FILES = 256
ROUND_BYTES = 2 * 1024**3
#: Statuses of a commit the Hub refuses for its size (not documented: 400 is what the emulator answers).
TOO_LARGE_STATUSES = (400, 413)
#: The first line of every commit (the engine recognises a landed commit by it).
COMMIT_TITLE = "Upload large folder with Airflow"


@dataclass
class LargeUploadOutcome:
    """What :meth:`~airflow_provider_hub.hooks.hub.HfHubHook.upload_in_commits` did in this call.

    Example::

        outcome = hook.upload_in_commits("acme/corpus", additions, repo_type="dataset")
        outcome.commits  # the commit oids this call made, oldest first
    """

    repo_id: str
    repo_type: str
    revision: str
    head_oid: str
    commits: list[str] = field(default_factory=list)
    files_committed: int = 0
    bytes_committed: int = 0
    files_unchanged: int = 0


def regular_payload(op: CommitOperationAdd) -> int:
    """Bytes ``op`` adds to a commit body: its base64 content when it is a regular file, else nothing."""
    if op._upload_mode != "regular" or op._should_ignore:
        return 0
    return 4 * math.ceil(op.upload_info.size / 3)


class LargeUpload:
    """One :meth:`~airflow_provider_hub.hooks.hub.HfHubHook.upload_in_commits` call (see the module).

    Example::

        LargeUpload(hook, "acme/corpus", additions, repo_type="dataset", num_workers=4).run()

    :param num_workers: files hashed and files uploaded at a time.
    :param progress_interval: seconds between progress lines, also while one large file uploads.
    """

    def __init__(
        self,
        hook: RepoHookMixin,
        repo_id: str,
        additions: Sequence[CommitOperationAdd],
        *,
        repo_type: str = "model",
        revision: str | None = None,
        num_workers: int = 5,
        progress_interval: float = 10.0,
        logger: TaskLogger | None = None,
    ) -> None:
        self.hook = hook
        self.repo_id = repo_id
        self.additions = list(additions)
        self.repo_type = repo_type
        self.branch = revision or "main"
        self.num_workers = num_workers
        self.progress_interval = progress_interval
        self.logger = logger or log
        self.subject = f"{repo_type} {repo_id}@{self.branch}"
        self.commit_files = COMMIT_FILES  # lowered when the Hub refuses a commit as too large
        self.outcome = LargeUploadOutcome(repo_id, repo_type, self.branch, head_oid="")

    def run(self) -> LargeUploadOutcome:
        pending = self.plan()
        if not pending:
            self.logger.info(
                "The head of %s already has all %d file(s): nothing to upload, no commit made",
                self.subject,
                len(self.additions),
            )
            return self.outcome
        progress = ProgressLog(
            "Uploading",
            total_files=len(pending),
            total_bytes=sum(op.upload_info.size for op in pending),
            interval=self.progress_interval,
            logger=self.logger,
        )
        ready: list[CommitOperationAdd] = []
        last_commit = time.monotonic()
        with progress.ticking(), ThreadPoolExecutor(1, thread_name_prefix="hf-hash-ahead") as ahead:
            rounds = list(_rounds(pending))
            hashed: Future[None] = ahead.submit(hash_in_parallel, rounds[0], self.num_workers)
            for index, batch in enumerate(rounds):
                hashed.result()
                if index + 1 < len(rounds):
                    hashed = ahead.submit(hash_in_parallel, rounds[index + 1], self.num_workers)
                self.hook.preupload(
                    self.repo_id,
                    batch,
                    repo_type=self.repo_type,
                    revision=self.branch,
                    num_threads=self.num_workers,
                )
                progress.advance(len(batch), sum(op.upload_info.size for op in batch))
                ready.extend(batch)
                due = time.monotonic() - last_commit >= COMMIT_INTERVAL
                while ready and (due or self._full(ready)):
                    self._commit(self._take(ready))
                    last_commit, due = time.monotonic(), False
            while ready:
                self._commit(self._take(ready))
        return self.outcome

    def plan(self) -> list[CommitOperationAdd]:
        """The additions whose content the head does not have (the head's tree read once)."""
        self.outcome.head_oid = self.hook.repo_head(
            self.repo_id, repo_type=self.repo_type, revision=self.branch
        )
        at_head = {
            entry.path: entry
            for entry in self.hook.list_repo_tree(
                self.repo_id, repo_type=self.repo_type, revision=self.outcome.head_oid
            )
        }
        there = additions_at_head(self.additions, at_head, self.num_workers)
        pending = [op for op, found in zip(self.additions, there, strict=True) if not found]
        self.outcome.files_unchanged = len(self.additions) - len(pending)
        if self.outcome.files_unchanged:
            self.logger.info(
                "%d of %d file(s) are at the head %s of %s already (an earlier try committed them): "
                "uploading the other %d",
                self.outcome.files_unchanged,
                len(self.additions),
                self.outcome.head_oid,
                self.subject,
                len(pending),
            )
        return pending

    # -- commits ------------------------------------------------------------------------------------------
    def _bounded(self, ops: Sequence[CommitOperationAdd]) -> int:
        """How many of ``ops``, from the first, one commit may hold (at least one)."""
        lfs_files = payload = 0
        for count, op in enumerate(ops):
            lfs_files += op._upload_mode == "lfs"
            payload += regular_payload(op)
            if count and (
                count >= self.commit_files
                or lfs_files > MAX_LFS_FILES_PER_COMMIT
                or payload > MAX_REGULAR_PAYLOAD_PER_COMMIT
            ):
                return count
        return len(ops)

    def _full(self, ready: Sequence[CommitOperationAdd]) -> bool:
        return self._bounded(ready) < len(ready) or len(ready) >= self.commit_files

    def _take(self, ready: list[CommitOperationAdd]) -> list[CommitOperationAdd]:
        count = self._bounded(ready)
        batch = ready[:count]
        del ready[:count]
        return batch

    def _commit(self, batch: list[CommitOperationAdd]) -> None:
        try:
            outcome = self.hook.commit_exactly_once(
                self.repo_id,
                batch,
                commit_message=f"{COMMIT_TITLE} ({len(batch)} files)",
                repo_type=self.repo_type,
                revision=self.branch,
                progress_interval=self.progress_interval,
                logger=self.logger,
            )
        except HfHubError as exc:
            if status_of(exc) not in TOO_LARGE_STATUSES or len(batch) == 1:
                raise
            self.commit_files = len(batch) // 2
            self.logger.warning(
                "The Hub refused a commit of %d files to %s (%s): committing at most %d files at a time",
                len(batch),
                self.subject,
                exc,
                self.commit_files,
            )
            for half in (batch[: self.commit_files], batch[self.commit_files :]):
                self._commit(half)
            return
        self.outcome.head_oid = outcome.head_oid
        if outcome.commit_oid is not None:
            self.outcome.commits.append(outcome.commit_oid)
            self.outcome.files_committed += outcome.files_added
            self.outcome.bytes_committed += outcome.bytes_uploaded
            self.logger.info(
                "Committed %d file(s) to %s as %s (%d commit(s) so far)",
                outcome.files_added,
                self.subject,
                outcome.commit_oid,
                len(self.outcome.commits),
            )


def _rounds(ops: Sequence[CommitOperationAdd]) -> Iterator[list[CommitOperationAdd]]:
    """``ops`` in rounds of at most :data:`ROUND_FILES` files and :data:`ROUND_BYTES` bytes (at least one)."""
    batch: list[CommitOperationAdd] = []
    size = 0
    for op in ops:
        if batch and (len(batch) >= ROUND_FILES or size + op.upload_info.size > ROUND_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(op)
        size += op.upload_info.size
    if batch:
        yield batch
