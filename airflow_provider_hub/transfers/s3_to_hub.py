"""Copy S3 objects to a Hub repo in one commit."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.links import HfCommitLink, HfRepoLink
from airflow_provider_hub.operators.repo import publish_commit_outcome
from airflow_provider_hub.transfers._s3 import HubS3TransferOperator
from airflow_provider_hub.utils.checks import (
    DEFAULT_CONN_ID,
    check_bool,
    check_commit_message,
    check_path_in_repo,
    check_repo_type,
    check_revision,
)
from airflow_provider_hub.utils.progress import ProgressLog

if TYPE_CHECKING:
    from airflow.sdk import Context
    from huggingface_hub import CommitOperationAdd

    from airflow_provider_hub.hooks.hash_cache import HashCache, LocalFileAddition, ObjectStat

DEFAULT_MAX_DISK_BYTES = 5 * 1024**3


class S3ToHfHubOperator(HubS3TransferOperator):
    """Copy an S3 prefix, or a list of keys, to a Hub repo as ONE commit.

    Objects are streamed to a temporary folder (never held in memory) in batches of at most
    ``max_disk_bytes``. Each batch is pre-uploaded (LFS objects go to the Hub's storage right away) and
    its LFS files are removed from disk before the next batch is downloaded; the commit that makes all
    files visible is made once, at the end. Small (non-LFS) files travel inside the commit itself, so they
    stay on disk until then and count towards ``max_disk_bytes``. Files already on the Hub with the same
    content are not committed again, and a re-run with nothing changed makes no commit.

    With ``hash_cache`` (the default) the content digests of the objects are remembered between runs (under
    ``HF_HOME``, keyed by bucket, key, size, ETag and LastModified): an object unchanged since the last run
    whose content the head already has is not downloaded again (see
    :mod:`airflow_provider_hub.hooks.hash_cache`).

    The repo path of an object is its key without ``s3_prefix``, under ``path_in_repo``:
    ``s3://bucket/exports/2026/a.parquet`` with ``s3_prefix="exports/"`` and ``path_in_repo="data"`` becomes
    ``data/2026/a.parquet``.

    Example::

        S3ToHfHubOperator(
            task_id="publish_export",
            s3_bucket="warehouse",
            s3_prefix="exports/{{ dag_run.run_after | ds }}/",
            repo_id="acme/reviews",
            repo_type="dataset",
            path_in_repo="data/{{ dag_run.run_after | ds }}",
            outlets=[hf_asset("acme/reviews", "dataset")],
        )

    :param s3_bucket: bucket name. (templated)
    :param s3_prefix: copy every object under this prefix; also stripped from the keys of ``s3_keys``. (templated)
    :param s3_keys: copy these keys instead of a whole prefix. (templated)
    :param repo_id: ``namespace/name``. (templated)
    :param path_in_repo: folder inside the repo (default: the root). (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param revision: branch to commit to (default ``main``). (templated)
    :param commit_message: commit title. (templated)
    :param commit_description: commit description. (templated)
    :param create_pr: open a pull request instead of committing to the branch.
    :param create_repo: create the repo first if it does not exist.
    :param private: visibility of a repo created by ``create_repo``.
    :param max_disk_bytes: bound on the bytes kept in the temporary folder at any time; an object larger
        than this fails the task before anything is downloaded.
    :param hash_cache: remember the objects' digests between runs so unchanged objects are not downloaded
        again; ``False`` downloads and hashes every object on every run.
    :param aws_conn_id: the AWS connection.
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: same keys as :class:`~airflow_provider_hub.operators.repo.HfUploadFolderOperator`, plus
        ``s3_objects``.
    """

    template_fields: Sequence[str] = (
        "s3_bucket",
        "s3_prefix",
        "s3_keys",
        "repo_id",
        "path_in_repo",
        "repo_type",
        "revision",
        "commit_message",
        "commit_description",
        "aws_conn_id",
        "hf_conn_id",
    )
    operator_extra_links = (HfRepoLink(), HfCommitLink())

    def __init__(
        self,
        *,
        s3_bucket: str,
        repo_id: str,
        s3_prefix: str | None = None,
        s3_keys: list[str] | None = None,
        path_in_repo: str | None = None,
        repo_type: str = "model",
        revision: str | None = None,
        commit_message: str = "Upload from S3 with Airflow",
        commit_description: str | None = None,
        create_pr: bool = False,
        create_repo: bool = False,
        private: bool | None = None,
        max_disk_bytes: int = DEFAULT_MAX_DISK_BYTES,
        hash_cache: bool = True,
        progress_interval: float = 10.0,
        aws_conn_id: str | None = "aws_default",
        hf_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(hf_conn_id=hf_conn_id, **kwargs)
        self.s3_bucket = s3_bucket
        self.s3_prefix = s3_prefix
        self.s3_keys = s3_keys
        self.repo_id = repo_id
        self.path_in_repo = path_in_repo
        self.repo_type = repo_type
        self.revision = revision
        self.commit_message = commit_message
        self.commit_description = commit_description
        self.create_pr = check_bool(create_pr, "create_pr")
        self.create_repo = check_bool(create_repo, "create_repo")
        self.private = private
        self.max_disk_bytes = max_disk_bytes
        self.hash_cache = check_bool(hash_cache, "hash_cache")
        self.progress_interval = progress_interval
        self.aws_conn_id = aws_conn_id

    def _validate(self) -> tuple[str, str, str]:
        self.check_s3_location()
        if self.s3_keys is None and self.s3_prefix is None:
            raise ValueError("give s3_prefix (copy a whole prefix) or s3_keys (a list of keys)")
        if self.s3_keys is not None and (
            not isinstance(self.s3_keys, (list, tuple))
            or not self.s3_keys
            or not all(isinstance(k, str) and k for k in self.s3_keys)
        ):
            raise ValueError(f"s3_keys must be a non-empty list of keys; got {self.s3_keys!r:.200}")
        if not isinstance(self.max_disk_bytes, int) or self.max_disk_bytes <= 0:
            raise ValueError(f"max_disk_bytes must be a positive integer; got {self.max_disk_bytes!r}")
        check_commit_message(self.commit_message)
        check_revision(self.revision)
        repo_type = check_repo_type(self.repo_type)
        repo_id = self.qualified_repo_id(self.repo_id)
        return repo_id, repo_type, check_path_in_repo(self.path_in_repo, allow_root=True)

    def _objects(self) -> Iterator[tuple[str, ObjectStat]]:
        """``(key, stat)`` of every object to copy, directory markers excluded."""
        from airflow_provider_hub.hooks.hash_cache import ObjectStat

        def stat(size: Any, etag: str, last_modified: Any) -> ObjectStat:
            seconds = int(last_modified.replace(microsecond=0).timestamp())
            return ObjectStat(int(size), etag, seconds * 10**9 + last_modified.microsecond * 1000)

        client = self.s3_hook.get_conn()
        if self.s3_keys is not None:
            for key in self.s3_keys:
                head = client.head_object(Bucket=self.s3_bucket, Key=key)
                yield key, stat(head["ContentLength"], head["ETag"], head["LastModified"])
            return
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.s3_bucket, Prefix=self.s3_prefix
        ):
            for item in page.get("Contents", []):
                if not item["Key"].endswith("/"):
                    yield item["Key"], stat(item["Size"], item["ETag"], item["LastModified"])

    def _repo_path(self, key: str, prefix: str) -> str:
        relative = key[len(self.s3_prefix) :] if self.s3_prefix and key.startswith(self.s3_prefix) else key
        path = f"{prefix}/{relative.lstrip('/')}" if prefix else relative
        return check_path_in_repo(path, f"repo path of s3://{self.s3_bucket}/{key}")

    def execute(self, context: Context) -> dict[str, Any]:
        from huggingface_hub import CommitOperationAdd

        from airflow_provider_hub.hooks.hash_cache import HashCache

        repo_id, repo_type, prefix = self._validate()
        objects = list(self._objects())
        if not objects:
            raise ValueError(f"Nothing to copy: no object in s3://{self.s3_bucket}/{self.s3_prefix or ''}")
        too_big = [(key, stat.size) for key, stat in objects if stat.size > self.max_disk_bytes]
        if too_big:
            key, size = too_big[0]
            raise ValueError(
                f"s3://{self.s3_bucket}/{key} is {size} bytes, more than max_disk_bytes={self.max_disk_bytes}"
            )
        paths = [self._repo_path(key, prefix) for key, _ in objects]
        if self.create_repo:
            self.hook.create_repo(repo_id, repo_type=repo_type, private=self.private, exist_ok=True)

        client = self.s3_hook.get_conn()
        cache = (
            HashCache.load_objects(self.s3_bucket, client.meta.endpoint_url, logger=self.log)
            if self.hash_cache
            else HashCache.disabled()
        )
        total = sum(stat.size for _, stat in objects)
        progress = ProgressLog("Copying from S3", len(objects), total, self.progress_interval, self.log)
        operations: list[CommitOperationAdd | LocalFileAddition] = []
        staged: dict[str, tuple[ObjectStat, CommitOperationAdd]] = {}  # downloaded this run, by key
        with tempfile.TemporaryDirectory(prefix="s3_to_hf_") as workdir:

            def download(key: str, index: int) -> str:
                local = os.path.join(workdir, f"{index:08d}")
                client.download_file(self.s3_bucket, key, local)
                return local

            disk_used = 0  # bytes of the files still in workdir
            batch: list[tuple[CommitOperationAdd, str]] = []

            def flush() -> int:
                """Pre-upload the batch; its LFS files are then on the Hub and leave the disk. Returns bytes freed."""
                self.hook.preupload(
                    repo_id,
                    [op for op, _ in batch],
                    repo_type=repo_type,
                    revision=self.revision,
                    create_pr=self.create_pr,
                )
                freed = 0
                for op, local in batch:
                    if op._upload_mode == "lfs":
                        os.remove(local)
                        freed += op.upload_info.size
                    progress.advance(1, op.upload_info.size)
                batch.clear()
                return freed

            for index, ((key, stat), path) in enumerate(zip(objects, paths, strict=True)):
                fetch = functools.partial(download, key, index)
                cached = cache.fetched_addition(key, path, stat, fetch)
                if cached is not None:
                    # Compared with the head by its recorded digests; downloaded only if the head lacks them.
                    operations.append(cached)
                    progress.advance(1, stat.size)
                    continue
                size = stat.size
                if disk_used + size > self.max_disk_bytes and batch:
                    disk_used -= flush()
                if disk_used + size > self.max_disk_bytes:
                    raise ValueError(
                        f"max_disk_bytes={self.max_disk_bytes} is too small: the small (non-LFS) files that travel "
                        f"inside the commit already take {disk_used} bytes"
                    )
                local = fetch()
                disk_used += size
                operation = CommitOperationAdd(path_in_repo=path, path_or_fileobj=local)
                operations.append(operation)
                staged[key] = (stat, operation)
                batch.append((operation, local))
            if batch:
                disk_used -= flush()
            progress.finish()
            for key in [key for key, _ in objects] if self.s3_keys else [self.s3_prefix or ""]:
                self.lineage.read_s3(self.s3_bucket, key)
            try:
                outcome = self.hook.commit_exactly_once(
                    repo_id,
                    operations,
                    commit_message=self.commit_message,
                    commit_description=self.commit_description,
                    repo_type=repo_type,
                    revision=self.revision,
                    create_pr=self.create_pr,
                    progress_interval=self.progress_interval,
                    logger=self.log,
                )
            finally:
                self._save_digests(cache, staged, operations)
        return {**publish_commit_outcome(self, context, outcome), "s3_objects": len(objects)}

    def _save_digests(
        self,
        cache: HashCache,
        staged: dict[str, tuple[ObjectStat, CommitOperationAdd]],
        operations: Sequence[CommitOperationAdd | LocalFileAddition],
    ) -> None:
        from airflow_provider_hub.hooks.hash_cache import FetchedAddition, object_entry

        cached = [op for op in operations if isinstance(op, FetchedAddition)]
        entries = {key: entry for key, (stat, op) in staged.items() if (entry := object_entry(stat, op))}
        entries.update({op.relative: entry for op in cached if (entry := op.entry()) is not None})
        if cache.path is not None:
            self.log.info(
                "Hash cache: %d of %d object(s) unchanged since the last run, compared with the head by their "
                "recorded digests (%d downloaded again: the head did not hold them)",
                len(cached),
                len(operations),
                sum(op.fetched for op in cached),
            )
        cache.save_objects(entries, logger=self.log)
