"""``HfHubHook`` methods for repositories: create, inspect, commit exactly once, tag.

The commit engine (:meth:`RepoHookMixin.commit_exactly_once`) is shared by the publishing operators and the
S3 transfer. A commit ``POST`` is not idempotent, so it is never blindly repeated: every operation has an
*expected state* at the head (a file with a given content, a path absent), computed locally before anything
is sent. The same check serves three purposes:

- before committing, operations whose expected state already holds are dropped; when nothing is left the
  run is a no-op and no (empty) commit is made. A task retried after its commit landed ends here;
- after a transient failure of the commit ``POST`` (5xx, 429, timeout, dropped connection), the head is read
  again: if the expected state holds there, the commit landed and is not sent twice;
- with ``parent_commit`` and ``on_head_moved="rebase"``, the operations' paths are compared between the
  parent and the new head to decide whether the commit can be replayed on the new head.

LFS uploads are never redone: ``/preupload`` reports files the Hub already has, and uploaded operations are
marked so that a repeated commit attempt reuses them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_hub.exceptions import HfHubConflictError, HfHubError

if TYPE_CHECKING:
    from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete, HfApi
    from huggingface_hub.hf_api import RepoFile, RepoFolder

    CommitOperation = CommitOperationAdd | CommitOperationCopy | CommitOperationDelete

log = logging.getLogger(__name__)


class TaskLogger(Protocol):
    """What the commit engine logs through: a stdlib logger or an operator's ``self.log``."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


REPO_TYPES = ("model", "dataset", "space")
#: URL segment of each repo type on the Hub (``/datasets/org/name``) and in ``hf://`` URIs.
REPO_TYPE_PLURALS = {"model": "models", "dataset": "datasets", "space": "spaces"}
_REPO_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,95}")
_COMMIT_OID_RE = re.compile(r"[0-9a-fA-F]{5,40}")
#: What no git branch or tag name may contain (``git check-ref-format``): whitespace and control characters,
#: ``~ ^ : ? * [ \``, ``..`` and ``@{``.
_NOT_IN_REF_RE = re.compile(r"[\s\x00-\x1f\x7f~^:?*\[\\]|\.\.|@\{")
#: Statuses after which a commit ``POST`` may or may not have been applied.
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: ``get_paths_info`` accepts at most 1000 paths per request on the Hub.
_PATHS_INFO_BATCH = 500
ON_HEAD_MOVED_POLICIES = ("fail", "rebase")


# -- input validation (no network) --------------------------------------------------------------------
def check_repo_type(repo_type: Any, field_name: str = "repo_type") -> str:
    """Return ``repo_type`` if it is ``model``, ``dataset`` or ``space``; raise ``ValueError`` naming it otherwise."""
    if repo_type not in REPO_TYPES:
        raise ValueError(f"{field_name} must be one of {', '.join(REPO_TYPES)}; got {repo_type!r}")
    return repo_type


def check_repo_id(repo_id: Any, field_name: str = "repo_id", *, require_namespace: bool = False) -> str:
    """Validate a repo id with the Hub's rules (``namespace/name``; letters, digits, ``-``, ``_``, ``.``).

    :param require_namespace: reject a bare ``name``.
    :raises ValueError: naming the field and the value.
    """
    if not isinstance(repo_id, str) or not repo_id:
        raise ValueError(f"{field_name} must be a non-empty string like 'namespace/name'; got {repo_id!r}")
    parts = repo_id.split("/")
    if len(parts) > 2 or (require_namespace and len(parts) != 2):
        raise ValueError(f"{field_name} must look like 'namespace/name'; got {repo_id!r}")
    for part in parts:
        if (
            not _REPO_NAME_RE.fullmatch(part)
            or part.endswith((".", "-"))
            or "--" in part
            or ".." in part
            or part.endswith(".git")
        ):
            raise ValueError(
                f"{field_name} {repo_id!r} is not a valid Hub repo id: each part uses letters, digits, '-', '_' "
                "or '.', does not start or end with '-' or '.', has no '--' or '..', and is at most 96 characters"
            )
    return repo_id


