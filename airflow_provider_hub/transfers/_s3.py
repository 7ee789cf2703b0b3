"""What the two transfer directions share: a Hub hook, an S3 hook and the bucket check."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from airflow.sdk import BaseOperator

from airflow_provider_hub.hooks.hub import HfHubHook
from airflow_provider_hub.operators.repo import UI_COLOR

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook


class HubS3TransferOperator(BaseOperator):
    """Base of the operators that copy between S3 and the Hub; subclasses set the attributes below."""

    ui_color = UI_COLOR
    s3_bucket: str
    aws_conn_id: str | None
    hf_conn_id: str

    @cached_property
    def hook(self) -> HfHubHook:
        return HfHubHook(hf_conn_id=self.hf_conn_id)

    @cached_property
    def s3_hook(self) -> S3Hook:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id)

    def check_s3_bucket(self) -> None:
        if not self.s3_bucket or not isinstance(self.s3_bucket, str):
            raise ValueError(f"s3_bucket must be a bucket name; got {self.s3_bucket!r}")
