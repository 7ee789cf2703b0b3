"""Scheduled model publishing: train on a Hub Job, upload the model in one commit, tag the release, roll it
out to an Inference Endpoint, and report which Inference Providers serve it best.

``make demo`` runs this DAG end to end on the embedded Hub emulator (or on the real Hub when ``HF_TOKEN`` is
set). A bare ``repo_id`` is created in the connection's ``namespace``.
"""

from __future__ import annotations

import json
import struct
import tempfile
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_hub.operators.endpoints import HfCreateInferenceEndpointOperator
from airflow_provider_hub.operators.inference_providers import HfChooseInferenceProviderOperator
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
        "repo_id": Param("airflow-provider-hub-demo", type="string", description="Model repo to publish"),
        "endpoint": Param("airflow-provider-hub-demo", type="string", description="Endpoint serving it"),
        "strategy": Param("cheapest", enum=["cheapest", "fastest", "lowest_latency"]),
        "provider_model": Param(
            None, type=["null", "string"], description="Model whose providers to compare; default: ours"
        ),
    },
    tags=["huggingface", "example"],
)
def example_publish_model():
    create_repo = HfCreateRepoOperator(task_id="create_repo", repo_id="{{ params.repo_id }}", private=True)

    @task.hf_job(flavor="cpu-basic", timeout="30m")
    def train(features: int, samples: int) -> dict:
        """Runs on Hub Jobs: fits a logistic regression on synthetic data and returns its artifacts."""
        import math
        import random

        rng = random.Random(0)  # deterministic: publishing the same model again makes no new commit
        truth = [rng.uniform(-1, 1) for _ in range(features)]
        rows = [[rng.uniform(-1, 1) for _ in range(features)] for _ in range(samples)]
        labels = [1.0 if sum(w * x for w, x in zip(truth, row, strict=True)) > 0 else 0.0 for row in rows]
        weights = [0.0] * features
        for _epoch in range(20):
            for row, label in zip(rows, labels, strict=True):
                score = sum(w * x for w, x in zip(weights, row, strict=True))
                error = label - 1 / (1 + math.exp(-score))
                weights = [w + 0.1 * error * x for w, x in zip(weights, row, strict=True)]
        hits = sum(
            (sum(w * x for w, x in zip(weights, row, strict=True)) > 0) == (label == 1.0)
            for row, label in zip(rows, labels, strict=True)
        )
        print(f"trained on {samples} samples: accuracy {hits / samples:.3f}")
        return {"weights": [round(w, 6) for w in weights], "accuracy": hits / samples}

    @task
    def package(trained: dict) -> str:
        """Writes the Job's artifacts as a Hub model folder: card, config, safetensors weights."""
        folder = Path(tempfile.mkdtemp(prefix="hf_model_"))
        (folder / "README.md").write_text(
            f"# Demo model\n\nPublished from Apache Airflow. Training accuracy: {trained['accuracy']:.3f}.\n"
        )
        (folder / "config.json").write_text(
            json.dumps({"model_type": "logistic-regression", "features": len(trained["weights"])})
        )
        write_safetensors(folder / "model.safetensors", trained["weights"])
        return str(folder)

    upload = HfUploadFolderOperator(
        task_id="upload",
        repo_id="{{ params.repo_id }}",
        folder_path=package(train(features=64, samples=400)),
        commit_message="Weekly model {{ dag_run.run_after | ds }}",
    )
    tag = HfCreateTagOperator(
        task_id="tag_release",
        repo_id="{{ params.repo_id }}",
        tag="v{{ dag_run.run_after | ds_nodash }}",
        revision="{{ ti.xcom_pull(task_ids='upload')['head_oid'] }}",
        tag_message="Weekly release {{ dag_run.run_after | ds }}",
        exist_ok=True,
    )
    # Serve the release: create the Endpoint on the first run, point it at the new revision afterwards.
    deploy = HfCreateInferenceEndpointOperator(
        task_id="deploy",
        name="{{ params.endpoint }}",
        repository="{{ ti.xcom_pull(task_ids='upload')['repo_id'] }}",
        revision="{{ ti.xcom_pull(task_ids='upload')['head_oid'] }}",
        task="text-classification",
        if_exists="update",
        poll_interval=15,
    )
    choose = HfChooseInferenceProviderOperator(
        task_id="choose_provider",
        model_id="{{ params.provider_model or ti.xcom_pull(task_ids='upload')['repo_id'] }}",
        strategy="{{ params.strategy }}",
    )

    @task
    def report(upload_result: dict, endpoint: dict, provider: dict) -> str:
        commit_url = upload_result["commit_url"] or upload_result["repo_url"]
        print(f"Published {upload_result['repo_id']}: {commit_url}")
        print(f"Serving at {endpoint['url']} ({endpoint['status']}); best provider: {provider['provider']}")
        return commit_url

    create_repo >> upload >> tag >> [deploy, choose]
    report(upload.output, deploy.output, choose.output)


# [END publish_model_dag]

example_publish_model()
