"""Scheduled model publishing: write the model files, upload them to a Hub repo in one commit, tag the release.

``make demo`` runs this DAG end to end on the embedded Hub emulator (or on the real Hub when ``HF_TOKEN`` is
set). A bare ``repo_id`` is created in the connection's ``namespace``.
"""

from __future__ import annotations

import json
import random
import struct
import tempfile
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_hub.operators.repo import (
    HfCreateRepoOperator,
    HfCreateTagOperator,
    HfUploadFolderOperator,
)


def write_safetensors(path: Path, values: list[float]) -> None:
    """A minimal valid safetensors file: one float32 tensor named ``weight``."""
    data = struct.pack(f"<{len(values)}f", *values)
    header = json.dumps(
        {"weight": {"dtype": "F32", "shape": [len(values)], "data_offsets": [0, len(data)]}}
    ).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


# [START publish_model_dag]
@dag(
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "repo_id": Param("airflow-provider-hub-demo", type="string", description="Model repo to publish")
    },
    tags=["huggingface", "example"],
)
def example_publish_model():
    create_repo = HfCreateRepoOperator(task_id="create_repo", repo_id="{{ params.repo_id }}", private=True)

    @task
    def train() -> str:
        """Stands in for training: writes a model card, a config and the weights to a fresh folder."""
        folder = Path(tempfile.mkdtemp(prefix="hf_model_"))
        (folder / "README.md").write_text("# Demo model\n\nPublished from Apache Airflow.\n")
        (folder / "config.json").write_text(json.dumps({"model_type": "demo", "hidden_size": 256}))
        # Deterministic weights: publishing the same model again makes no new commit.
        weights = random.Random(0)
        write_safetensors(folder / "model.safetensors", [weights.uniform(-1, 1) for _ in range(1024)])
        return str(folder)

    model_folder = train()
    upload = HfUploadFolderOperator(
        task_id="upload",
        repo_id="{{ params.repo_id }}",
        folder_path=model_folder,
        commit_message="Weekly model {{ ds }}",
    )

    tag = HfCreateTagOperator(
        task_id="tag_release",
        repo_id="{{ params.repo_id }}",
        tag="v{{ ds_nodash }}",
        revision="{{ ti.xcom_pull(task_ids='upload')['head_oid'] }}",
        tag_message="Weekly release {{ ds }}",
        exist_ok=True,
    )

    @task
    def report(upload_result: dict) -> str:
        commit_url = upload_result["commit_url"] or upload_result["repo_url"]
        print(f"Published {upload_result['repo_id']}: {commit_url}")
        return commit_url

    create_repo >> model_folder
    upload >> tag >> report(upload.output)


# [END publish_model_dag]

example_publish_model()
