"""The commit engine: apply operations to a branch in one commit, at most once, skipping what is there.

Shared by the publishing operators and the S3 transfer through ``HfHubHook.commit_exactly_once``. A commit
``POST`` is not idempotent, so it is never blindly repeated: every operation has an *expected state* at the
head (a file with a given content, a path absent), computed locally before anything is sent. The same check
serves three purposes:

- before committing (:meth:`CommitEngine.plan`), operations whose expected state already holds are dropped;
  when nothing is left the run is a no-op and no (empty) commit is made. A task retried after its commit
  landed ends here;
- after a transient failure of the commit ``POST`` (5xx, 429, timeout, dropped connection), the next
  attempt of the retry policy first reads the head (:meth:`CommitEngine.commit`): if the expected state
  holds there, the commit landed and is not sent twice;
- with ``parent_commit`` and ``on_head_moved="rebase"``, the operations' paths are compared between the
  parent and the new head to decide whether the commit can be replayed on the new head.

LFS uploads are never redone (:meth:`CommitEngine.upload`): ``/preupload`` reports files the Hub already
has, and uploaded operations are marked so that a repeated commit attempt reuses them.

An addition may also be a :class:`~airflow_provider_hub.hooks.hash_cache.LocalFileAddition` (a file of a
folder with a hash cache): its digests may come from the cache, and its ``CommitOperationAdd`` is built only
when the head lacks its content, so an unchanged file the head has is never read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.exceptions import HfHubConflictError, HfHubError
from airflow_provider_hub.hooks.hash_cache import LocalFileAddition, git_blob_oid
from airflow_provider_hub.hooks.retry import is_transient, status_of
from airflow_provider_hub.utils.progress import ProgressLog, TaskLogger

if TYPE_CHECKING:
    from huggingface_hub import CommitInfo, CommitOperationAdd, CommitOperationCopy, CommitOperationDelete
    from huggingface_hub.hf_api import RepoFile, RepoFolder

    from airflow_provider_hub.hooks.repo import RepoHookMixin

    CommitOperation = CommitOperationAdd | CommitOperationCopy | CommitOperationDelete
    #: What the engine takes: operations, and local files whose operation it builds when needed.
    PlannedOperation = CommitOperation | LocalFileAddition

log = logging.getLogger(__name__)

#: Commits sent to a branch whose head keeps moving under ``on_head_moved="rebase"`` (a 412, a rebase, again).
HEAD_MOVE_ATTEMPTS = 4
#: Threads hashing additions at once: as many as ``huggingface_hub`` uses for the same job (``num_threads``).
HASHING_THREADS = 5


@dataclass
class CommitOutcome:
    """What ``HfHubHook.commit_exactly_once`` did; :meth:`as_dict` is the operators' XCom value.

    Example::

        outcome = hook.commit_exactly_once("alice/m", operations, commit_message="Nightly export")
        outcome.no_changes  # True when the head already had every operation: no commit was made
        outcome.as_dict()["commit_url"]
    """

    repo_id: str
    repo_type: str
    repo_url: str
    revision: str
    head_oid: str
    commit_oid: str | None = None
    commit_url: str | None = None
    pr_url: str | None = None
    pr_num: int | None = None
    files_added: int = 0
    files_deleted: int = 0
    files_copied: int = 0
    files_unchanged: int = 0
    bytes_uploaded: int = 0
    recovered: bool = False
    rebased: bool = False

    @property
    def no_changes(self) -> bool:
        return self.commit_oid is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "repo_id": self.repo_id,
            "repo_type": self.repo_type,
            "repo_url": self.repo_url,
            "revision": self.revision,
            "head_oid": self.head_oid,
            "commit_oid": self.commit_oid,
            "commit_url": self.commit_url,
            "pr_url": self.pr_url,
            "pr_num": self.pr_num,
            "files_added": self.files_added,
            "files_deleted": self.files_deleted,
            "files_copied": self.files_copied,
            "files_unchanged": self.files_unchanged,
            "bytes_uploaded": self.bytes_uploaded,
            "no_changes": self.no_changes,
            "recovered": self.recovered,
            "rebased": self.rebased,
        }


@dataclass
class _Expectation:
    """The state a path must have at the head once the operation is applied."""

    path: str
    kind: str  # "file" (content given by sha256 / git oid) | "absent" | "present" (any file)
    size: int | None = None
    sha256: Callable[[], str | None] | None = None
    git_oid: Callable[[], str | None] | None = None

    def holds(self, entry: RepoFile | RepoFolder | None) -> bool:
        from huggingface_hub.hf_api import RepoFile

        if self.kind == "absent":
            return entry is None
        if self.kind == "present":
            return isinstance(entry, RepoFile)
        if not isinstance(entry, RepoFile) or (self.size is not None and entry.size != self.size):
            return False
        if entry.lfs is not None:
            return self.sha256 is not None and entry.lfs.sha256 == self.sha256()
        return self.git_oid is not None and self.git_oid() == entry.blob_id


@dataclass(frozen=True)
class _Plan:
    """What is left to commit on ``head``, what the head shows once it landed, and the outcome so far."""

    head: str
    operations: list[CommitOperation]
    expectations: list[_Expectation]
    outcome: CommitOutcome
    rebased: bool


class CommitEngine:
    """One ``commit_exactly_once``: :meth:`plan`, :meth:`upload`, :meth:`commit` (with recovery).

    Example::

        engine = CommitEngine(hook, "alice/m", operations, commit_message="Add weights")
        outcome = engine.run()

    :param parent_commit: the commit the operations were prepared against. When the branch head is
        elsewhere, ``on_head_moved`` decides: ``"fail"`` raises :class:`HfHubConflictError`; ``"rebase"``
        commits on the new head when none of the operations' paths (nor a copy's source path) changed
        between ``parent_commit`` and the head, and fails otherwise.
    """

    def __init__(
        self,
        hook: RepoHookMixin,
        repo_id: str,
        operations: Sequence[PlannedOperation],
        *,
        commit_message: str,
        commit_description: str | None = None,
        repo_type: str = "model",
        revision: str | None = None,
        create_pr: bool = False,
        parent_commit: str | None = None,
        on_head_moved: str = "fail",
        progress_interval: float = 10.0,
        logger: TaskLogger | None = None,
    ) -> None:
        self.hook = hook
        self.repo_id = repo_id
        self.operations = list(operations)
        self.commit_message = commit_message
        self.commit_description = commit_description
        self.repo_type = repo_type
        self.branch = revision or "main"
        self.create_pr = create_pr
        self.parent_commit = parent_commit
        self.on_head_moved = on_head_moved
        self.progress_interval = progress_interval
        self.logger = logger or log
        self.subject = f"{repo_type} {repo_id}@{self.branch}"
        # With create_pr the pull request branches off parent_commit itself: the head may have moved.
        self.pins_parent = bool(parent_commit) and not create_pr

    def run(self) -> CommitOutcome:
        plan = self.plan()
        if not plan.operations:
            self.logger.info(
                "Nothing to commit to %s: the head %s already has all %d operation(s); no commit made",
                self.subject,
                plan.head,
                len(self.operations),
            )
            return plan.outcome
        if self.create_pr:
            opened = self._open_pull_request_holding(plan)
            if opened is not None:
                self.logger.info(
                    "Pull request %s already holds these %d operation(s) (an earlier try opened it): "
                    "not opening another",
                    opened.pr_url,
                    len(plan.operations),
                )
                return opened
        uploaded = self.upload(plan)
        return replace(self.commit(plan), bytes_uploaded=uploaded)

    # -- plan ---------------------------------------------------------------------------------------------
    def plan(self) -> _Plan:
        """Compare every operation with the head; keep those whose expected state does not hold yet."""
        from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete

        head = self.hook.repo_head(self.repo_id, repo_type=self.repo_type, revision=self.branch)
        rebased = False
        if self.pins_parent and self.parent_commit and not head.startswith(self.parent_commit):
            self._check_rebase(self.operations, parent=self.parent_commit, head=head)
            self.logger.info(
                "Head of %s moved from %s to %s; no operation conflicts: rebasing",
                self.subject,
                self.parent_commit,
                head,
            )
            rebased = True
        expectations = self._expectations(head)
        at_head = self._paths_info([e.path for e in expectations], head)
        # Only an addition whose path holds an LFS file at the head needs its sha256 to be compared.
        hash_in_parallel(
            [
                op
                for op in self.operations
                if isinstance(op, (CommitOperationAdd, LocalFileAddition))
                and getattr(at_head.get(op.path_in_repo), "lfs", None) is not None
            ]
        )
        pending: list[tuple[CommitOperation, _Expectation]] = []
        unchanged = 0
        for op, expectation in zip(self.operations, expectations, strict=True):
            if expectation.holds(at_head.get(expectation.path)):
                unchanged += isinstance(op, (CommitOperationAdd, LocalFileAddition))
            else:
                pending.append((op.operation() if isinstance(op, LocalFileAddition) else op, expectation))
        remaining = [op for op, _ in pending]
        outcome = CommitOutcome(
            repo_id=self.repo_id,
            repo_type=self.repo_type,
            repo_url=self.hook.repo_url(self.repo_id, self.repo_type),
            revision=self.branch,
            head_oid=head,
            files_added=sum(isinstance(op, CommitOperationAdd) for op in remaining),
            files_deleted=sum(isinstance(op, CommitOperationDelete) for op in remaining),
            files_copied=sum(isinstance(op, CommitOperationCopy) for op in remaining),
            files_unchanged=unchanged,
        )
        return _Plan(head, remaining, [e for _, e in pending], outcome, rebased)

    # -- upload -------------------------------------------------------------------------------------------
    def upload(self, plan: _Plan) -> int:
        """Upload the LFS content of the plan's additions the Hub does not have; the bytes they hold."""
        from huggingface_hub import CommitOperationAdd

        added = [op for op in plan.operations if isinstance(op, CommitOperationAdd)]
        # Additions a caller already pre-uploaded (the S3 transfer does, batch by batch) are not counted again.
        to_upload = [op for op in added if op._upload_mode is None and not op._is_uploaded]
        progress = ProgressLog(
            "Uploading",
            total_files=len(to_upload),
            total_bytes=sum(op.upload_info.size for op in to_upload),
            interval=self.progress_interval,
            logger=self.logger,
        )
        self.hook.preupload(
            self.repo_id,
            to_upload,
            repo_type=self.repo_type,
            revision=self.branch,
            create_pr=self.create_pr,
            progress=progress,
        )
        progress.finish()
        return sum(op.upload_info.size for op in added)

    # -- commit, with recovery ----------------------------------------------------------------------------
    def commit(self, plan: _Plan) -> CommitOutcome:
        """Send the commit; replay it on a head that moved meanwhile when ``on_head_moved`` allows."""
        for _ in range(HEAD_MOVE_ATTEMPTS):
            try:
                return self._send_with_recovery(plan)
            except HfHubError as exc:
                if not (self.pins_parent and status_of(exc) == 412):
                    raise
            new_head = self.hook.repo_head(self.repo_id, repo_type=self.repo_type, revision=self.branch)
            self._check_rebase(plan.operations, parent=plan.head, head=new_head)
            self.logger.info("Head of %s moved to %s while committing; rebasing", self.subject, new_head)
            plan = replace(plan, head=new_head, rebased=True)
        raise HfHubConflictError(f"Could not commit to {self.subject}: the head kept moving")

    def _send_with_recovery(self, plan: _Plan) -> CommitOutcome:
        """``POST`` the commit under the retry policy; an attempt after an uncertain failure first looks
        whether that one landed (for a pull request: whether one of ours with this title holds it)."""
        uncertain: list[BaseException] = []  # the failure of a POST that may have been applied

        def attempt() -> CommitOutcome:
            if uncertain:
                landed = self._landed(plan)
                if landed is not None:
                    self.logger.warning(
                        "The commit request to %s failed (%s) but the commit had landed as %s: not committing again",
                        self.subject,
                        uncertain[-1],
                        landed.commit_oid,
                    )
                    return landed
                uncertain.clear()
            try:
                info = self._post(plan)
                self.logger.info("Committed %s to %s", info.oid, self.subject)
                return self._finished(plan, info.oid, info.commit_url, pr_url=info.pr_url, pr_num=info.pr_num)
            except Exception as exc:
                if is_transient(exc):
                    uncertain.append(exc)
                raise

        policy = self.hook.settings.retry_policy
        retrying = policy.retrying(
            before_sleep=policy.log_before_retry(self.logger, f"Commit to {self.subject}")
        )
        try:
            return retrying(attempt)
        except Exception as exc:
            if uncertain and exc is not uncertain[-1]:
                # The last check could not tell whether the commit landed: committing again could duplicate.
                raise uncertain[-1] from exc
            raise

    def _post(self, plan: _Plan) -> CommitInfo:
        return self.hook.call(
            "create_commit",
            self.repo_id,
            plan.operations,
            commit_message=self.commit_message,
            commit_description=self.commit_description,
            repo_type=self.repo_type,
            revision=self.branch,
            create_pr=self.create_pr,
            parent_commit=plan.head if self.pins_parent else self.parent_commit,
            idempotent=False,
            subject=self.subject,
        )

    @staticmethod
    def _finished(
        plan: _Plan,
        commit_oid: str,
        commit_url: str,
        *,
        pr_url: str | None = None,
        pr_num: int | None = None,
        recovered: bool = False,
    ) -> CommitOutcome:
        return replace(
            plan.outcome,
            head_oid=commit_oid,
            commit_oid=commit_oid,
            commit_url=commit_url,
            pr_url=pr_url,
            pr_num=pr_num,
            recovered=recovered,
            rebased=plan.rebased,
        )

    def _landed(self, plan: _Plan) -> CommitOutcome | None:
        """After an uncertain ``POST``: what it made, if it was applied."""
        if self.create_pr:
            return self._open_pull_request_holding(plan)
        landed = self._landed_commit(plan)
        if landed is None:
            return None
        return self._finished(plan, landed, f"{plan.outcome.repo_url}/commit/{landed}", recovered=True)

    def _open_pull_request_holding(self, plan: _Plan) -> CommitOutcome | None:
        """An open pull request of the token's user with this commit's title whose head already holds every
        operation: the one an earlier attempt, or an earlier try of the task, opened and never heard back from."""
        me = self.hook.call("whoami", subject="the token's user")["name"]
        title = self.commit_message.strip().splitlines()[0]
        candidates = self.hook.call(
            "get_repo_discussions",
            self.repo_id,
            author=me,
            discussion_type="pull_request",
            discussion_status="open",
            repo_type=self.repo_type,
            subject=f"{self.repo_type} {self.repo_id}",
        )
        for pr in candidates:
            if pr.title != title:
                continue
            head = self.hook.repo_head(self.repo_id, repo_type=self.repo_type, revision=pr.git_reference)
            at_head = self._paths_info([e.path for e in plan.expectations], head)
            if all(e.holds(at_head.get(e.path)) for e in plan.expectations):
                commit_url = f"{plan.outcome.repo_url}/commit/{head}"
                return self._finished(plan, head, commit_url, pr_url=pr.url, pr_num=pr.num, recovered=True)
        return None

    def _landed_commit(self, plan: _Plan) -> str | None:
        """After an uncertain commit ``POST``: the commit id if it was applied, ``None`` if it was not.

        Its reads run inside an attempt of the retry policy, so each is made once: a flaky network fails
        the attempt, and the next one checks again.
        """
        head = self.hook.repo_head(self.repo_id, repo_type=self.repo_type, revision=self.branch)
        if head == plan.head:
            return None
        at_head = self._paths_info([e.path for e in plan.expectations], head)
        if not all(e.holds(at_head.get(e.path)) for e in plan.expectations):
            return None
        # Ours is the oldest commit after the plan's head with our title (others may have committed since).
        commits = self.hook.call(
            "list_repo_commits",
            self.repo_id,
            repo_type=self.repo_type,
            revision=head,
            subject=f"{self.repo_type} {self.repo_id}",
        )
        title = self.commit_message.strip().splitlines()[0]
        ours = None
        for commit in commits:
            if commit.commit_id == plan.head:
                break
            if commit.title == title:
                ours = commit.commit_id
        return ours or head

    # -- shared steps -------------------------------------------------------------------------------------
    def _paths_info(self, paths: Sequence[str], revision: str) -> dict[str, RepoFile | RepoFolder]:
        return self.hook.get_paths_info(self.repo_id, paths, repo_type=self.repo_type, revision=revision)

    def _expectations(self, revision: str) -> list[_Expectation]:
        """One expected head state per operation, computed locally (copies: from the source's metadata)."""
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        copy_sources = self._copy_sources(revision)
        expectations: list[_Expectation] = []
        for op in self.operations:
            if isinstance(op, LocalFileAddition):
                expectations.append(
                    _Expectation(op.path_in_repo, "file", size=op.size, sha256=op.sha256, git_oid=op.git_oid)
                )
            elif isinstance(op, CommitOperationAdd):
                expectations.append(
                    _Expectation(
                        op.path_in_repo,
                        "file",
                        size=op.upload_info.size,
                        sha256=_lazy_sha256(op),
                        git_oid=_lazy_git_oid(op),
                    )
                )
            elif isinstance(op, CommitOperationDelete):
                expectations.append(_Expectation(op.path_in_repo.rstrip("/"), "absent"))
            else:
                expectations.append(self._copy_expectation(op, copy_sources, revision))
        return expectations

    def _copy_sources(self, revision: str) -> dict[tuple[str, str], RepoFile | RepoFolder]:
        """``{(revision, path): entry}`` of every copy's source, one batch of reads per source revision."""
        from huggingface_hub import CommitOperationCopy

        copies = [op for op in self.operations if isinstance(op, CommitOperationCopy)]
        sources: dict[tuple[str, str], RepoFile | RepoFolder] = {}
        for src_revision in {op.src_revision or revision for op in copies}:
            paths = [op.src_path_in_repo for op in copies if (op.src_revision or revision) == src_revision]
            for path, entry in self._paths_info(paths, src_revision).items():
                sources[(src_revision, path)] = entry
        return sources

    def _copy_expectation(
        self,
        op: CommitOperationCopy,
        sources: dict[tuple[str, str], RepoFile | RepoFolder],
        revision: str,
    ) -> _Expectation:
        from huggingface_hub.hf_api import RepoFile

        source = sources.get((op.src_revision or revision, op.src_path_in_repo))
        if source is None and op.src_revision is None and _deleted_by(op.src_path_in_repo, self.operations):
            # A rename (copy + delete of the source) that already landed: the source is gone
            # from the head, so the destination's presence is all that can be checked.
            return _Expectation(op.path_in_repo, "present")
        if not isinstance(source, RepoFile):
            raise HfHubError(
                f"Cannot copy {op.src_path_in_repo!r} of {self.repo_type} {self.repo_id}@"
                f"{op.src_revision or revision}: no such file"
            )
        return _Expectation(
            op.path_in_repo,
            "file",
            size=source.size,
            sha256=_constant(source.lfs.sha256) if source.lfs else None,
            git_oid=_constant(source.blob_id) if not source.lfs else None,
        )

    def _check_rebase(self, operations: Iterable[PlannedOperation], *, parent: str, head: str) -> None:
        """Raise :class:`HfHubConflictError` unless ``on_head_moved == "rebase"`` and no operation path changed."""
        from huggingface_hub import CommitOperationCopy

        subject = f"{self.repo_type} {self.repo_id}"
        if self.on_head_moved != "rebase":
            raise HfHubConflictError(
                f"The head of {subject} is {head}, not parent_commit {parent}: someone committed in between "
                "(on_head_moved='fail'). Use on_head_moved='rebase' to replay non-conflicting operations.",
                status_code=412,
            )
        paths: list[str] = []
        for op in operations:
            paths.append(op.path_in_repo.rstrip("/"))
            if isinstance(op, CommitOperationCopy) and op.src_revision is None:
                paths.append(op.src_path_in_repo)
        before = self._paths_info(paths, parent)
        after = self._paths_info(paths, head)
        changed = sorted(p for p in set(paths) if _entry_key(before.get(p)) != _entry_key(after.get(p)))
        if changed:
            raise HfHubConflictError(
                f"Cannot rebase onto the head {head} of {subject}: {', '.join(changed[:10])} changed since "
                f"parent_commit {parent}",
                status_code=412,
            )


