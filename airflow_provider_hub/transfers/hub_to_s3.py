"""Copy a Hub repo snapshot (or some of its files) to S3."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.links import HfRepoLink
from airflow_provider_hub.transfers._s3 import HubS3TransferOperator
from airflow_provider_hub.utils.checks import (
    DEFAULT_CONN_ID,
    check_patterns,
    check_repo_type,
    check_revision,
)
from airflow_provider_hub.utils.progress import ProgressLog

if TYPE_CHECKING:
    from airflow.sdk import Context


class HfHubToS3Operator(HubS3TransferOperator):
    """Copy the files of a repo at one revision to ``s3://{s3_bucket}/{s3_prefix}/<path in repo>``.

    The revision is resolved to a commit first, so every file comes from the same snapshot even if
    someone pushes meanwhile; the commit id is returned. Files go through a temporary folder one at a
    time (disk use is bounded by the largest file) and are streamed to S3.

    Example::

        HfHubToS3Operator(
            task_id="mirror",
            repo_id="acme/reviews",
            repo_type="dataset",
            revision="{{ (triggering_asset_events.values() | first | last).extra['revision'] }}",
            allow_patterns=["data/*.parquet"],
            s3_bucket="mirror",
            s3_prefix="hf/reviews",
        )

    :param repo_id: ``namespace/name``. (templated)
    :param s3_bucket: target bucket. (templated)
    :param s3_prefix: key prefix in the bucket (default: the bucket root). (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param revision: branch, tag or commit (default ``main``). (templated)
    :param allow_patterns: only copy files matching one of these globs. (templated)
    :param ignore_patterns: skip files matching these globs. (templated)
    :param replace: overwrite existing S3 objects (otherwise an existing key fails the task).
    :param aws_conn_id: the AWS connection.
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: ``{"repo_id", "repo_type", "revision", "commit_oid", "s3_bucket", "s3_prefix", "files_copied",
        "bytes_copied"}``.
    """

    template_fields: Sequence[str] = (
        "repo_id",
        "s3_bucket",
        "s3_prefix",
        "repo_type",
        "revision",
        "allow_patterns",
        "ignore_patterns",
        "aws_conn_id",
        "hf_conn_id",
    )
    operator_extra_links = (HfRepoLink(),)

    def __init__(
        self,
        *,
        repo_id: str,
        s3_bucket: str,
        s3_prefix: str = "",
        repo_type: str = "model",
        revision: str | None = None,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        replace: bool = True,
        progress_interval: float = 10.0,
        aws_conn_id: str | None = "aws_default",
        hf_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(hf_conn_id=hf_conn_id, **kwargs)
        self.repo_id = repo_id
        self.s3_bucket = s3_bucket
        self.s3_prefix = s3_prefix
        self.repo_type = repo_type
        self.revision = revision
        self.allow_patterns = allow_patterns
        self.ignore_patterns = ignore_patterns
        self.replace = replace
        self.progress_interval = progress_interval
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from huggingface_hub.utils import filter_repo_objects

        self.check_s3_location()
        check_revision(self.revision)
        allow_patterns = check_patterns(self.allow_patterns, "allow_patterns") or None
        ignore_patterns = check_patterns(self.ignore_patterns, "ignore_patterns") or None
        repo_type = check_repo_type(self.repo_type)
        repo_id = self.qualified_repo_id(self.repo_id)
        commit = self.hook.repo_head(repo_id, repo_type=repo_type, revision=self.revision)
        files = list(
            filter_repo_objects(
                self.hook.list_repo_tree(repo_id, repo_type=repo_type, revision=commit),
                allow_patterns=allow_patterns,
                ignore_patterns=ignore_patterns,
                key=lambda f: f.path,
            )
        )
        if not files:
            raise ValueError(
                f"No file of {repo_type} {repo_id}@{self.revision or 'main'} matches "
                f"allow_patterns={self.allow_patterns!r} ignore_patterns={self.ignore_patterns!r}"
            )
        HfRepoLink.persist(context, self.hook.repo_url(repo_id, repo_type))
        prefix = (self.s3_prefix or "").strip("/")
        progress = ProgressLog(
            "Copying to S3", len(files), sum(f.size for f in files), self.progress_interval, self.log
        )
        with tempfile.TemporaryDirectory(prefix="hf_to_s3_") as workdir:
            for repo_file in files:
                local = self.hook.download_file(
                    repo_id, repo_file.path, repo_type=repo_type, revision=commit, local_dir=workdir
                )
                key = f"{prefix}/{repo_file.path}" if prefix else repo_file.path
                self.s3_hook.load_file(local, key, bucket_name=self.s3_bucket, replace=self.replace)
                os.remove(local)
                progress.advance(1, repo_file.size)
        progress.finish()
        self.lineage.read_repo(self.hook.endpoint, repo_type, repo_id, commit)
        self.lineage.wrote_s3(self.s3_bucket, prefix)
        return {
            "repo_id": repo_id,
            "repo_type": repo_type,
            "revision": self.revision or "main",
            "commit_oid": commit,
            "s3_bucket": self.s3_bucket,
            "s3_prefix": prefix,
            "files_copied": len(files),
            "bytes_copied": sum(f.size for f in files),
        }