def check_path_in_repo(path: Any, field_name: str = "path_in_repo", *, allow_root: bool = False) -> str:
    """Normalise a path inside a repo (no leading ``/``); reject ``..`` segments and ``.git``/``.cache`` folders."""
    if path is None and allow_root:
        return ""
    if not isinstance(path, str):
        raise ValueError(f"{field_name} must be a string; got {path!r}")
    normalised = path.strip("/")
    segments = [s for s in normalised.split("/") if s not in ("", ".")]
    if any(s == ".." for s in segments):
        raise ValueError(f"{field_name} {path!r} escapes the repository ('..' is not allowed)")
    if any(s in (".git", ".cache") for s in segments):
        raise ValueError(
            f"{field_name} {path!r} points into a '.git' or '.cache' folder, which the Hub refuses"
        )
    if not segments and not allow_root:
        raise ValueError(f"{field_name} must name a file in the repository; got {path!r}")
    return "/".join(segments)


def check_parent_commit(parent_commit: Any, field_name: str = "parent_commit") -> str | None:
    if parent_commit is None or parent_commit == "":
        return None
    if not isinstance(parent_commit, str) or not _COMMIT_OID_RE.fullmatch(parent_commit):
        raise ValueError(f"{field_name} must be a commit id (5 to 40 hex characters); got {parent_commit!r}")
    return parent_commit.lower()


def check_revision(revision: Any, field_name: str = "revision") -> None:
    """Raise ``ValueError`` naming the field for a value no branch, tag or commit can have.

    ``None`` and ``""`` are the default branch.
    """
    if revision is None or revision == "":
        return
    if not isinstance(revision, str) or _NOT_IN_REF_RE.search(revision):
        raise ValueError(
            f"{field_name} must be a branch, tag or commit (no spaces, '..' or any of ~^:?*[\\); got {revision!r}"
        )


def check_commit_message(message: Any, field_name: str = "commit_message") -> None:
    if not str(message or "").strip():
        raise ValueError(f"{field_name} must not be empty; got {message!r}")


def repo_web_url(endpoint: str, repo_id: str, repo_type: str = "model") -> str:
    """The repo page: ``{endpoint}/{repo_id}`` for models, ``{endpoint}/datasets/{repo_id}`` otherwise."""
    prefix = "" if repo_type == "model" else f"{REPO_TYPE_PLURALS[repo_type]}/"
    return f"{endpoint.rstrip('/')}/{prefix}{repo_id}"


def git_blob_oid(path_or_bytes: str | bytes) -> str:
    """The git blob sha1 of a local file or of bytes: what the Hub reports as ``oid`` of a non-LFS file."""
    if isinstance(path_or_bytes, bytes):
        digest = hashlib.sha1(b"blob %d\0" % len(path_or_bytes))
        digest.update(path_or_bytes)
        return digest.hexdigest()
    import os

    digest = hashlib.sha1(b"blob %d\0" % os.path.getsize(path_or_bytes))
    with open(path_or_bytes, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_transient(exc: BaseException) -> bool:
    """Whether a failed call may or may not have reached the Hub (so a write may have been applied)."""
    import httpx2

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (httpx2.TransportError, ConnectionError, TimeoutError)):
            return True
        status = getattr(current, "status_code", None)
        response = getattr(current, "response", None)
        if status is None and response is not None:
            status = getattr(response, "status_code", None)
        if status in _TRANSIENT_STATUSES:
            return True
        if isinstance(current, HfHubError) and status is None and current.__cause__ is None:
            # The hook's error policy raises HfHubError without a status for connection failures.
            return True
        current = current.__cause__ or current.__context__
    return False


# -- progress -------------------------------------------------------------------------------------------
@dataclass
class ProgressLog:
    """Logs ``files and bytes done, throughput`` at most every ``interval`` seconds (and once at the end).

    For 100k files the task log gets a line every few seconds, not a line per file.
    """

    phase: str
    total_files: int
    total_bytes: int
    interval: float = 10.0
    logger: TaskLogger = field(default=log)
    files: int = 0
    bytes: int = 0
    _started: float = field(default_factory=time.monotonic)
    _last: float = field(default_factory=time.monotonic)

    def advance(self, files: int, nbytes: int) -> None:
        self.files += files
        self.bytes += nbytes
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._emit(now)

    def finish(self) -> None:
        if self.total_files:
            self._emit(time.monotonic())

    def _emit(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-6)
        self.logger.info(
            "%s: %d/%d files, %s/%s (%s/s)",
            self.phase,
            self.files,
            self.total_files,
            _human(self.bytes),
            _human(self.total_bytes),
            _human(self.bytes / elapsed),
        )