def _entry_key(entry: RepoFile | RepoFolder | None) -> tuple[Any, ...] | None:
    if entry is None:
        return None
    lfs = getattr(entry, "lfs", None)
    return (
        type(entry).__name__,
        lfs.sha256 if lfs else getattr(entry, "blob_id", None) or getattr(entry, "tree_id", None),
    )


def _constant(value: str) -> Callable[[], str | None]:
    return lambda: value


def _deleted_by(path: str, operations: Sequence[PlannedOperation]) -> bool:
    """Whether a delete operation of ``operations`` removes ``path`` (itself or a folder holding it)."""
    from huggingface_hub import CommitOperationDelete

    for op in operations:
        if isinstance(op, CommitOperationDelete):
            target = op.path_in_repo.rstrip("/")
            if path == target or (op.is_folder and path.startswith(target + "/")):
                return True
    return False


def hash_in_parallel(
    additions: Sequence[CommitOperationAdd | LocalFileAddition], threads: int = HASHING_THREADS
) -> None:
    """Compute the sha256 of every addition that has none yet (cached ones have), ``threads`` files at a time.

    Comparing with the head needs them before ``huggingface_hub`` would hash them (lazily, in parallel,
    while uploading); one after another, large files would leave cores idle (hashlib releases the GIL).
    """

    def hashed(op: CommitOperationAdd | LocalFileAddition) -> bool:
        if isinstance(op, LocalFileAddition):
            return op.has_sha256
        return getattr(op.upload_info, "is_hashed", True)

    def digest(op: CommitOperationAdd | LocalFileAddition) -> object:
        return op.sha256() if isinstance(op, LocalFileAddition) else op.upload_info.sha256

    unhashed = [op for op in additions if not hashed(op)]
    if len(unhashed) < 2:
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hf-sha256") as pool:
        for _ in pool.map(digest, unhashed):
            pass


