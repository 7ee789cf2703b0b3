"""S3 <-> Hub transfers: the Amazon provider's S3Hook against moto, the real Hub client against the emulator."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
import structlog

from airflow_provider_hub.transfers.hub_to_s3 import HfHubToS3Operator
from airflow_provider_hub.transfers.s3_to_hub import S3ToHfHubOperator
from tests.support.operators import COMMIT_ROUTE, run

MiB = 1 << 20
BUCKET = "warehouse"


@pytest.fixture
def s3(s3: Any) -> Any:
    """moto's S3 (the shared fixture) with the bucket these tests use."""
    s3.create_bucket(Bucket=BUCKET)
    return s3


def test_s3_prefix_of_201_objects_becomes_one_commit(s3: Any, api: Any, hub_connection: Any) -> None:
    big = os.urandom(50 * MiB)
    s3.put_object(Bucket=BUCKET, Key="exports/2026/big/weights.bin", Body=big)
    for index in range(200):
        s3.put_object(Bucket=BUCKET, Key=f"exports/2026/part-{index:03d}.csv", Body=f"row,{index}\n".encode())
    s3.put_object(Bucket=BUCKET, Key="exports/2026/", Body=b"")  # a "folder" marker: not a file
    s3.put_object(Bucket=BUCKET, Key="elsewhere/skip.csv", Body=b"no")

    result = run(
        S3ToHfHubOperator(
            task_id="s3_to_hub",
            s3_bucket=BUCKET,
            s3_prefix="exports/2026/",
            repo_id="alice/reviews",
            repo_type="dataset",
            path_in_repo="data",
            create_repo=True,
            max_disk_bytes=50 * MiB + 1024,  # the 50 MiB object and the 200 small ones never fit together
            commit_message="Import 2026",
        )
    )
    assert result["s3_objects"] == 201 and result["files_added"] == 201 and result["commit_oid"]
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 1
    assert hub_connection.request_count("/api/datasets/alice/reviews/preupload/*", "POST") >= 2  # batches
    history = api.list_repo_commits("alice/reviews", repo_type="dataset")
    assert [c.title for c in history][:1] == ["Import 2026"] and len(history) == 2
    files = set(api.list_repo_files("alice/reviews", repo_type="dataset"))
    assert {f"data/part-{i:03d}.csv" for i in range(200)} | {"data/big/weights.bin"} <= files
    assert not any(f.startswith(("elsewhere", "data/skip")) for f in files)
    weights = api.get_paths_info("alice/reviews", ["data/big/weights.bin"], repo_type="dataset")[0]
    assert weights.lfs is not None and weights.lfs.sha256 == hashlib.sha256(big).hexdigest()
    part = api.hf_hub_download("alice/reviews", "data/part-007.csv", repo_type="dataset")
    assert Path(part).read_text() == "row,7\n"

    # A second run with nothing changed: no commit.
    hub_connection.reset_counts()
    again = run(
        S3ToHfHubOperator(
            task_id="s3_to_hub",
            s3_bucket=BUCKET,
            s3_prefix="exports/2026/",
            repo_id="alice/reviews",
            repo_type="dataset",
            path_in_repo="data",
            max_disk_bytes=50 * MiB + 1024,
        )
    )
    assert again["commit_oid"] is None and again["files_unchanged"] == 201
    assert hub_connection.request_count(COMMIT_ROUTE, "POST") == 0
    assert hub_connection.request_count("/_lfs/objects/*", "PUT") == 0


