"""``HfHubHook`` methods for repositories: create, inspect, tag, and commit exactly once.

The commit itself is the commit engine's (:mod:`airflow_provider_hub.hooks.commit`); this module is its
entry point and the reads it is built on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.exceptions import HfHubNotFoundError
from airflow_provider_hub.hooks.commit import CommitEngine, CommitOutcome
from airflow_provider_hub.hooks.host import HubArea
from airflow_provider_hub.hooks.large_upload import LargeUpload, LargeUploadOutcome
from airflow_provider_hub.lineage import report_repo
from airflow_provider_hub.utils.checks import REPO_TYPE_PLURALS
from airflow_provider_hub.utils.progress import ProgressLog

if TYPE_CHECKING:
    from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete
    from huggingface_hub.hf_api import RepoFile, RepoFolder

    from airflow_provider_hub.hooks.hash_cache import LocalFileAddition

    CommitOperation = CommitOperationAdd | CommitOperationCopy | CommitOperationDelete

#: ``get_paths_info`` accepts at most 1000 paths per request on the Hub.
_PATHS_INFO_BATCH = 500


def repo_web_url(endpoint: str, repo_id: str, repo_type: str = "model") -> str:
    """The repo page: ``{endpoint}/{repo_id}`` for models, ``{endpoint}/datasets/{repo_id}`` otherwise."""
    prefix = "" if repo_type == "model" else f"{REPO_TYPE_PLURALS[repo_type]}/"
    return f"{endpoint.rstrip('/')}/{prefix}{repo_id}"


class RepoHookMixin(HubArea):
    """``HfHubHook``'s repository methods, the commit engine's entry point among them.

    Example::

        hook.create_repo("alice/m", exist_ok=True)
        outcome = hook.commit_exactly_once("alice/m", operations, commit_message="Add weights")
        hook.create_tag("alice/m", "v1", revision=outcome.commit_oid)
    """

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

    def update_repo_settings(
        self,
        repo_id: str,
        *,
        repo_type: str = "model",
        private: bool | None = None,
        gated: str | bool | None = None,
    ) -> None:
        """Change visibility and gating (``None`` leaves a setting as it is); setting a value twice changes nothing."""
        self.call(
            "update_repo_settings",
            repo_id,
            private=private,
            gated=gated,
            repo_type=repo_type,
            subject=f"{repo_type} {repo_id}",
        )

    def delete_repo(self, repo_id: str, *, repo_type: str = "model", missing_ok: bool = True) -> bool:
        """Delete the repo; ``False`` when it did not exist (``missing_ok``), as after a delete whose answer was lost."""
        return self._deleted(
            "delete_repo",
            repo_id,
            missing_ok=missing_ok,
            repo_type=repo_type,
            subject=f"{repo_type} {repo_id}",
        )

    def _deleted(self, method: str, repo_id: str, *, missing_ok: bool, subject: str, **kwargs: Any) -> bool:
        """Call a delete: ``True`` once deleted, also by an earlier attempt whose answer was lost (the retry
        then finds nothing); ``False`` when there was nothing to delete and ``missing_ok``."""
        try:
            self.call(method, repo_id, subject=subject, **kwargs)
        except HfHubNotFoundError as exc:
            if exc.attempts > 1:
                return True
            if missing_ok:
                return False
            raise
        return True

    def create_branch(
        self,
        repo_id: str,
        branch: str,
        *,
        revision: str | None = None,
        repo_type: str = "model",
        exist_ok: bool = True,
    ) -> str:
        """Create ``branch`` at ``revision`` (default ``main``); returns the commit it points at.

        With ``exist_ok`` an existing branch is fine, wherever it points.
        """
        self.call(
            "create_branch",
            repo_id,
            branch=branch,
            revision=revision,
            repo_type=repo_type,
            exist_ok=exist_ok,
            idempotent=exist_ok,
            subject=f"{repo_type} {repo_id}",
        )
        return self.repo_head(repo_id, repo_type=repo_type, revision=branch)

    def delete_branch(
        self, repo_id: str, branch: str, *, repo_type: str = "model", missing_ok: bool = True
    ) -> bool:
        """Delete ``branch``; ``False`` when it did not exist (``missing_ok``), as after a delete whose answer was lost."""
        return self._deleted(
            "delete_branch",
            repo_id,
            missing_ok=missing_ok,
            branch=branch,
            repo_type=repo_type,
            subject=f"{repo_type} {repo_id}@{branch}",
        )

    def squash_history(
        self,
        repo_id: str,
        *,
        branch: str = "main",
        commit_message: str | None = None,
        repo_type: str = "model",
    ) -> str:
        """Squash the history of ``branch`` into one commit (tags keep their commits); returns the new head.

        Repeating it (after a lost answer, in a retried task) squashes that one commit into one again: the
        history stays one commit, with the same files.
        """
        subject = f"{repo_type} {repo_id}@{branch}"
        self.call(
            "super_squash_history",
            repo_id,
            branch=branch,
            commit_message=commit_message,
            repo_type=repo_type,
            subject=subject,
        )
        return self.repo_head(repo_id, repo_type=repo_type, revision=branch)

    def list_lfs_files(self, repo_id: str, *, repo_type: str = "model") -> list[Any]:
        """Every LFS object stored for the repo (``LFSFileInfo``: ``file_oid``, ``filename``, ``size``, ``pushed_at``)."""
        return list(
            self.call("list_lfs_files", repo_id, repo_type=repo_type, subject=f"{repo_type} {repo_id}")
        )

    def delete_lfs_files(self, repo_id: str, lfs_files: Sequence[Any], *, repo_type: str = "model") -> None:
        """Permanently delete LFS objects from the repo's storage (and the history that points to them).

        Deleting objects that are gone already changes nothing, so the request is repeated safely.
        """
        self.call(
            "permanently_delete_lfs_files",
            repo_id,
            list(lfs_files),
            repo_type=repo_type,
            subject=f"{repo_type} {repo_id}",
        )

    def referenced_lfs_objects(self, repo_id: str, *, repo_type: str = "model") -> set[str]:
        """The sha256 of every LFS file at the head of a branch or a tag: what storage clean-ups must keep."""
        refs = self.call("list_repo_refs", repo_id, repo_type=repo_type, subject=f"{repo_type} {repo_id}")
        heads = {ref.target_commit for ref in [*refs.branches, *refs.tags]}
        kept: set[str] = set()
        for head in heads:
            for entry in self.list_repo_tree(repo_id, repo_type=repo_type, revision=head):
                if entry.lfs is not None:
                    kept.add(entry.lfs.sha256)
        return kept

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
        self,
        repo_id: str,
        *,
        repo_type: str = "model",
        revision: str | None = None,
        path_in_repo: str | None = None,
    ) -> list[RepoFile]:
        """Every file (not folder) of the repo at ``revision``, or of its folder ``path_in_repo`` (paths stay
        relative to the repo's root)."""
        from huggingface_hub.hf_api import RepoFile

        entries = self.call(
            "list_repo_tree",
            repo_id,
            path_in_repo=path_in_repo,
            recursive=True,
            repo_type=repo_type,
            revision=revision,
            subject=f"{repo_type} {repo_id}@{revision or 'main'}",
        )
        return [e for e in entries if isinstance(e, RepoFile)]

    def download_file(
        self,
        repo_id: str,
        path_in_repo: str,
        *,
        repo_type: str = "model",
        revision: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Download one file (``HfApi.hf_hub_download``; ``kwargs`` as there, e.g. ``local_dir``): its local path.

        Reported to Airflow's hook lineage as a read of the repo (at ``revision`` when it is a commit sha).
        """
        local = self.call(
            "hf_hub_download",
            repo_id,
            path_in_repo,
            repo_type=repo_type,
            revision=revision,
            subject=f"{repo_type} {repo_id}@{revision or 'main'}",
            **kwargs,
        )
        report_repo(self, "input", repo_type, repo_id, revision)
        return str(local)

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
        num_threads: int = 5,
    ) -> None:
        """Ask the Hub which files are LFS and upload those it does not have yet, in rounds of
        :attr:`preupload_chunk_files` files, ``num_threads`` files at a time (``huggingface_hub``'s default).
        Safe to repeat: uploaded operations are skipped."""
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
                num_threads=num_threads,
                idempotent=True,
                subject=f"{repo_type} {repo_id}@{revision or 'main'}",
            )
            if progress is not None:
                progress.advance(len(chunk), sum(op.upload_info.size for op in chunk))

    def commit_exactly_once(
        self, repo_id: str, operations: Sequence[CommitOperation | LocalFileAddition], **options: Any
    ) -> CommitOutcome:
        """Apply ``operations`` in one commit, at most once, skipping what the head already has.

        An addition may be a :class:`~airflow_provider_hub.hooks.hash_cache.LocalFileAddition` (a file of a
        folder with a hash cache): it is read only when its digest is not cached or the head lacks it.

        :param options: ``commit_message`` (required), ``commit_description``, ``repo_type``, ``revision``,
            ``create_pr``, ``parent_commit``, ``on_head_moved``, ``progress_interval``, ``logger``: the
            parameters of :class:`~airflow_provider_hub.hooks.commit.CommitEngine`, which makes the commit.
        :return: a :class:`CommitOutcome`; ``commit_oid`` is ``None`` when nothing had to change.

        Reported to Airflow's hook lineage as a write of the repo at the resulting head.
        """
        outcome = CommitEngine(self, repo_id, operations, **options).run()
        report_repo(self, "output", outcome.repo_type, outcome.repo_id, outcome.head_oid)
        return outcome

    def upload_in_commits(
        self, repo_id: str, additions: Sequence[CommitOperationAdd], **options: Any
    ) -> LargeUploadOutcome:
        """Add files in as many commits as the Hub's per-commit limits need, each exactly once; files the
        head already has are neither sent nor committed again, so a retried upload does only what is left.

        :param options: ``repo_type``, ``revision``, ``num_workers``, ``logger``, ``progress_interval``: the
            parameters of :class:`~airflow_provider_hub.hooks.large_upload.LargeUpload`.
        """
        outcome = LargeUpload(self, repo_id, additions, **options).run()
        report_repo(self, "output", outcome.repo_type, outcome.repo_id, outcome.head_oid)
        return outcome
