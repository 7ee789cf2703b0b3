"""Copy a Hub repo snapshot (or some of its files) to S3."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_hub.links import HfRepoLink
from airflow_provider_hub.operators.base import task_instance_key
from airflow_provider_hub.transfers._s3 import HubS3TransferOperator
from airflow_provider_hub.utils.checks import (
    DEFAULT_CONN_ID,
    check_patterns,
    check_repo_type,
    check_revision,
)

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.sdk import Context


class HfHubToS3Operator(HubS3TransferOperator):
    """Copy the files of a repo at one revision to ``s3://{s3_bucket}/{s3_prefix}/<path in repo>``.

    The revision is resolved to a commit first, so every file comes from the same snapshot even if
    someone pushes meanwhile, and every retry of the task instance copies that same commit; the commit id is
    returned. Files go through a temporary folder one at a time (disk use is bounded by the largest file) and
    are streamed to S3; an object already holding the file's content is not copied again. It shares its copy
    with :class:`~airflow_provider_hub.operators.repo.HfDownloadOperator` (which writes anywhere
    ``ObjectStoragePath`` can) and works with the Amazon provider alone (no ``s3fs``).

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
    :param replace: overwrite existing S3 objects whose content differs from the file's (otherwise such a
        key fails the task); an object that holds the file's content already is kept as it is.
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
        from airflow_provider_hub.operators._snapshot import SnapshotCopy

        self.check_s3_location()
        check_revision(self.revision)
        allow_patterns = check_patterns(self.allow_patterns, "allow_patterns")
        ignore_patterns = check_patterns(self.ignore_patterns, "ignore_patterns")
        repo_type = check_repo_type(self.repo_type)
        repo_id = self.qualified_repo_id(self.repo_id)
        prefix = (self.s3_prefix or "").strip("/")
        outcome = SnapshotCopy(
            self.hook,
            repo_id,
            S3HookDestination(self.s3_hook, self.s3_bucket, prefix, replace=self.replace),
            pin_key=task_instance_key(context["ti"]),
            repo_type=repo_type,
            revision=self.revision,
            allow_patterns=allow_patterns,
            ignore_patterns=ignore_patterns,
            progress_interval=self.progress_interval,
            logger=self.log,
        ).run()
        HfRepoLink.persist(context, self.hook.repo_url(repo_id, repo_type))
        self.lineage.read_repo(self.hook.endpoint, repo_type, repo_id, outcome.commit_oid)
        self.lineage.wrote_s3(self.s3_bucket, prefix)
        return {
            "repo_id": repo_id,
            "repo_type": repo_type,
            "revision": self.revision or "main",
            "commit_oid": outcome.commit_oid,
            "s3_bucket": self.s3_bucket,
            "s3_prefix": prefix,
            "files_copied": outcome.files,
            "bytes_copied": outcome.bytes,
        }


class S3HookDestination:
    """The Amazon provider's ``S3Hook`` as a snapshot destination: ``s3://{bucket}/{prefix}/<path>``.

    An S3 object appears only once its upload completed, so a copy never leaves a partial object.
    """

    #: ``S3Hook.load_file`` uploads the parts of one file in threads of its own.
    copies_at_once = 1

    def __init__(self, s3_hook: S3Hook, bucket: str, prefix: str, *, replace: bool) -> None:
        self.s3_hook, self.bucket, self.prefix, self.replace = s3_hook, bucket, prefix, replace

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def stored_sizes(self) -> dict[str, int]:
        start = len(self.prefix) + 1 if self.prefix else 0
        listing = self.s3_hook.get_file_metadata(f"{self.prefix}/" if self.prefix else "", self.bucket)
        return {obj["Key"][start:]: int(obj["Size"]) for obj in listing}

    def open_stored(self, path: str) -> IO[bytes]:
        return closing(self.s3_hook.get_key(self._key(path), self.bucket).get()["Body"])  # type: ignore[return-value]

    def staging_folder(self, name: str) -> None:
        return None

    def store(self, path: str, local_file: str) -> None:
        self.s3_hook.load_file(local_file, self._key(path), bucket_name=self.bucket, replace=self.replace)

    def read_text(self, path: str) -> str | None:
        if self.s3_hook.head_object(self._key(path), self.bucket) is None:
            return None
        return self.s3_hook.read_key(self._key(path), self.bucket)

    def write_text(self, path: str, text: str) -> None:
        self.s3_hook.load_string(text, self._key(path), bucket_name=self.bucket, replace=True)

    def delete(self, path: str) -> None:
        self.s3_hook.delete_objects(self.bucket, [self._key(path)])
