"""HfDownloadOperator: a pinned snapshot to a local folder, ``file://`` and ``s3://`` (moto's server, through
``ObjectStoragePath`` and the Amazon provider's connection), with the real client against the emulator."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hub.exceptions import HfHubError
from airflow_provider_hub.operators.repo import HfDownloadOperator
from tests.support.operators import RecordingTaskInstance

MiB = 1 << 20
REPO = "alice/sentiment"
#: The model's files: one LFS file (``*.safetensors``), regular files, a nested folder.
FILES: dict[str, bytes] = {
    "model.safetensors": hashlib.sha256(b"weights").digest() * (MiB // 16),  # 2 MiB
    "config.json": b'{"labels": 2}',
    "README.md": b"# Sentiment\n",
    "onnx/model.onnx": b"onnx graph" * 1000,
    "onnx/tokenizer.json": b'{"vocab": {}}',
}


@pytest.fixture
def model(api: Any, tmp_path: Path) -> str:
    """The repo with :data:`FILES` in one commit; its sha."""
    folder = tmp_path / "source"
    for path, data in FILES.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    api.create_repo(REPO)
    return str(api.upload_folder(repo_id=REPO, folder_path=folder, commit_message="Model").oid)


def execute(operator: HfDownloadOperator, ti: RecordingTaskInstance | None = None) -> dict[str, Any]:
    return operator.execute({"ti": ti or RecordingTaskInstance()})


def local_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the pins' folder, by ``/``-separated relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and ".cache" not in path.relative_to(folder).parts
    }


def test_snapshot_to_a_local_folder_returns_the_commit_files_and_links(
    model: str, hub_connection: Any, tmp_path: Path
) -> None:
    ti = RecordingTaskInstance()
    operator = HfDownloadOperator(task_id="download", repo_id=REPO, destination=str(tmp_path / "m"))
    result = execute(operator, ti)

    assert local_files(tmp_path / "m") == {
        ".gitattributes": local_files(tmp_path / "m")[".gitattributes"],
        **FILES,
    }
    assert result == {
        "repo_id": REPO,
        "repo_type": "model",
        "revision": "main",
        "commit_oid": model,
        "destination": str(tmp_path / "m"),
        "files": len(FILES) + 1,
        "bytes": sum(len(data) for data in FILES.values())
        + len(local_files(tmp_path / "m")[".gitattributes"]),
        "files_unchanged": 0,
        "bytes_unchanged": 0,
    }
    assert ti.pushed == {
        "hf_repo_url": f"{hub_connection.url}/{REPO}",
        "hf_commit_url": f"{hub_connection.url}/{REPO}/commit/{model}",
    }
    lineage = operator.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("file", str(tmp_path / "m"))]
    # No temporary name and no pin is left once the task succeeded.
    assert not [p for p in (tmp_path / "m").rglob("*") if p.name.endswith(".incomplete")]
    assert not list((tmp_path / "m").glob(".cache/huggingface/airflow/*"))


def test_file_uri_with_subfolder_and_patterns(model: str, tmp_path: Path) -> None:
    destination = f"file://{tmp_path / 'onnx'}"
    result = execute(
        HfDownloadOperator(
            task_id="download",
            repo_id=REPO,
            destination=destination,
            subfolder="onnx",
            allow_patterns=["*.onnx", "*.json"],
            ignore_patterns="tokenizer*",
        )
    )
    # Paths and patterns are relative to the subfolder.
    assert local_files(tmp_path / "onnx") == {"model.onnx": FILES["onnx/model.onnx"]}
    assert result["files"] == 1 and result["bytes"] == len(FILES["onnx/model.onnx"])
    assert result["destination"] == destination and result["commit_oid"] == model


def test_a_second_run_copies_nothing_that_is_there_with_the_same_content(
    model: str, api: Any, hub_connection: Any, tmp_path: Path
) -> None:
    destination = tmp_path / "m"
    execute(HfDownloadOperator(task_id="download", repo_id=REPO, destination=str(destination)))
    # Same size, other content: never trusted.
    (destination / "config.json").write_bytes(b'{"labels": 3}')
    hub_connection.reset_counts()
    again = execute(HfDownloadOperator(task_id="download", repo_id=REPO, destination=str(destination)))

    assert again["files_unchanged"] == len(FILES) and again["commit_oid"] == model
    assert hub_connection.request_count(f"/{REPO}/resolve/*", "GET") == 1
    assert (destination / "config.json").read_bytes() == FILES["config.json"]


def test_snapshot_to_s3_through_object_storage_and_its_connection(
    model: str, s3_storage: tuple[Any, str]
) -> None:
    s3, conn_id = s3_storage
    s3.create_bucket(Bucket="models")

    operator = HfDownloadOperator(
        task_id="download",
        repo_id=REPO,
        destination="s3://models/sentiment/v1",
        storage_conn_id=conn_id,
        ignore_patterns=[".gitattributes", "onnx/*"],
    )
    result = execute(operator)

    objects = s3.list_objects_v2(Bucket="models")["Contents"]
    assert {o["Key"] for o in objects} == {
        "sentiment/v1/model.safetensors",
        "sentiment/v1/config.json",
        "sentiment/v1/README.md",
    }
    body = s3.get_object(Bucket="models", Key="sentiment/v1/model.safetensors")["Body"].read()
    assert body == FILES["model.safetensors"]
    assert result["commit_oid"] == model and result["files"] == 3
    assert result["destination"] == "s3://models/sentiment/v1"
    # OpenLineage: the repo at the commit in, the S3 prefix (named as the Amazon provider names it) out.
    lineage = operator.get_openlineage_facets_on_complete(None)
    [read] = lineage.inputs
    assert (read.name, read.facets["version"].datasetVersion) == (f"models/{REPO}", model)
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("s3://models", "sentiment/v1")]


def test_the_retry_downloads_the_commit_its_first_try_pinned(
    model: str, api: Any, hub_connection: Any, tmp_path: Path
) -> None:
    destination = tmp_path / "m"
    operator = {"task_id": "download", "repo_id": REPO, "destination": str(destination)}
    # The first try fails on one file (a refusal the client does not retry), after copying others.
    hub_connection.inject_fault(f"/{REPO}/resolve/*/onnx/model.onnx", status=403, times=1)
    first_try = RecordingTaskInstance()
    with pytest.raises(HfHubError, match="onnx/model.onnx"):
        execute(HfDownloadOperator(**operator), first_try)
    copied_by_the_first_try = set(local_files(destination))
    assert copied_by_the_first_try and "onnx/model.onnx" not in copied_by_the_first_try

    api.upload_file(path_or_fileobj=b"# Sentiment v2\n", path_in_repo="README.md", repo_id=REPO)
    api.upload_file(path_or_fileobj=b"new", path_in_repo="added.txt", repo_id=REPO)
    hub_connection.reset_counts()
    retry = RecordingTaskInstance()
    retry.try_number = 2
    result = execute(HfDownloadOperator(**operator), retry)

    assert result["commit_oid"] == model
    assert {path: data for path, data in local_files(destination).items() if path in FILES} == FILES
    assert "added.txt" not in local_files(destination)
    assert result["files_unchanged"] == len(copied_by_the_first_try)
    assert hub_connection.request_count(f"/{REPO}/resolve/*", "GET") == len(FILES) + 1 - len(
        copied_by_the_first_try
    )
    # A later DAG run resolves main anew.
    later_run = RecordingTaskInstance()
    later_run.run_id = "manual__later"
    assert execute(HfDownloadOperator(**operator), later_run)["commit_oid"] == api.model_info(REPO).sha
    assert (destination / "README.md").read_bytes() == b"# Sentiment v2\n"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"destination": "relative/dir"}, "destination 'relative/dir' is a relative path"),
        ({"destination": ""}, "destination must be a local folder or an object-storage URI"),
        ({"destination": "nope://bucket/x"}, "no filesystem handles the protocol 'nope'"),
        ({"destination": "s3://"}, "destination 's3://' names no bucket"),
        ({"storage_conn_id": "aws_default"}, "storage_conn_id='aws_default' is for object storage"),
        ({"subfolder": "../up"}, "subfolder '../up' escapes the repository"),
        ({"revision": "a b"}, "revision must be a branch, tag or commit"),
        ({"allow_patterns": [3]}, "allow_patterns must be a glob or a list of globs; got [3]"),
        ({"repo_type": "models"}, "repo_type must be one of model, dataset, space; got 'models'"),
        ({"repo_id": "alice/x..y"}, "repo_id 'alice/x..y' is not a valid Hub repo id"),
    ],
)
def test_bad_input_is_named_before_any_request(
    kwargs: dict[str, Any], message: str, hub_connection: Any, tmp_path: Path
) -> None:
    arguments = {"repo_id": REPO, "destination": str(tmp_path / "m"), **kwargs}
    hub_connection.reset_counts()
    with pytest.raises(ValueError) as raised:
        execute(HfDownloadOperator(task_id="bad", **arguments))
    assert message in str(raised.value)
    assert hub_connection.request_count() == 0


def test_a_destination_that_is_a_file_is_refused(hub_connection: Any, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        execute(HfDownloadOperator(task_id="bad", repo_id=REPO, destination=str(tmp_path / "taken")))


def test_no_matching_file_names_the_patterns(model: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"No file of model alice/sentiment@main under subfolder 'onnx'"):
        execute(
            HfDownloadOperator(
                task_id="none",
                repo_id=REPO,
                destination=str(tmp_path),
                subfolder="onnx",
                allow_patterns="*.bin",
            )
        )


def test_in_a_dag_run_the_result_is_the_xcom_and_the_links_are_set(
    model: str, run_dag: Any, tmp_path: Path
) -> None:
    import pendulum
    from airflow.sdk import DAG

    from tests.helpers import xcom_value

    with DAG("download_dag", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        HfDownloadOperator(
            task_id="download",
            repo_id=REPO,
            destination=str(tmp_path / "{{ run_id | replace(':', '_') }}"),
            allow_patterns="config.*",
        )
    dag_run = run_dag(dag)

    result = xcom_value(dag_run, "download")
    assert result["commit_oid"] == model and result["files"] == 1
    assert Path(result["destination"]).parent == tmp_path
    assert (Path(result["destination"]) / "config.json").read_bytes() == FILES["config.json"]
    assert xcom_value(dag_run, "download", key="hf_commit_url").endswith(f"/commit/{model}")