def test_s3_key_list_relative_to_prefix(s3: Any, api: Any, hub_connection: Any) -> None:
    for key in ("in/a.txt", "in/deep/b.txt", "in/c.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    api.create_repo("alice/m")
    result = run(
        S3ToHfHubOperator(
            task_id="keys",
            s3_bucket=BUCKET,
            s3_keys=["in/a.txt", "in/deep/b.txt"],
            s3_prefix="in/",
            repo_id="alice/m",
        )
    )
    assert result["files_added"] == 2
    assert {"a.txt", "deep/b.txt"} <= set(api.list_repo_files("alice/m"))
    assert "c.txt" not in api.list_repo_files("alice/m")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"s3_prefix": None}, "give s3_prefix (copy a whole prefix) or s3_keys (a list of keys)"),
        ({"s3_keys": []}, "s3_keys must be a non-empty list of keys"),
        ({"repo_id": "alice/x..y"}, "repo_id 'alice/x..y' is not a valid Hub repo id"),
        ({"repo_type": "models"}, "repo_type must be one of model, dataset, space; got 'models'"),
        ({"path_in_repo": "../up"}, "path_in_repo '../up' escapes the repository"),
        ({"max_disk_bytes": 0}, "max_disk_bytes must be a positive integer"),
    ],
)
def test_s3_to_hub_rejects_bad_input_before_any_request(
    s3: Any, hub_connection: Any, kwargs: dict[str, Any], message: str
) -> None:
    arguments = {"s3_bucket": BUCKET, "s3_prefix": "in/", "repo_id": "alice/m", "create_repo": True, **kwargs}
    hub_connection.reset_counts()
    with pytest.raises(ValueError) as excinfo:
        run(S3ToHfHubOperator(task_id="bad", **arguments))
    assert message in str(excinfo.value)
    assert hub_connection.request_count() == 0


