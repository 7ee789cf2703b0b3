"""What the two transfer directions share: a Hub hook, an S3 hook and the S3 location check."""

from __future__ import annotations

import importlib.util
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowOptionalProviderFeatureException

from airflow_provider_hub.operators.base import HfHubBaseOperator

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook


class HubS3TransferOperator(HfHubBaseOperator):
    """Base of the operators that copy between S3 and the Hub; subclasses set the attributes below."""

    s3_bucket: str
    s3_prefix: str | None
    aws_conn_id: str | None

    def __init__(self, **kwargs: Any) -> None:
        # Checked where the DAG file builds the task, so a DAG without the extra fails to parse saying what to
        # install; finding the package imports nothing of it (boto3 would cost the parse a second).
        if importlib.util.find_spec("airflow.providers.amazon") is None:
            raise AirflowOptionalProviderFeatureException(
                f"{type(self).__name__} needs the Amazon provider: pip install 'airflow-provider-hub[amazon]'"
            )
        super().__init__(**kwargs)

    @cached_property
    def s3_hook(self) -> S3Hook:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id)

    def check_s3_location(self) -> None:
        """Validate the rendered bucket and prefix; no S3 call is needed for that."""
        bucket = self.s3_bucket
        # "s3://bucket/prefix" in s3_bucket is the usual slip: a bucket name has no scheme, key or space.
        if not isinstance(bucket, str) or not bucket or "/" in bucket or any(c.isspace() for c in bucket):
            raise ValueError(f"s3_bucket must be a bucket name (no 's3://', no key); got {bucket!r}")
        if self.s3_prefix is not None and not isinstance(self.s3_prefix, str):
            raise ValueError(f"s3_prefix must be a string; got {self.s3_prefix!r}")
