"""moto's S3 as a server on loopback: what ``s3fs`` (``ObjectStoragePath("s3://...")``) and other processes
talk to, where moto's in-process mock cannot reach."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """moto's S3 server on loopback, a boto3 client on it, and its URL (no bucket yet)."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    try:
        yield boto3.client("s3", region_name="us-east-1", endpoint_url=url), url
    finally:
        server.stop()


@pytest.fixture
def s3_storage(s3_server: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    """A boto3 client on moto's server and the id of an ``aws`` connection to it, for ``ObjectStoragePath``.

    The id is the server's own: Airflow keeps one filesystem per connection id for the life of a process, so
    a second test reusing an id would talk to the first test's (stopped) server.
    """
    import json

    client, url = s3_server
    conn_id = f"moto_s3_{url.rsplit(':', 1)[1]}"
    aws = {"conn_type": "aws", "extra": {"region_name": "us-east-1", "endpoint_url": url}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(aws))
    return client, conn_id