def _human(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(nbytes) < 1024:
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1024
    return f"{nbytes:.1f} TiB"


# -- commit outcome -------------------------------------------------------------------------------------
@dataclass
class CommitOutcome:
    """What :meth:`RepoHookMixin.commit_exactly_once` did; :meth:`as_dict` is the operators' XCom value."""

    repo_id: str
    repo_type: str
    repo_url: str
    revision: str
    head_oid: str
    commit_oid: str | None = None
    commit_url: str | None = None
    pr_url: str | None = None
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


class RepoHookMixin:
    """Mixed into ``HfHubHook``; relies on its ``api``, ``call``, ``endpoint`` and ``namespace``."""

    api: HfApi
    endpoint: str
    namespace: str | None
    call: Callable[..., Any]

    #: Attempts of one commit ``POST`` on transient failures (each checked for "already landed" first).
    commit_attempts = 4
    #: Files per ``/preupload`` + LFS upload round (one progress line at most per round and interval).
    preupload_chunk_files = 256

    # -- naming -----------------------------------------------------------------------------------------
    def qualify_repo_id(self, repo_id: str) -> str:
        """``name`` becomes ``<connection namespace>/name`` when the connection sets one."""
        if "/" not in repo_id and self.namespace:
            return f"{self.namespace}/{repo_id}"
        return repo_id

    def repo_url(self, repo_id: str, repo_type: str = "model") -> str:
        return repo_web_url(self.endpoint, repo_id, repo_type)

    # -- repos, refs, files -----------------------------------------------------------------------------
    def create_repo(
        self, repo_id: str, *, repo_type: str = "model", private: bool | None = None, exist_ok: bool = True
    ) -> str:
        """Create the repo; returns its URL. With ``exist_ok`` an existing repo is fine."""
        url = self.call(
            "create_repo",
            repo_id,
            repo_type=repo_type,
            private=private,
            exist_ok=exist_ok,
            idempotent=exist_ok,
            subject=f"{repo_type} {repo_id}",
        )
        return str(url)

    def repo_head(self, repo_id: str, *, repo_type: str = "model", revision: str | None = None) -> str:
        """The commit id ``revision`` (default ``main``) points to."""
        info = self.call(
            "repo_info",
            repo_id,
            repo_type=repo_type,
            revision=revision,
            subject=f"{repo_type} {repo_id}@{revision or 'main'}",
        )
        return info.sha

    def get_paths_info(
        self, repo_id: str, paths: Sequence[str], *, repo_type: str = "model", revision: str | None = None
    ) -> dict[str, RepoFile | RepoFolder]:
        """``{path: RepoFile | RepoFolder}`` for the paths that exist at ``revision`` (batched)."""
        found: dict[str, RepoFile | RepoFolder] = {}
        unique = list(dict.fromkeys(p for p in paths if p))
        for start in range(0, len(unique), _PATHS_INFO_BATCH):
            batch = unique[start : start + _PATHS_INFO_BATCH]
            for entry in self.call(
                "get_paths_info",
                repo_id,
                batch,
                repo_type=repo_type,
                revision=revision,
                subject=f"{repo_type} {repo_id}@{revision or 'main'}",
            ):
                found[entry.path] = entry
        return found

    def file_exists(
        self, repo_id: str, path_in_repo: str, *, repo_type: str = "model", revision: str | None = None
    ) -> bool:
        return bool(
            self.call(
                "file_exists", repo_id, path_in_repo, repo_type=repo_type, revision=revision, subject=repo_id
            )
        )

    def list_repo_files(
        self, repo_id: str, *, repo_type: str = "model", revision: str | None = None
    ) -> list[str]:
        return list(
            self.call(
                "list_repo_files",
                repo_id,
                repo_type=repo_type,
                revision=revision,
                subject=f"{repo_type} {repo_id}@{revision or 'main'}",
            )
        )

    def list_repo_tree(
        self, repo_id: str, *, repo_type: str = "model", revision: str | None = None
    ) -> list[RepoFile]:
        """Every file (not folder) of the repo at ``revision``."""
        from huggingface_hub.hf_api import RepoFile

        entries = self.call(
            "list_repo_tree",
            repo_id,
            recursive=True,
            repo_type=repo_type,
            revision=revision,
            subject=f"{repo_type} {repo_id}@{revision or 'main'}",
        )
        return [e for e in entries if isinstance(e, RepoFile)]

    def tag_target(self, repo_id: str, tag: str, *, repo_type: str = "model") -> str | None:
        """The commit a tag points to, ``None`` when the tag does not exist."""
        refs = self.call("list_repo_refs", repo_id, repo_type=repo_type, subject=f"{repo_type} {repo_id}")
        for ref in refs.tags:
            if ref.name == tag:
                return ref.target_commit
        return None

    def create_tag(
        self,
        repo_id: str,
        tag: str,
        *,
        repo_type: str = "model",
        revision: str | None = None,
        tag_message: str | None = None,
    ) -> None:
        # A tag POST either creates the tag or answers 409: repeating it cannot duplicate anything.
        self.call(
            "create_tag",
            repo_id,
            tag=tag,
            tag_message=tag_message,
            revision=revision,
            repo_type=repo_type,
            exist_ok=False,
            idempotent=True,
            subject=f"{repo_type} {repo_id} tag {tag}",
        )

    # -- commits ----------------------------------------------------------------------------------------
    def preupload(
        self,
        repo_id: str,
        additions: Sequence[CommitOperationAdd],
        *,
        repo_type: str = "model",
        revision: str | None = None,
        create_pr: bool = False,
        progress: ProgressLog | None = None,
    ) -> None:
        """Ask the Hub which files are LFS and upload those it does not have yet, in rounds of
        :attr:`preupload_chunk_files` files. Safe to repeat: uploaded operations are skipped."""
        pending = [op for op in additions if not op._is_uploaded and op._upload_mode is None]
        for start in range(0, len(pending), self.preupload_chunk_files):
            chunk = pending[start : start + self.preupload_chunk_files]
            self.call(
                "preupload_lfs_files",
                repo_id,
                additions=chunk,
                repo_type=repo_type,
                revision=revision,
                create_pr=create_pr,
                idempotent=True,
                subject=f"{repo_type} {repo_id}@{revision or 'main'}",
            )
            if progress is not None:
                progress.advance(len(chunk), sum(op.upload_info.size for op in chunk))

    def commit_exactly_once(
        self,
        repo_id: str,
        operations: Sequence[CommitOperation],
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
    ) -> CommitOutcome:
        """Apply ``operations`` in one commit, at most once, skipping what the head already has.

        :param parent_commit: the commit the operations were prepared against. When the branch head is
            elsewhere, ``on_head_moved`` decides: ``"fail"`` raises :class:`HfHubConflictError`;
            ``"rebase"`` commits on the new head when none of the operations' paths (nor a copy's source
            path) changed between ``parent_commit`` and the head, and fails otherwise.
        :return: a :class:`CommitOutcome`; ``commit_oid`` is ``None`` when nothing had to change.
        """
        from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete

        logger = logger or log
        branch = revision or "main"
        subject = f"{repo_type} {repo_id}@{branch}"
        head = self.repo_head(repo_id, repo_type=repo_type, revision=branch)
        rebased = False
        # With create_pr the pull request branches off parent_commit itself: the head may have moved.
        if parent_commit and not create_pr and not head.startswith(parent_commit):
            self._check_rebase(
                repo_id,
                operations,
                repo_type=repo_type,
                parent=parent_commit,
                head=head,
                policy=on_head_moved,
            )
            logger.info(
                "Head of %s moved from %s to %s; no operation conflicts: rebasing",
                subject,
                parent_commit,
                head,
            )
            rebased = True

        expectations = self._expectations(repo_id, operations, repo_type=repo_type, revision=head)
        at_head = self.get_paths_info(
            repo_id, [e.path for e in expectations], repo_type=repo_type, revision=head
        )
        # Only an addition whose path holds an LFS file at the head needs its sha256 to be compared.
        _hash_in_parallel(
            [
                op
                for op in operations
                if isinstance(op, CommitOperationAdd)
                and getattr(at_head.get(op.path_in_repo), "lfs", None) is not None
            ]
        )
        remaining: list[CommitOperation] = []
        remaining_expectations: list[_Expectation] = []
        unchanged = 0
        for op, expectation in zip(operations, expectations, strict=True):
            if expectation.holds(at_head.get(expectation.path)):
                unchanged += isinstance(op, CommitOperationAdd)
                continue
            remaining.append(op)
            remaining_expectations.append(expectation)
        added = [op for op in remaining if isinstance(op, CommitOperationAdd)]
        planned = CommitOutcome(
            repo_id=repo_id,
            repo_type=repo_type,
            repo_url=self.repo_url(repo_id, repo_type),
            revision=branch,
            head_oid=head,
            files_added=len(added),
            files_deleted=sum(isinstance(op, CommitOperationDelete) for op in remaining),
            files_copied=sum(isinstance(op, CommitOperationCopy) for op in remaining),
            files_unchanged=unchanged,
        )
        if not remaining:
            logger.info(
                "Nothing to commit to %s: the head %s already has all %d operation(s); no commit made",
                subject,
                head,
                len(operations),
            )
            return planned

        # Additions a caller already pre-uploaded (the S3 transfer does, batch by batch) are not counted again.
        to_upload = [op for op in added if op._upload_mode is None and not op._is_uploaded]
        progress = ProgressLog(
            "Uploading",
            total_files=len(to_upload),
            total_bytes=sum(op.upload_info.size for op in to_upload),
            interval=progress_interval,
            logger=logger,
        )
        self.preupload(
            repo_id, to_upload, repo_type=repo_type, revision=branch, create_pr=create_pr, progress=progress
        )
        progress.finish()
        uploaded = sum(op.upload_info.size for op in added)

        for attempt in range(1, self.commit_attempts + 1):
            try:
                info = self.call(
                    "create_commit",
                    repo_id,
                    remaining,
                    commit_message=commit_message,
                    commit_description=commit_description,
                    repo_type=repo_type,
                    revision=branch,
                    create_pr=create_pr,
                    parent_commit=head if (parent_commit and not create_pr) else parent_commit,
                    idempotent=False,
                    subject=subject,
                )
            except Exception as exc:
                if self._is_stale_parent(exc) and parent_commit and not create_pr:
                    new_head = self.repo_head(repo_id, repo_type=repo_type, revision=branch)
                    self._check_rebase(
                        repo_id,
                        remaining,
                        repo_type=repo_type,
                        parent=head,
                        head=new_head,
                        policy=on_head_moved,
                    )
                    logger.info("Head of %s moved to %s while committing; rebasing", subject, new_head)
                    head, rebased = new_head, True
                    continue
                if not is_transient(exc) or create_pr:
                    # A pull request commit lands on a new refs/pr/N branch that cannot be found back
                    # reliably: never risk opening a second pull request.
                    raise
                landed = self._find_landed_commit(
                    repo_id,
                    remaining_expectations,
                    repo_type=repo_type,
                    branch=branch,
                    base=head,
                    commit_message=commit_message,
                    error=exc,
                )
                if landed is not None:
                    logger.warning(
                        "The commit request to %s failed (%s) but the commit had landed as %s: not committing again",
                        subject,
                        exc,
                        landed,
                    )
                    return replace(
                        planned,
                        head_oid=landed,
                        commit_oid=landed,
                        commit_url=f"{planned.repo_url}/commit/{landed}",
                        bytes_uploaded=uploaded,
                        recovered=True,
                        rebased=rebased,
                    )
                if attempt == self.commit_attempts:
                    raise
                delay = min(2 ** (attempt - 1), 8)
                logger.warning(
                    "Commit to %s failed (%s) and did not land; retrying in %ss (attempt %d/%d)",
                    subject,
                    exc,
                    delay,
                    attempt + 1,
                    self.commit_attempts,
                )
                time.sleep(delay)
                continue
            logger.info("Committed %s to %s", info.oid, subject)
            return replace(
                planned,
                head_oid=info.oid,
                commit_oid=info.oid,
                commit_url=info.commit_url,
                pr_url=info.pr_url,
                bytes_uploaded=uploaded,
                rebased=rebased,
            )
        raise HfHubConflictError(f"Could not commit to {subject}: the head kept moving")

    # -- commit internals -------------------------------------------------------------------------------
    def _expectations(
        self, repo_id: str, operations: Sequence[CommitOperation], *, repo_type: str, revision: str
    ) -> list[_Expectation]:
        """One expected head state per operation, computed locally (copies: from the source's metadata)."""
        from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete
        from huggingface_hub.hf_api import RepoFile

        copy_sources: dict[tuple[str, str], RepoFile | RepoFolder] = {}
        copies = [op for op in operations if isinstance(op, CommitOperationCopy)]
        for src_revision in {op.src_revision or revision for op in copies}:
            paths = [op.src_path_in_repo for op in copies if (op.src_revision or revision) == src_revision]
            for path, entry in self.get_paths_info(
                repo_id, paths, repo_type=repo_type, revision=src_revision
            ).items():
                copy_sources[(src_revision, path)] = entry

        expectations: list[_Expectation] = []
        for op in operations:
            if isinstance(op, CommitOperationAdd):
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
                source = copy_sources.get((op.src_revision or revision, op.src_path_in_repo))
                if (
                    source is None
                    and op.src_revision is None
                    and _deleted_by(op.src_path_in_repo, operations)
                ):
                    # A rename (copy + delete of the source) that already landed: the source is gone
                    # from the head, so the destination's presence is all that can be checked.
                    expectations.append(_Expectation(op.path_in_repo, "present"))
                    continue
                if not isinstance(source, RepoFile):
                    raise HfHubError(
                        f"Cannot copy {op.src_path_in_repo!r} of {repo_type} {repo_id}@"
                        f"{op.src_revision or revision}: no such file"
                    )
                expectations.append(
                    _Expectation(
                        op.path_in_repo,
                        "file",
                        size=source.size,
                        sha256=_constant(source.lfs.sha256) if source.lfs else None,
                        git_oid=_constant(source.blob_id) if not source.lfs else None,
                    )
                )
        return expectations

    def _find_landed_commit(
        self,
        repo_id: str,
        expectations: list[_Expectation],
        *,
        repo_type: str,
        branch: str,
        base: str,
        commit_message: str,
        error: BaseException,
    ) -> str | None:
        """After an uncertain commit ``POST``: the commit id if it was applied, ``None`` if it was not.

        The check is a few reads; they are repeated while the network stays flaky, and if the answer
        cannot be known the original error is raised: committing again without knowing could duplicate.
        """
        for attempt in range(1, self.commit_attempts + 1):
            try:
                head = self.repo_head(repo_id, repo_type=repo_type, revision=branch)
                if head == base:
                    return None
                at_head = self.get_paths_info(
                    repo_id, [e.path for e in expectations], repo_type=repo_type, revision=head
                )
                if not all(e.holds(at_head.get(e.path)) for e in expectations):
                    return None
                # Ours is the oldest commit after ``base`` with our title (others may have committed since).
                commits = self.call(
                    "list_repo_commits",
                    repo_id,
                    repo_type=repo_type,
                    revision=head,
                    subject=f"{repo_type} {repo_id}",
                )
                ours = None
                for commit in commits:
                    if commit.commit_id == base:
                        break
                    if commit.title == commit_message.strip().splitlines()[0]:
                        ours = commit.commit_id
                return ours or head
            except Exception as check_error:
                if not is_transient(check_error) or attempt == self.commit_attempts:
                    raise error from check_error
                time.sleep(min(2 ** (attempt - 1), 8))
        raise error

    def _check_rebase(
        self,
        repo_id: str,
        operations: Iterable[CommitOperation],
        *,
        repo_type: str,
        parent: str,
        head: str,
        policy: str,
    ) -> None:
        """Raise :class:`HfHubConflictError` unless ``policy == "rebase"`` and no operation path changed."""
        from huggingface_hub import CommitOperationCopy

        subject = f"{repo_type} {repo_id}"
        if policy != "rebase":
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
        before = self.get_paths_info(repo_id, paths, repo_type=repo_type, revision=parent)
        after = self.get_paths_info(repo_id, paths, repo_type=repo_type, revision=head)
        changed = sorted(p for p in set(paths) if _entry_key(before.get(p)) != _entry_key(after.get(p)))
        if changed:
            raise HfHubConflictError(
                f"Cannot rebase onto the head {head} of {subject}: {', '.join(changed[:10])} changed since "
                f"parent_commit {parent}",
                status_code=412,
            )

    @staticmethod
    def _is_stale_parent(exc: BaseException) -> bool:
        status = getattr(exc, "status_code", None) or getattr(
            getattr(exc, "response", None), "status_code", None
        )
        return status == 412


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


def _deleted_by(path: str, operations: Sequence[CommitOperation]) -> bool:
    """Whether a delete operation of ``operations`` removes ``path`` (itself or a folder holding it)."""
    from huggingface_hub import CommitOperationDelete

    for op in operations:
        if isinstance(op, CommitOperationDelete):
            target = op.path_in_repo.rstrip("/")
            if path == target or (op.is_folder and path.startswith(target + "/")):
                return True
    return False


#: Threads hashing additions at once: as many as ``huggingface_hub`` uses for the same job (``num_threads``).
HASHING_THREADS = 5


def _hash_in_parallel(additions: Sequence[CommitOperationAdd]) -> None:
    """Compute the sha256 of every addition that has none yet, several files at a time.

    Comparing with the head needs them before ``huggingface_hub`` would hash them (lazily, in parallel,
    while uploading); one after another, large files would leave cores idle (hashlib releases the GIL).
    """
    unhashed = [op for op in additions if not getattr(op.upload_info, "is_hashed", True)]
    if len(unhashed) < 2:
        return
    with ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="hf-sha256") as pool:
        for _ in pool.map(lambda op: op.upload_info.sha256, unhashed):
            pass


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
