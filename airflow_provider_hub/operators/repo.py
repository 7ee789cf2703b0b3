"""Publish to the Hub: create repos, upload folders, make commits, tag releases.

Every publishing operator commits *at most once* and never makes an empty commit: it computes what the
head must look like once its operations are applied, skips what is already there, and after an
uncertain failure of the commit request checks whether the commit landed instead of sending it again.
See :meth:`airflow_provider_hub.hooks.hub.HfHubHook.commit_exactly_once`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_hub.exceptions import HfHubConflictError
from airflow_provider_hub.links import HfCommitLink, HfRepoLink
from airflow_provider_hub.operators.base import HfHubBaseOperator, hub_template_fields, task_instance_key
from airflow_provider_hub.utils.checks import (
    ON_HEAD_MOVED_POLICIES,
    check_bool,
    check_commit_message,
    check_parent_commit,
    check_path_in_repo,
    check_patterns,
    check_repo_type,
    check_revision,
    check_whole_number,
    repository_limit_warnings,
)
from airflow_provider_hub.utils.progress import ProgressLog, human_bytes

if TYPE_CHECKING:
    from airflow.sdk import BaseOperatorLink, Context
    from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete

    from airflow_provider_hub.hooks.commit import CommitOutcome
    from airflow_provider_hub.hooks.hash_cache import LocalFileAddition


def annotate_outlets(
    operator: BaseOperator, context: Context, repo_id: str, repo_type: str, extra: Mapping[str, Any]
) -> None:
    """Put ``extra`` (``{"revision": sha, ...}``) on the outlet event of every outlet naming this repo."""
    from airflow.sdk import Asset

    from airflow_provider_hub.assets import hf_asset

    uri = hf_asset(repo_id, repo_type).uri
    for outlet in operator.outlets or ():
        if isinstance(outlet, Asset) and outlet.uri == uri:
            context["outlet_events"][outlet].extra = dict(extra)


def publish_commit_outcome(
    operator: HfHubBaseOperator, context: Context, outcome: CommitOutcome
) -> dict[str, Any]:
    """Show the repo and the commit (or pull request) on the task, put the new head on its outlets and in its
    lineage; the XCom value."""
    operator.lineage.wrote_repo(operator.hook.endpoint, outcome.repo_type, outcome.repo_id, outcome.head_oid)
    HfRepoLink.persist(context, outcome.repo_url)
    HfCommitLink.persist(context, outcome.pr_url or outcome.commit_url)
    annotate_outlets(
        operator,
        context,
        outcome.repo_id,
        outcome.repo_type,
        {"revision": outcome.head_oid, "commit_url": outcome.commit_url, "pr_url": outcome.pr_url},
    )
    return outcome.as_dict()


def folder_files(folder_path: Any, allow_patterns: Any, ignore_patterns: Any) -> dict[str, Path]:
    """``{relative path: absolute path}`` of the files of a local folder to upload, filtered as
    ``upload_folder`` filters them (the patterns, then ``huggingface_hub``'s default ignores). No network.

    :raises ValueError: naming the field: not a folder, bad patterns, no file left to upload.
    """
    from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects

    if not folder_path:
        raise ValueError(f"folder_path must name a local folder; got {folder_path!r}")
    folder = Path(folder_path).expanduser()
    if not folder.is_dir():
        raise ValueError(f"folder_path {str(folder_path)!r} is not an existing folder")
    ignore = check_patterns(ignore_patterns, "ignore_patterns") + DEFAULT_IGNORE_PATTERNS
    allow = check_patterns(allow_patterns, "allow_patterns") or None
    candidates = {
        path.relative_to(folder).as_posix(): path.resolve()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    files = {
        rel: candidates[rel]
        for rel in filter_repo_objects(candidates, allow_patterns=allow, ignore_patterns=ignore)
    }
    if not files:
        raise ValueError(
            f"folder_path {str(folder_path)!r} has no file to upload"
            + (" (after allow_patterns/ignore_patterns)" if candidates else " (the folder is empty)")
        )
    return files


class _HfRepoOperator(HfHubBaseOperator):
    """Shared plumbing: repo id/type validation, links and outlet events.

    Every subclass but :class:`HfCreateRepoOperator` commits (or tags a commit) and sets both links.
    """

    operator_extra_links: Collection[BaseOperatorLink] = (HfRepoLink(), HfCommitLink())

    def __init__(self, *, repo_id: str, repo_type: str = "model", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repo_id = repo_id
        self.repo_type = repo_type

    def _checked_repo(self) -> tuple[str, str]:
        """The rendered repo id (qualified with the connection's namespace) and type, validated."""
        repo_type = check_repo_type(self.repo_type)
        return self.qualified_repo_id(self.repo_id), repo_type


class HfCreateRepoOperator(_HfRepoOperator):
    """Create a model, dataset or Space repository.

    Example::

        HfCreateRepoOperator(task_id="create", repo_id="acme/sentiment", private=True)

    :param repo_id: ``namespace/name``; a bare ``name`` uses the connection's namespace. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param private: visibility of a new repo; ``None`` is the Hub's default. (templated)
    :param exist_ok: succeed when the repo already exists (the default); ``False`` fails instead.
    :param space_sdk: for Spaces, the SDK (``gradio``, ``docker``, ``static``).
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: ``{"repo_id", "repo_type", "repo_url"}``.
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "repo_type", "private")
    operator_extra_links = (HfRepoLink(),)  # it makes no commit

    def __init__(
        self,
        *,
        repo_id: str,
        repo_type: str = "model",
        private: bool | None = None,
        exist_ok: bool = True,
        space_sdk: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, repo_type=repo_type, **kwargs)
        self.private = private
        self.exist_ok = exist_ok
        self.space_sdk = space_sdk

    def execute(self, context: Context) -> dict[str, Any]:
        repo_id, repo_type = self._checked_repo()
        if self.space_sdk is not None:
            url = self.hook.call(
                "create_repo",
                repo_id,
                repo_type=repo_type,
                private=self.private,
                exist_ok=self.exist_ok,
                space_sdk=self.space_sdk,
                idempotent=self.exist_ok,
                subject=f"{repo_type} {repo_id}",
            )
        else:
            url = self.hook.create_repo(
                repo_id, repo_type=repo_type, private=self.private, exist_ok=self.exist_ok
            )
        repo_url = self.hook.repo_url(repo_id, repo_type)
        self.lineage.wrote_repo(self.hook.endpoint, repo_type, repo_id)
        HfRepoLink.persist(context, repo_url)
        self.log.info("Repo %s is at %s", repo_id, url)
        return {"repo_id": repo_id, "repo_type": repo_type, "repo_url": repo_url}


class HfUploadFolderOperator(_HfRepoOperator):
    """Upload a local folder to a repo in one commit; a run where nothing changed makes no commit.

    Files the head already has with the same content are skipped (they count as ``files_unchanged``);
    when every file is unchanged and nothing is to be deleted the task succeeds with ``commit_oid=None``.
    With ``hash_cache`` (the default) the content digests of the folder's files are remembered between runs
    under ``HF_HOME``, keyed by each file's path, size, mtime, ctime and inode as git's index is: a file
    unchanged since the last run is not read again (see :mod:`airflow_provider_hub.hooks.hash_cache`).
    Progress (files and bytes listed and uploaded, throughput) goes to the task log every
    ``progress_interval`` seconds. A task retried after its commit landed does not commit again.

    Example::

        HfUploadFolderOperator(
            task_id="publish",
            repo_id="acme/sentiment",
            folder_path="/data/checkpoints/{{ dag_run.run_after | ds }}",
            path_in_repo="checkpoints",
            ignore_patterns=["*.tmp"],
            delete_patterns=["*.safetensors"],
            commit_message="Checkpoint {{ dag_run.run_after | ds }}",
            outlets=[hf_asset("acme/sentiment")],
        )

    :param repo_id: ``namespace/name``; a bare ``name`` uses the connection's namespace. (templated)
    :param folder_path: local folder to upload. (templated)
    :param path_in_repo: folder inside the repo (default: the root). (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param revision: branch to commit to (default ``main``). (templated)
    :param commit_message: commit title. (templated)
    :param commit_description: commit description. (templated)
    :param allow_patterns: only upload files matching one of these globs (relative to ``folder_path``). (templated)
    :param ignore_patterns: skip files matching these globs. (templated)
    :param delete_patterns: delete remote files under ``path_in_repo`` matching these globs, unless
        uploaded by this commit (``.gitattributes`` is always kept). (templated)
    :param create_pr: open a pull request instead of committing to the branch.
    :param create_repo: create the repo first if it does not exist.
    :param private: visibility of a repo created by ``create_repo``.
    :param progress_interval: seconds between progress lines in the task log.
    :param hash_cache: remember the files' digests between runs so unchanged files are not read again;
        ``False`` reads every file and writes no cache.
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: ``{"commit_oid", "commit_url", "pr_url", "repo_url", "revision", "head_oid", "files_added",
        "files_deleted", "files_unchanged", "bytes_uploaded", "no_changes", ...}``.
    """

    template_fields: Sequence[str] = hub_template_fields(
        "repo_id",
        "folder_path",
        "path_in_repo",
        "repo_type",
        "revision",
        "commit_message",
        "commit_description",
        "allow_patterns",
        "ignore_patterns",
        "delete_patterns",
    )

    def __init__(
        self,
        *,
        repo_id: str,
        folder_path: str | os.PathLike[str],
        path_in_repo: str | None = None,
        repo_type: str = "model",
        revision: str | None = None,
        commit_message: str = "Upload folder with Airflow",
        commit_description: str | None = None,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        delete_patterns: list[str] | str | None = None,
        create_pr: bool = False,
        create_repo: bool = False,
        private: bool | None = None,
        progress_interval: float = 10.0,
        hash_cache: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, repo_type=repo_type, **kwargs)
        self.folder_path = folder_path
        self.path_in_repo = path_in_repo
        self.revision = revision
        self.commit_message = commit_message
        self.commit_description = commit_description
        self.allow_patterns = allow_patterns
        self.ignore_patterns = ignore_patterns
        self.delete_patterns = delete_patterns
        self.create_pr = check_bool(create_pr, "create_pr")
        self.create_repo = check_bool(create_repo, "create_repo")
        self.private = private
        self.progress_interval = progress_interval
        self.hash_cache = check_bool(hash_cache, "hash_cache")

    def _local_files(self) -> tuple[str, dict[str, Path]]:
        """Validate the inputs; return the repo folder and ``{relative path: absolute path}`` to upload. No network."""
        prefix = check_path_in_repo(self.path_in_repo, allow_root=True)
        check_revision(self.revision)
        if self.create_pr and self.revision not in (None, "main"):
            raise ValueError(
                f"create_pr=True opens the pull request against main; revision must be unset, got {self.revision!r}"
            )
        check_commit_message(self.commit_message)
        check_patterns(self.delete_patterns, "delete_patterns")
        files = folder_files(self.folder_path, self.allow_patterns, self.ignore_patterns)
        for rel in files:
            check_path_in_repo(f"{prefix}/{rel}" if prefix else rel, f"file {rel!r} of folder_path")
        return prefix, files

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_hub.hooks.hash_cache import HashCache

        prefix, files = self._local_files()
        repo_id, repo_type = self._checked_repo()

        folder = Path(self.folder_path).expanduser()
        cache = HashCache.load(folder, logger=self.log) if self.hash_cache else HashCache.disabled()
        listing = ProgressLog(
            "Listing",
            len(files),
            sum(p.stat().st_size for p in files.values()),
            self.progress_interval,
            self.log,
        )
        additions: list[LocalFileAddition] = []
        for rel, path in files.items():
            additions.append(cache.addition(rel, f"{prefix}/{rel}" if prefix else rel, str(path)))
            listing.advance(1, additions[-1].size)
        listing.finish()
        try:
            outcome = self._commit(repo_id, repo_type, prefix, additions)
        finally:
            cache.save(additions, logger=self.log)
        if outcome.no_changes:
            self.log.info("No file changed (%d unchanged): no commit was made", outcome.files_unchanged)
        return publish_commit_outcome(self, context, outcome)

    def _commit(
        self, repo_id: str, repo_type: str, prefix: str, additions: list[LocalFileAddition]
    ) -> CommitOutcome:
        from huggingface_hub import CommitOperationDelete
        from huggingface_hub.utils import filter_repo_objects

        if self.create_repo:
            self.hook.create_repo(repo_id, repo_type=repo_type, private=self.private, exist_ok=True)
        deletions: list[CommitOperationDelete] = []
        delete_patterns = check_patterns(self.delete_patterns, "delete_patterns")
        if delete_patterns:
            added = {op.path_in_repo for op in additions}
            remote = self.hook.list_repo_files(
                repo_id, repo_type=repo_type, revision=None if self.create_pr else self.revision
            )
            under = {
                p[len(prefix) + 1 :] if prefix else p: p
                for p in remote
                if not prefix or p.startswith(prefix + "/")
            }
            deletions = [
                CommitOperationDelete(path_in_repo=under[rel], is_folder=False)
                for rel in filter_repo_objects(under, allow_patterns=delete_patterns)
                if under[rel] != ".gitattributes" and under[rel] not in added
            ]
        return self.hook.commit_exactly_once(
            repo_id,
            [*deletions, *additions],
            commit_message=self.commit_message,
            commit_description=self.commit_description,
            repo_type=repo_type,
            revision=self.revision,
            create_pr=self.create_pr,
            progress_interval=self.progress_interval,
            logger=self.log,
        )


class HfUploadLargeFolderOperator(_HfRepoOperator):
    """Upload a folder of thousands of files or hundreds of GB in several commits, resumably.

    What ``upload_large_folder`` did (``huggingface_hub`` 2.4 no longer has it), on the client we run:

    - the Hub's repository limits are checked before anything is sent: a warning past 100k files, past
      10k entries in one folder or past 20 GB in one file; a file past 50 GB fails the task, naming it;
    - the repo is created if missing (``private``);
    - files the head already has are neither sent nor committed again; the others are pre-uploaded (LFS
      content straight to the Hub's storage) and committed in batches within the Hub's per-commit limits
      (25k LFS files, 1 GB of regular files), each commit made exactly once;
    - a task killed at any point and retried sends only what is left: what was committed is at the head,
      LFS content uploaded but not committed is already in the Hub's storage (not sent again);
    - progress (files and bytes done of the total, throughput) goes to the task log every 10 seconds.

    Nothing is written to the folder (it may be read-only): the Hub is the resume state. A retried try
    reads the files once to compare them with the head (sha256 of LFS files, git oid of regular ones).

    ``repo_type`` is required, as in ``upload_large_folder``: a large upload to the wrong repo type would
    have to be redone. Unlike :class:`HfUploadFolderOperator` there is no ``path_in_repo`` (lay the folder
    out as the repo), no commit message (several commits), no deletion and no pull request.

    Example::

        HfUploadLargeFolderOperator(
            task_id="publish_corpus",
            repo_id="acme/web-corpus",
            repo_type="dataset",
            folder_path="/data/corpus/{{ dag_run.run_after | ds }}",
            ignore_patterns=["*.tmp"],
            private=True,
            retries=3,
        )

    :param repo_id: ``namespace/name``; a bare ``name`` uses the connection's namespace. (templated)
    :param folder_path: local folder to upload; its layout is the repo's. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``; required. (templated)
    :param revision: branch to commit to (default ``main``). (templated)
    :param allow_patterns: only upload files matching one of these globs. (templated)
    :param ignore_patterns: skip files matching these globs. (templated)
    :param num_workers: files hashed and uploaded at a time (default: the CPU count minus 2, at least 2).
    :param private: visibility of the repo if it is created. (templated)
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: ``{"repo_id", "head_oid", "commits", "files", "bytes"}``: the head once every file is there,
        the commits this try made (oldest first; those of a killed earlier try are in the repo's history,
        not here), and the files and bytes those commits added.
    """

    template_fields: Sequence[str] = hub_template_fields(
        "repo_id", "folder_path", "repo_type", "revision", "allow_patterns", "ignore_patterns", "private"
    )
    #: Seconds between progress lines in the task log.
    progress_interval = 10.0

    def __init__(
        self,
        *,
        repo_id: str,
        folder_path: str | os.PathLike[str],
        repo_type: str,
        revision: str | None = None,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        num_workers: int | None = None,
        private: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, repo_type=repo_type, **kwargs)
        self.folder_path = folder_path
        self.revision = revision
        self.allow_patterns = allow_patterns
        self.ignore_patterns = ignore_patterns
        self.num_workers = num_workers
        self.private = private

    def execute(self, context: Context) -> dict[str, Any]:
        from huggingface_hub import CommitOperationAdd

        if self.repo_type in (None, ""):
            raise ValueError(
                f"repo_type is required (model, dataset or space); got {self.repo_type!r}: a large upload "
                "to the wrong repo type would have to be redone"
            )
        check_repo_type(self.repo_type)
        check_revision(self.revision)
        if self.private is not None:
            check_bool(self.private, "private")
        workers = check_whole_number(self.num_workers, "num_workers", optional=True) or max(
            2, (os.cpu_count() or 4) - 2
        )
        files = folder_files(self.folder_path, self.allow_patterns, self.ignore_patterns)
        sizes = {rel: path.stat().st_size for rel, path in files.items()}
        for warning in repository_limit_warnings(sizes):
            self.log.warning("Repository limits: %s", warning)
        repo_id, repo_type = self._checked_repo()
        self.log.info(
            "Uploading %d file(s), %s, from %s to %s %s with %d workers",
            len(files),
            human_bytes(sum(sizes.values())),
            self.folder_path,
            repo_type,
            repo_id,
            workers,
        )

        self.hook.create_repo(repo_id, repo_type=repo_type, private=self.private, exist_ok=True)
        additions = [
            CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(path)) for rel, path in files.items()
        ]
        outcome = self.hook.upload_in_commits(
            repo_id,
            additions,
            repo_type=repo_type,
            revision=self.revision,
            num_workers=workers,
            progress_interval=self.progress_interval,
            logger=self.log,
        )
        self.lineage.wrote_repo(self.hook.endpoint, repo_type, repo_id, outcome.head_oid)
        repo_url = self.hook.repo_url(repo_id, repo_type)
        HfRepoLink.persist(context, repo_url)
        HfCommitLink.persist(context, f"{repo_url}/commit/{outcome.head_oid}")
        annotate_outlets(self, context, repo_id, repo_type, {"revision": outcome.head_oid})
        self.log.info(
            "%s %s is at %s with every file: %d commit(s) by this try, %d file(s) already there",
            repo_type,
            repo_id,
            outcome.head_oid,
            len(outcome.commits),
            outcome.files_unchanged,
        )
        return {
            "repo_id": repo_id,
            "head_oid": outcome.head_oid,
            "commits": outcome.commits,
            "files": outcome.files_committed,
            "bytes": outcome.bytes_committed,
        }


# -- create_commit ---------------------------------------------------------------------------------------
_OPERATION_FIELDS = {
    "add": ({"op", "path_in_repo"}, {"local_path", "content"}),
    "delete": ({"op", "path_in_repo"}, {"is_folder"}),
    "copy": ({"op", "src_path_in_repo", "path_in_repo"}, {"src_revision"}),
}


def parse_operations(
    operations: Any, local_root: str | os.PathLike[str] | None = None
) -> list[CommitOperationAdd | CommitOperationDelete | CommitOperationCopy]:
    """Validate plain-dict operations (see :class:`HfCreateCommitOperator`) and build client operations.

    Every entry is validated before any is built, so a bad entry fails the task before any upload.

    :raises ValueError: naming the entry index and the field, e.g. ``operations[2].local_path: ...``.
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete

    if isinstance(operations, str):
        # A template renders to a string unless the DAG sets render_template_as_native_obj=True.
        try:
            operations = json.loads(operations)
        except ValueError:
            raise ValueError(
                f"operations must be a list of dicts (or its JSON); got {operations!r:.200}"
            ) from None
    if not isinstance(operations, (list, tuple)) or not operations:
        raise ValueError(f"operations must be a non-empty list of dicts; got {operations!r:.200}")
    root = os.path.realpath(local_root) if local_root else None
    checked: list[dict[str, Any]] = []
    for index, entry in enumerate(operations):
        where = f"operations[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be a dict like {{'op': 'add', ...}}; got {entry!r:.200}")
        kind = entry.get("op")
        if kind not in _OPERATION_FIELDS:
            raise ValueError(f"{where}.op must be one of 'add', 'delete', 'copy'; got {kind!r}")
        required, optional = _OPERATION_FIELDS[kind]
        unknown = set(entry) - required - optional
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {sorted(unknown)} for op {kind!r}")
        missing = required - set(entry)
        if missing:
            raise ValueError(f"{where}: missing field(s) {sorted(missing)} for op {kind!r}")
        item: dict[str, Any] = {"op": kind}
        if kind == "delete":
            is_folder = entry.get("is_folder", "auto")
            if is_folder not in (True, False, "auto"):
                raise ValueError(f"{where}.is_folder must be true, false or 'auto'; got {is_folder!r}")
            raw = entry["path_in_repo"]
            item["path_in_repo"] = check_path_in_repo(raw, f"{where}.path_in_repo")
            item["is_folder"] = str(raw).endswith("/") if is_folder == "auto" else is_folder
        elif kind == "copy":
            item["path_in_repo"] = check_path_in_repo(entry["path_in_repo"], f"{where}.path_in_repo")
            item["src_path_in_repo"] = check_path_in_repo(
                entry["src_path_in_repo"], f"{where}.src_path_in_repo"
            )
            src_revision = entry.get("src_revision")
            if src_revision is not None and (not isinstance(src_revision, str) or not src_revision.strip()):
                raise ValueError(f"{where}.src_revision must be a non-empty string; got {src_revision!r}")
            item["src_revision"] = src_revision
        else:
            item["path_in_repo"] = check_path_in_repo(entry["path_in_repo"], f"{where}.path_in_repo")
            has_path, has_content = entry.get("local_path") is not None, "content" in entry
            if has_path == has_content:
                raise ValueError(f"{where}: give exactly one of 'local_path' or 'content' for op 'add'")
            if has_content:
                content = entry["content"]
                if not isinstance(content, (str, bytes)):
                    raise ValueError(f"{where}.content must be str or bytes; got {type(content).__name__}")
                item["content"] = content.encode() if isinstance(content, str) else content
            else:
                local_path = os.path.realpath(os.path.expanduser(str(entry["local_path"])))
                if root is not None and os.path.commonpath([root, local_path]) != root:
                    raise ValueError(
                        f"{where}.local_path {entry['local_path']!r} is outside local_root {str(local_root)!r}"
                    )
                if not os.path.isfile(local_path):
                    raise ValueError(f"{where}.local_path {entry['local_path']!r} is not an existing file")
                item["local_path"] = local_path
        checked.append(item)

    built: list[CommitOperationAdd | CommitOperationDelete | CommitOperationCopy] = []
    for item in checked:
        if item["op"] == "add":
            source = item.get("local_path") or item["content"]
            built.append(CommitOperationAdd(path_in_repo=item["path_in_repo"], path_or_fileobj=source))
        elif item["op"] == "delete":
            path = item["path_in_repo"] + ("/" if item["is_folder"] else "")
            built.append(CommitOperationDelete(path_in_repo=path, is_folder=item["is_folder"]))
        else:
            built.append(
                CommitOperationCopy(
                    src_path_in_repo=item["src_path_in_repo"],
                    path_in_repo=item["path_in_repo"],
                    src_revision=item["src_revision"],
                )
            )
    return built


class HfCreateCommitOperator(_HfRepoOperator):
    """Make one commit from a list of plain-dict operations.

    ``operations`` entries (templated, so they may come from XCom):

    - ``{"op": "add", "path_in_repo": "data/x.csv", "local_path": "/tmp/x.csv"}`` or with
      ``"content": "text or bytes"`` instead of ``local_path``;
    - ``{"op": "delete", "path_in_repo": "old.txt"}``; a folder with ``"is_folder": True`` (or a trailing ``/``);
    - ``{"op": "copy", "src_path_in_repo": "a.bin", "path_in_repo": "b.bin", "src_revision": "v1"}``.

    All entries are validated before anything is uploaded; errors name the entry index and field.
    Operations whose result is already at the head are skipped; when all are, no commit is made.

    Optimistic concurrency: with ``parent_commit`` the commit is made only on top of that commit. If the
    branch head moved, ``on_head_moved`` decides:

    - ``"fail"`` (default): raise :class:`~airflow_provider_hub.exceptions.HfHubConflictError`;
    - ``"rebase"``: if none of the operations' paths (nor a same-branch copy's source) differ between
      ``parent_commit`` and the head, commit on top of the head; otherwise raise the conflict error.

    Example::

        HfCreateCommitOperator(
            task_id="promote",
            repo_id="acme/sentiment",
            operations=[
                {"op": "copy", "src_path_in_repo": "checkpoints/best.safetensors", "path_in_repo": "model.safetensors"},
                {"op": "delete", "path_in_repo": "checkpoints/", "is_folder": True},
                {"op": "add", "path_in_repo": "VERSION", "content": "{{ dag_run.run_after | ds }}"},
            ],
            commit_message="Promote best checkpoint",
        )

    :param repo_id: ``namespace/name``. (templated)
    :param operations: list of operation dicts. (templated)
    :param commit_message: commit title. (templated)
    :param commit_description: commit description. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param revision: branch to commit to (default ``main``). (templated)
    :param parent_commit: commit the operations were prepared against. (templated)
    :param on_head_moved: ``"fail"`` or ``"rebase"``, see above.
    :param local_root: when set, every ``local_path`` must be inside this folder. (templated)
    :param create_pr: open a pull request instead of committing to the branch.
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: same keys as :class:`HfUploadFolderOperator` (plus ``files_copied``, ``rebased``).
    """

    template_fields: Sequence[str] = hub_template_fields(
        "repo_id",
        "operations",
        "commit_message",
        "commit_description",
        "repo_type",
        "revision",
        "parent_commit",
        "local_root",
    )
    template_fields_renderers = {"operations": "json"}

    def __init__(
        self,
        *,
        repo_id: str,
        operations: list[dict[str, Any]] | str,
        commit_message: str,
        commit_description: str | None = None,
        repo_type: str = "model",
        revision: str | None = None,
        parent_commit: str | None = None,
        on_head_moved: str = "fail",
        local_root: str | None = None,
        create_pr: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, repo_type=repo_type, **kwargs)
        if on_head_moved not in ON_HEAD_MOVED_POLICIES:
            raise ValueError(f"on_head_moved must be 'fail' or 'rebase'; got {on_head_moved!r}")
        self.operations = operations
        self.commit_message = commit_message
        self.commit_description = commit_description
        self.revision = revision
        self.parent_commit = parent_commit
        self.on_head_moved = on_head_moved
        self.local_root = local_root
        self.create_pr = check_bool(create_pr, "create_pr")

    def execute(self, context: Context) -> dict[str, Any]:
        check_commit_message(self.commit_message)
        check_revision(self.revision)
        parent_commit = check_parent_commit(self.parent_commit)
        operations = parse_operations(self.operations, self.local_root)
        repo_id, repo_type = self._checked_repo()
        outcome = self.hook.commit_exactly_once(
            repo_id,
            operations,
            commit_message=self.commit_message,
            commit_description=self.commit_description,
            repo_type=repo_type,
            revision=self.revision,
            create_pr=self.create_pr,
            parent_commit=parent_commit,
            on_head_moved=self.on_head_moved,
            logger=self.log,
        )
        return publish_commit_outcome(self, context, outcome)


class HfCreateTagOperator(_HfRepoOperator):
    """Tag a revision (a release).

    With ``exist_ok=False`` an existing tag fails the task with a clear error. With ``exist_ok=True`` a tag
    already on the same commit succeeds (``created=False``); a tag on another commit still fails, since
    moving a release tag silently would be worse.

    Example::

        HfCreateTagOperator(
            task_id="tag",
            repo_id="acme/sentiment",
            tag="v{{ dag_run.run_after | ds_nodash }}",
            revision="{{ ti.xcom_pull('publish')['commit_oid'] }}",
        )

    :param repo_id: ``namespace/name``. (templated)
    :param tag: tag name. (templated)
    :param revision: branch, tag or commit to tag (default ``main``). (templated)
    :param tag_message: annotation message. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param exist_ok: accept an existing tag on the same commit.
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: ``{"repo_id", "repo_type", "repo_url", "tag", "commit_oid", "created"}``.
    """

    template_fields: Sequence[str] = hub_template_fields(
        "repo_id", "tag", "revision", "tag_message", "repo_type"
    )

    def __init__(
        self,
        *,
        repo_id: str,
        tag: str,
        revision: str | None = None,
        tag_message: str | None = None,
        repo_type: str = "model",
        exist_ok: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, repo_type=repo_type, **kwargs)
        self.tag = tag
        self.revision = revision
        self.tag_message = tag_message
        self.exist_ok = exist_ok

    def execute(self, context: Context) -> dict[str, Any]:
        tag = self.tag
        if not isinstance(tag, str) or not tag.strip() or any(c.isspace() for c in tag) or ".." in tag:
            raise ValueError(f"tag must be a git tag name without spaces or '..'; got {tag!r}")
        check_revision(self.revision)
        repo_id, repo_type = self._checked_repo()
        target = self.hook.repo_head(repo_id, repo_type=repo_type, revision=self.revision)
        created = False
        existing = self.hook.tag_target(repo_id, tag, repo_type=repo_type)
        if existing is None:
            try:
                self.hook.create_tag(
                    repo_id, tag, repo_type=repo_type, revision=target, tag_message=self.tag_message
                )
                created = True
            except Exception as exc:
                # 409: created meanwhile (by a concurrent run or a retried request that did land).
                if (
                    getattr(exc, "status_code", None) != 409
                    and getattr(getattr(exc, "response", None), "status_code", None) != 409
                ):
                    raise
                existing = self.hook.tag_target(repo_id, tag, repo_type=repo_type)
        if not created:
            if existing != target:
                raise HfHubConflictError(
                    f"Tag {tag!r} of {repo_type} {repo_id} already exists on commit {existing}, not on "
                    f"{self.revision or 'main'} ({target})",
                    status_code=409,
                )
            if not self.exist_ok:
                raise HfHubConflictError(
                    f"Tag {tag!r} of {repo_type} {repo_id} already exists (on {existing}); "
                    "set exist_ok=True to accept an existing tag on the same commit",
                    status_code=409,
                )
            self.log.info("Tag %s already on %s: nothing to do", tag, target)
        repo_url = self.hook.repo_url(repo_id, repo_type)
        self.lineage.wrote_repo(self.hook.endpoint, repo_type, repo_id, target)
        HfRepoLink.persist(context, repo_url)
        HfCommitLink.persist(context, f"{repo_url}/commit/{target}")
        annotate_outlets(self, context, repo_id, repo_type, {"revision": target, "tag": tag})
        return {
            "repo_id": repo_id,
            "repo_type": repo_type,
            "repo_url": repo_url,
            "tag": tag,
            "commit_oid": target,
            "created": created,
        }


# -- repo lifecycle and hygiene --------------------------------------------------------------------------


class _HfRepoSettingOperator(_HfRepoOperator):
    """Lifecycle operators: they change a repo (or a ref) but make no commit of their own."""

    operator_extra_links: Collection[BaseOperatorLink] = (HfRepoLink(),)


class HfUpdateRepoSettingsOperator(_HfRepoSettingOperator):
    """Make a repo public or private, and gated or not (at a release, say); ``None`` leaves a setting as it is.

    Example::

        HfUpdateRepoSettingsOperator(task_id="publish", repo_id="acme/sentiment", private=False, gated="auto")

    :param repo_id: ``namespace/name``. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param private: ``True`` or ``False``.
    :param gated: ``False``, ``"auto"`` or ``"manual"``. (templated)
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    :return: ``{"repo_id", "repo_type", "private", "gated"}`` as the repo now is.
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "repo_type", "gated")

    def __init__(
        self, *, repo_id: str, private: bool | None = None, gated: str | bool | None = None, **kwargs: Any
    ) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.private = private
        self.gated = gated

    def execute(self, context: Context) -> dict[str, Any]:
        if self.private is not None:
            check_bool(self.private, "private")
        if self.gated not in (None, False, "auto", "manual"):
            raise ValueError(f"gated must be False, 'auto' or 'manual'; got {self.gated!r}")
        if self.private is None and self.gated is None:
            raise ValueError(f"{self.task_id}: nothing to change: pass private and/or gated")
        repo_id, repo_type = self._checked_repo()
        self.hook.update_repo_settings(repo_id, repo_type=repo_type, private=self.private, gated=self.gated)
        info = self.hook.call("repo_info", repo_id, repo_type=repo_type, subject=f"{repo_type} {repo_id}")
        HfRepoLink.persist(context, self.hook.repo_url(repo_id, repo_type))
        return {"repo_id": repo_id, "repo_type": repo_type, "private": info.private, "gated": info.gated}


class HfCreateBranchOperator(_HfRepoSettingOperator):
    """Create a branch at a revision (default ``main``); an existing branch is fine unless ``exist_ok=False``.

    Example::

        HfCreateBranchOperator(task_id="branch", repo_id="acme/sentiment", branch="release-{{ dag_run.run_after | ds }}")

    :param repo_id: ``namespace/name``. (templated)
    :param branch: the branch's name. (templated)
    :param revision: where it starts: a branch, tag or commit. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param exist_ok: succeed when the branch exists already.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    :return: ``{"repo_id", "branch", "commit_oid"}``.
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "branch", "revision", "repo_type")

    def __init__(
        self, *, repo_id: str, branch: str, revision: str | None = None, exist_ok: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.branch = branch
        self.revision = revision
        self.exist_ok = exist_ok

    def execute(self, context: Context) -> dict[str, Any]:
        check_branch(self.branch)
        check_revision(self.revision)
        repo_id, repo_type = self._checked_repo()
        head = self.hook.create_branch(
            repo_id,
            self.branch,
            revision=self.revision,
            repo_type=repo_type,
            exist_ok=check_bool(self.exist_ok, "exist_ok"),
        )
        HfRepoLink.persist(context, self.hook.repo_url(repo_id, repo_type))
        return {"repo_id": repo_id, "branch": self.branch, "commit_oid": head}


class HfDeleteBranchOperator(_HfRepoSettingOperator):
    """Delete a branch; a missing one is fine unless ``missing_ok=False``.

    Example::

        HfDeleteBranchOperator(task_id="drop_branch", repo_id="acme/sentiment", branch="experiment")

    :param repo_id: ``namespace/name``. (templated)
    :param branch: the branch's name (not ``main``). (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param missing_ok: succeed when the branch does not exist.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    :return: ``{"repo_id", "branch", "deleted"}`` (``deleted`` is ``False`` for a missing branch).
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "branch", "repo_type")

    def __init__(self, *, repo_id: str, branch: str, missing_ok: bool = True, **kwargs: Any) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.branch = branch
        self.missing_ok = missing_ok

    def execute(self, context: Context) -> dict[str, Any]:
        check_branch(self.branch)
        if self.branch == "main":
            raise ValueError("branch='main' cannot be deleted: the Hub keeps every repo's main branch")
        repo_id, repo_type = self._checked_repo()
        deleted = self.hook.delete_branch(
            repo_id, self.branch, repo_type=repo_type, missing_ok=check_bool(self.missing_ok, "missing_ok")
        )
        HfRepoLink.persist(context, self.hook.repo_url(repo_id, repo_type))
        return {"repo_id": repo_id, "branch": self.branch, "deleted": deleted}


class HfDeleteRepoOperator(_HfRepoSettingOperator):
    """Delete a repo, for good; a missing one is fine unless ``missing_ok=False``.

    Example::

        HfDeleteRepoOperator(task_id="drop_scratch", repo_id="acme/scratch-{{ dag_run.run_after | ds_nodash }}")

    :param repo_id: ``namespace/name``. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param missing_ok: succeed when the repo does not exist.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    :return: ``{"repo_id", "repo_type", "deleted"}``.
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "repo_type")
    operator_extra_links = ()  # a deleted repo has no page

    def __init__(self, *, repo_id: str, missing_ok: bool = True, **kwargs: Any) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.missing_ok = missing_ok

    def execute(self, context: Context) -> dict[str, Any]:
        repo_id, repo_type = self._checked_repo()
        deleted = self.hook.delete_repo(
            repo_id, repo_type=repo_type, missing_ok=check_bool(self.missing_ok, "missing_ok")
        )
        return {"repo_id": repo_id, "repo_type": repo_type, "deleted": deleted}


class HfSquashHistoryOperator(_HfRepoSettingOperator):
    """Squash a branch's whole history into one commit holding its current files.

    **This destroys the branch's history**: every earlier commit of the branch is gone from it, and with
    it the ability to check out, diff or revert to them (tags keep pointing at their commits, as on the
    Hub). Nightly snapshots piling up thousands of commits are the use case (the Hub's client warns past
    500). Run it again and the history stays one commit.

    Example::

        HfSquashHistoryOperator(task_id="squash", repo_id="acme/reviews", repo_type="dataset",
                                commit_message="Snapshot {{ dag_run.run_after | ds }}")

    :param repo_id: ``namespace/name``. (templated)
    :param branch: the branch (default ``main``). (templated)
    :param commit_message: the one commit's message (default: the client's). (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    :return: ``{"repo_id", "branch", "head_oid"}``.
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "branch", "commit_message", "repo_type")
    operator_extra_links = (HfRepoLink(), HfCommitLink())

    def __init__(
        self, *, repo_id: str, branch: str = "main", commit_message: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.branch = branch
        self.commit_message = commit_message

    def execute(self, context: Context) -> dict[str, Any]:
        check_branch(self.branch)
        if self.commit_message is not None:
            check_commit_message(self.commit_message)
        repo_id, repo_type = self._checked_repo()
        head = self.hook.squash_history(
            repo_id, branch=self.branch, commit_message=self.commit_message, repo_type=repo_type
        )
        repo_url = self.hook.repo_url(repo_id, repo_type)
        self.lineage.wrote_repo(self.hook.endpoint, repo_type, repo_id, head)
        HfRepoLink.persist(context, repo_url)
        HfCommitLink.persist(context, f"{repo_url}/commit/{head}")
        self.log.info("History of %s@%s is one commit now: %s", repo_id, self.branch, head)
        return {"repo_id": repo_id, "branch": self.branch, "head_oid": head}


class HfDeleteLfsFilesOperator(_HfRepoSettingOperator):
    """Free a repo's LFS storage: permanently delete the LFS files no branch head or tag uses, by policy.

    Candidates are the repo's stored LFS objects that no file at the head of a branch or at a tag
    references, narrowed to those pushed before ``older_than`` and/or whose name matches ``patterns``. With
    ``dry_run`` (the default) nothing is deleted: the task reports what would be freed. Deleting rewrites
    the history that points to the objects (old revisions lose those files). Run it again and it finds
    nothing more to delete.

    Example::

        HfDeleteLfsFilesOperator(task_id="free_storage", repo_id="acme/reviews", repo_type="dataset",
                                 older_than=30, patterns=["snapshots/*.parquet"], dry_run=False)

    :param repo_id: ``namespace/name``. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param older_than: only objects pushed before this: a ``timedelta``, a number of days, or an ISO date.
        (templated)
    :param patterns: only objects whose (first) file name matches one of these globs. (templated)
    :param dry_run: report, delete nothing.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    :return: ``{"dry_run", "files", "bytes", "deleted"}``: how many objects match and their size, and how
        many were deleted (``0`` in a dry run).
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "repo_type", "older_than", "patterns")

    def __init__(
        self,
        *,
        repo_id: str,
        older_than: Any = None,
        patterns: list[str] | str | None = None,
        dry_run: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.older_than = older_than
        self.patterns = patterns
        # Not `self.dry_run`: BaseOperator has a dry_run() method.
        self.report_only = dry_run

    def execute(self, context: Context) -> dict[str, Any]:
        from huggingface_hub.utils import filter_repo_objects

        cutoff = cutoff_time(self.older_than)
        patterns = check_patterns(self.patterns, "patterns") or None
        dry_run = check_bool(self.report_only, "dry_run")
        repo_id, repo_type = self._checked_repo()
        kept = self.hook.referenced_lfs_objects(repo_id, repo_type=repo_type)
        unused = [f for f in self.hook.list_lfs_files(repo_id, repo_type=repo_type) if f.file_oid not in kept]
        old = [f for f in unused if cutoff is None or f.pushed_at < cutoff]
        doomed = list(filter_repo_objects(old, allow_patterns=patterns, key=lambda f: f.filename))
        size = sum(f.size for f in doomed)
        for lfs_file in doomed:
            self.log.info(
                "%s %s (%d bytes, pushed %s)",
                "Would delete" if dry_run else "Deleting",
                lfs_file.filename,
                lfs_file.size,
                lfs_file.pushed_at,
            )
        if doomed and not dry_run:
            self.hook.delete_lfs_files(repo_id, doomed, repo_type=repo_type)
        HfRepoLink.persist(context, self.hook.repo_url(repo_id, repo_type))
        return {
            "dry_run": dry_run,
            "files": len(doomed),
            "bytes": size,
            "deleted": 0 if dry_run else len(doomed),
        }


def check_branch(branch: Any, field_name: str = "branch") -> None:
    """A branch name: a non-empty string without spaces or ``..`` (``refs/heads/x`` is accepted too)."""
    if (
        not isinstance(branch, str)
        or not branch.strip()
        or any(c.isspace() for c in branch)
        or ".." in branch
    ):
        raise ValueError(f"{field_name} must be a branch name without spaces or '..'; got {branch!r}")


def cutoff_time(older_than: Any) -> Any:
    """``older_than`` (a ``timedelta``, a number of days, an ISO date or datetime) as an aware datetime."""
    import datetime as dt

    import pendulum

    if older_than is None:
        return None
    if isinstance(older_than, dt.timedelta):
        return pendulum.now("UTC") - older_than
    if isinstance(older_than, (int, float)) and not isinstance(older_than, bool) and older_than >= 0:
        return pendulum.now("UTC") - dt.timedelta(days=float(older_than))
    if isinstance(older_than, str):
        text = older_than.strip()
        try:
            return (
                pendulum.now("UTC") - dt.timedelta(days=float(text))
                if text.replace(".", "", 1).isdigit()
                else pendulum.parse(text, tz="UTC")
            )
        except (ValueError, pendulum.parsing.exceptions.ParserError):
            pass
    raise ValueError(f"older_than must be a timedelta, a number of days or an ISO date; got {older_than!r}")


# -- downloads -------------------------------------------------------------------------------------------


class HfDownloadOperator(_HfRepoOperator):
    """Download a repo snapshot, pinned to one commit, to a local folder or any object storage.

    The revision (a branch, tag or commit; default ``main``) is resolved to a commit sha on the first try and
    every retry of the same task instance downloads that same commit, even if the branch moved meanwhile:
    the pin is a small marker kept at the destination under ``.cache/huggingface/airflow/`` (keyed by the
    task instance, so a later DAG run resolves the revision anew; deleted once the task succeeds). A file
    already at the destination with the content of the commit's file (same size and hash) is not copied
    again, so a retry copies only what its killed try had not; a file is downloaded beside the destination and
    renamed into place (local folders) or published once its upload completed (object stores), so a partial
    file is never left under its name. Files are downloaded with ``huggingface_hub`` and renamed into place (a local
    folder, two at a time) or streamed there in chunks (an object store, one at a time): memory stays flat,
    temporary disk use is bounded by the largest files in flight.

    ``destination`` is a local folder (an absolute path or ``file://...``) or any URI Airflow's
    ``ObjectStoragePath`` supports (``s3://bucket/prefix`` with the Amazon provider and ``s3fs``,
    ``gs://...``, ...), with ``storage_conn_id`` as the object storage's connection.

    Example::

        HfDownloadOperator(
            task_id="fetch_model",
            repo_id="acme/sentiment",
            revision="v1.2",
            allow_patterns=["*.safetensors", "*.json"],
            destination="s3://models/sentiment/{{ dag_run.run_after | ds }}",
            storage_conn_id="aws_default",
        )

    :param repo_id: ``namespace/name``; a bare ``name`` uses the connection's namespace. (templated)
    :param destination: a local folder or an object-storage URI. (templated)
    :param revision: branch, tag or commit (default ``main``). (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param allow_patterns: only download files matching one of these globs (relative to ``subfolder``).
        (templated)
    :param ignore_patterns: skip files matching these globs. (templated)
    :param subfolder: download only this folder of the repo; files land at the destination relative to it
        (``subfolder="onnx"`` puts ``onnx/model.onnx`` at ``{destination}/model.onnx``). (templated)
    :param storage_conn_id: the object storage's connection (e.g. an ``aws`` connection for ``s3://``);
        ``None`` is the storage's default. (templated)
    :param progress_interval: seconds between progress lines in the task log.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    :return: ``{"repo_id", "repo_type", "revision", "commit_oid", "destination", "files", "bytes",
        "files_unchanged", "bytes_unchanged"}``: ``files`` and ``bytes`` count the whole snapshot copied,
        ``*_unchanged`` what was at the destination already and was not copied again.
    """

    template_fields: Sequence[str] = hub_template_fields(
        "repo_id",
        "destination",
        "revision",
        "repo_type",
        "allow_patterns",
        "ignore_patterns",
        "subfolder",
        "storage_conn_id",
    )

    def __init__(
        self,
        *,
        repo_id: str,
        destination: str | os.PathLike[str],
        revision: str | None = None,
        repo_type: str = "model",
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        subfolder: str | None = None,
        storage_conn_id: str | None = None,
        progress_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, repo_type=repo_type, **kwargs)
        self.destination = destination
        self.revision = revision
        self.allow_patterns = allow_patterns
        self.ignore_patterns = ignore_patterns
        self.subfolder = subfolder
        self.storage_conn_id = storage_conn_id
        self.progress_interval = progress_interval

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_hub.operators._snapshot import SnapshotCopy, StoragePathDestination

        destination = check_destination(self.destination)
        if self.storage_conn_id is not None and (
            not isinstance(self.storage_conn_id, str) or not self.storage_conn_id.strip()
        ):
            raise ValueError(f"storage_conn_id must be a connection id or None; got {self.storage_conn_id!r}")
        if self.storage_conn_id and "://" not in destination:
            raise ValueError(
                f"storage_conn_id={self.storage_conn_id!r} is for object storage, but destination "
                f"{destination!r} is a local folder"
            )
        check_revision(self.revision)
        subfolder = check_path_in_repo(self.subfolder, "subfolder", allow_root=True)
        allow_patterns = check_patterns(self.allow_patterns, "allow_patterns")
        ignore_patterns = check_patterns(self.ignore_patterns, "ignore_patterns")
        repo_id, repo_type = self._checked_repo()

        outcome = SnapshotCopy(
            self.hook,
            repo_id,
            StoragePathDestination(destination, conn_id=self.storage_conn_id),
            pin_key=task_instance_key(context["ti"]),
            repo_type=repo_type,
            revision=self.revision,
            subfolder=subfolder,
            allow_patterns=allow_patterns,
            ignore_patterns=ignore_patterns,
            progress_interval=self.progress_interval,
            logger=self.log,
        ).run()
        repo_url = self.hook.repo_url(repo_id, repo_type)
        self.lineage.read_repo(self.hook.endpoint, repo_type, repo_id, outcome.commit_oid)
        self.lineage.wrote_storage(destination)
        HfRepoLink.persist(context, repo_url)
        HfCommitLink.persist(context, f"{repo_url}/commit/{outcome.commit_oid}")
        return {
            "repo_id": repo_id,
            "repo_type": repo_type,
            "revision": self.revision or "main",
            "commit_oid": outcome.commit_oid,
            "destination": destination,
            "files": outcome.files,
            "bytes": outcome.bytes,
            "files_unchanged": outcome.files_unchanged,
            "bytes_unchanged": outcome.bytes_unchanged,
        }


def check_destination(destination: Any, field_name: str = "destination") -> str:
    """A local folder (absolute, ``~`` expanded) or an object-storage URI of a protocol fsspec knows."""
    from fsspec.registry import known_implementations, registry

    value = os.fspath(destination) if isinstance(destination, os.PathLike) else destination
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"{field_name} must be a local folder or an object-storage URI like 's3://bucket/prefix'; "
            f"got {destination!r}"
        )
    scheme, separator, rest = value.partition("://")
    if separator:
        if scheme not in known_implementations and scheme not in registry:
            raise ValueError(f"{field_name} {value!r}: no filesystem handles the protocol {scheme!r}")
        if scheme != "file" and not rest.strip("/"):
            raise ValueError(f"{field_name} {value!r} names no bucket or container")
        return value
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise ValueError(
            f"{field_name} {value!r} is a relative path: give an absolute folder (a task's working "
            "directory is not one you choose) or a URI"
        )
    if path.exists() and not path.is_dir():
        raise ValueError(f"{field_name} {value!r} is a file, not a folder")
    return str(path)