def additions_at_head(
    additions: Sequence[CommitOperationAdd],
    at_head: Mapping[str, RepoFile | RepoFolder],
    threads: int = HASHING_THREADS,
) -> list[bool]:
    """For each addition, whether the head (``{path: entry}``) already has its content at its path.

    Only an addition whose path holds a file of the same size is read: its sha256 against an LFS file (in
    parallel), its git oid against a regular one.
    """
    same_size = [
        op for op in additions if getattr(at_head.get(op.path_in_repo), "size", None) == op.upload_info.size
    ]
    hash_in_parallel([op for op in same_size if getattr(at_head[op.path_in_repo], "lfs", None)], threads)
    compared = {id(op) for op in same_size}
    return [
        id(op) in compared
        and _Expectation(
            op.path_in_repo,
            "file",
            size=op.upload_info.size,
            sha256=_lazy_sha256(op),
            git_oid=_lazy_git_oid(op),
        ).holds(at_head[op.path_in_repo])
        for op in additions
    ]


def _lazy_sha256(op: CommitOperationAdd) -> Callable[[], str | None]:
    """The sha256 of an addition's content, computed (once, by ``huggingface_hub``) only when compared."""
    return lambda: op.upload_info.sha256.hex()


def _lazy_git_oid(op: CommitOperationAdd) -> Callable[[], str | None]:
    """The git oid of an addition's content, computed once and only if a non-LFS file must be compared."""
    cache: list[str | None] = []

    def compute() -> str | None:
        if not cache:
            source = op.path_or_fileobj
            if isinstance(source, bytes) and source == b"" and op.upload_info.size:
                cache.append(None)  # content freed after an LFS upload: it was not a regular file
            elif isinstance(source, (str, bytes)):
                cache.append(git_blob_oid(source))
            else:
                with op.as_file() as file:
                    cache.append(git_blob_oid(file.read()))
        return cache[0]

    return compute