def test_s3_object_larger_than_disk_budget_fails_before_download(s3: Any, hub_connection: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/big.bin", Body=b"x" * 2048)
    hub_connection.reset_counts()
    with pytest.raises(
        ValueError, match=r"s3://warehouse/in/big.bin is 2048 bytes, more than max_disk_bytes=1024"
    ):
        run(
            S3ToHfHubOperator(
                task_id="big", s3_bucket=BUCKET, s3_prefix="in/", repo_id="alice/m", max_disk_bytes=1024
            )
        )
    assert hub_connection.request_count() == 0


# -- the hash cache of S3 objects ------------------------------------------------------------------------
@pytest.fixture
def s3_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of every ``GetObject`` the operator sends (one per range of a large object; the calls go on
    to moto as they are)."""
    from botocore.client import BaseClient

    keys: list[str] = []
    send = BaseClient._make_api_call

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "GetObject":
            keys.append(params["Key"])
        return send(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return keys


def _exports(s3: Any) -> dict[str, bytes]:
    """An LFS-sized object and two small ones under ``exports/``."""
    bodies = {
        "exports/weights.bin": os.urandom(11 * MiB),
        "exports/a.csv": b"id,v\n1,2\n",
        "exports/b.csv": b"id,v\n3,4\n",
    }
    for key, body in bodies.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return bodies


def _publish(**kwargs: Any) -> dict[str, Any]:
    return run(
        S3ToHfHubOperator(
            task_id="publish",
            s3_bucket=BUCKET,
            s3_prefix="exports/",
            repo_id="alice/exports",
            repo_type="dataset",
            create_repo=True,
            **kwargs,
        )
    )


def test_objects_unchanged_since_the_last_run_are_not_downloaded_again(
    s3: Any, hub_connection: Any, s3_reads: list[str]
) -> None:
    _exports(s3)
    first = _publish()
    assert first["files_added"] == 3 and len(s3_reads) >= 3
    s3_reads.clear()
    hub_connection.reset_counts()

    with structlog.testing.capture_logs() as task_log:
        again = _publish()

    assert s3_reads == []
    assert again["no_changes"] is True and again["files_unchanged"] == 3
    assert hub_connection.request_count("/api/datasets/alice/exports/preupload/*", "POST") == 0
    assert "Hash cache: 3 of 3 object(s) unchanged since the last run" in repr(task_log)


def test_an_object_changed_with_the_same_size_is_downloaded_and_committed(
    s3: Any, api: Any, s3_reads: list[str]
) -> None:
    bodies = _exports(s3)
    _publish()
    changed = bodies["exports/a.csv"].replace(b"1,2", b"5,6")
    s3.put_object(Bucket=BUCKET, Key="exports/a.csv", Body=changed)
    s3_reads.clear()

    result = _publish()

    assert set(s3_reads) == {"exports/a.csv"}
    assert result["files_added"] == 1 and result["files_unchanged"] == 2
    published = api.hf_hub_download("alice/exports", "a.csv", repo_type="dataset")
    assert Path(published).read_bytes() == changed


@pytest.mark.parametrize("gone", ["weights.bin", "a.csv"])
def test_a_cached_object_the_head_no_longer_holds_is_downloaded_and_committed_again(
    s3: Any, api: Any, s3_reads: list[str], gone: str
) -> None:
    bodies = _exports(s3)
    _publish()
    api.delete_file(gone, "alice/exports", repo_type="dataset")
    s3_reads.clear()

    result = _publish()

    assert set(s3_reads) == {f"exports/{gone}"}
    assert result["files_added"] == 1 and result["files_unchanged"] == 2
    published = api.hf_hub_download("alice/exports", gone, repo_type="dataset")
    assert Path(published).read_bytes() == bodies[f"exports/{gone}"]


def test_hash_cache_false_downloads_every_object_and_writes_no_cache(
    s3: Any, hub_connection: Any, s3_reads: list[str]
) -> None:
    from airflow_provider_hub.hooks.hash_cache import HashCache

    _exports(s3)
    _publish(hash_cache=False)
    s3_reads.clear()

    again = _publish(hash_cache=False)

    assert set(s3_reads) == {"exports/a.csv", "exports/b.csv", "exports/weights.bin"}
    assert again["no_changes"] is True
    assert not HashCache.load_objects(BUCKET, s3.meta.endpoint_url).path.exists()


def test_a_corrupt_object_cache_is_ignored_and_rewritten(
    s3: Any, hub_connection: Any, s3_reads: list[str]
) -> None:
    from airflow_provider_hub.hooks.hash_cache import HashCache

    _exports(s3)
    _publish()
    path = HashCache.load_objects(BUCKET, s3.meta.endpoint_url).path
    path.write_text(path.read_text()[:-20])
    s3_reads.clear()

    with structlog.testing.capture_logs() as task_log:
        again = _publish()

    assert set(s3_reads) == {"exports/a.csv", "exports/b.csv", "exports/weights.bin"}
    assert again["no_changes"] is True
    assert "Ignoring the hash cache" in repr(task_log)
    assert set(HashCache.load_objects(BUCKET, s3.meta.endpoint_url).entries) == set(s3_reads)


def test_hub_snapshot_to_s3(s3: Any, api: Any, hub_connection: Any) -> None:
    api.create_repo("alice/reviews", repo_type="dataset")
    big = os.urandom(11 * MiB)
    first = api.upload_file(
        path_or_fileobj=big, path_in_repo="data/big.parquet", repo_id="alice/reviews", repo_type="dataset"
    ).oid
    api.upload_file(
        path_or_fileobj=b"a", path_in_repo="data/a.parquet", repo_id="alice/reviews", repo_type="dataset"
    )
    api.upload_file(
        path_or_fileobj=b"# card", path_in_repo="README.md", repo_id="alice/reviews", repo_type="dataset"
    )

    result = run(
        HfHubToS3Operator(
            task_id="to_s3",
            repo_id="alice/reviews",
            repo_type="dataset",
            allow_patterns=["data/*"],
            s3_bucket=BUCKET,
            s3_prefix="mirror/reviews/",
        )
    )
    assert result["files_copied"] == 2 and result["bytes_copied"] == 11 * MiB + 1
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="mirror/")["Contents"]}
    assert keys == {"mirror/reviews/data/big.parquet", "mirror/reviews/data/a.parquet"}
    body = s3.get_object(Bucket=BUCKET, Key="mirror/reviews/data/big.parquet")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(big).digest()

    # A pinned revision copies that snapshot only.
    pinned = run(
        HfHubToS3Operator(
            task_id="to_s3", repo_id="alice/reviews", repo_type="dataset", revision=first, s3_bucket=BUCKET,
            s3_prefix="v1",
        )
    )  # fmt: skip
    assert pinned["commit_oid"] == first
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="v1/")["Contents"]}
    assert keys == {"v1/.gitattributes", "v1/data/big.parquet"}
