"""Every operator and sensor completes under injected faults, with the same outcome as a fault-free run.

The same DAG runs twice with real ``dag.test()``: once without faults, then -- on a reset emulator, so
the LFS blobs must be uploaded again rather than found in the blob store -- under 20% HTTP 500, 429
with ``Retry-After: 1``, 1% dropped connections and 200 ms of latency on every request, plus one dropped
LFS upload, one dropped preupload and one commit whose response is lost after it landed. Then the repo
must hold the same files with the same content and the same number of commits (one per upload).

Each fault draws from its own generator seeded by the emulator's seed, so a run is reproducible up to
thread timing. The 429 rate is 3% because each one costs a full second (the server's ``Retry-After``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum

from airflow_provider_hub.operators.access import HfAcceptAccessRequestsOperator
from airflow_provider_hub.operators.endpoints import HfCreateInferenceEndpointOperator
from airflow_provider_hub.operators.jobs import HfRunJobOperator
from airflow_provider_hub.operators.repo import (
    HfCreateCommitOperator,
    HfCreateRepoOperator,
    HfCreateTagOperator,
    HfUploadFolderOperator,
)
from airflow_provider_hub.operators.webhooks import HfCreateWebhookOperator
from airflow_provider_hub.sensors.repo import HfRepoFileSensor
from tests.helpers import task_states, xcom_value
from tests.reliability._support import commit_count, make_model_folder, repo_state

REPO = "alice/model"
GATED_REPO = "alice/gated-model"
LATENCY = 0.2
#: What a DAG author facing a flaky network configures on tasks that cannot repeat a request by themselves.
TASK_RETRIES = {"retries": 4, "retry_delay": timedelta(seconds=0.2)}


def inject_faults(hub: Any) -> None:
    """The issue's fault mix on every Hub route (the emulator's own control API is not a Hub route)."""
    for route in ("/api/*", "/_lfs/*", "/*/resolve/*", "/*.git/*", "/v2/*"):
        hub.inject_fault(route, status=500, rate=0.2)
        hub.inject_fault(route, status=429, retry_after=1, rate=0.03)
        hub.inject_fault(route, drop=True, rate=0.01)
        hub.inject_fault(route, latency=LATENCY)
    # 1% of a few hundred requests is a handful: make sure the upload path sees drops too.
    hub.inject_fault("/_lfs/objects/*", drop=True, times=1, method="PUT")
    hub.inject_fault("/api/models/*/preupload/*", drop=True, times=1)
    # The worst case for "exactly one commit": the first commit lands and its response is lost.
    hub.inject_fault("/api/models/*/commit/*", status=502, after_apply=True, times=1)


def publishing_dag(dag_id: str, repo_id: str, gated_repo_id: str, folder: Path) -> Any:
    from airflow.sdk import DAG

    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
        create = HfCreateRepoOperator(task_id="create_repo", repo_id=repo_id)
        upload = HfUploadFolderOperator(
            task_id="upload", repo_id=repo_id, folder_path=str(folder), commit_message="Checkpoint"
        )
        wait = HfRepoFileSensor(
            task_id="wait_weights",
            repo_id=repo_id,
            path_in_repo="model.safetensors",
            poke_interval=0.1,
            timeout=120,
        )
        promote = HfCreateCommitOperator(
            task_id="promote",
            repo_id=repo_id,
            operations=[
                {
                    "op": "copy",
                    "src_path_in_repo": "model.safetensors",
                    "path_in_repo": "release/model.safetensors",
                },
                {"op": "delete", "path_in_repo": "scratch.txt"},
                {"op": "add", "path_in_repo": "VERSION", "content": "1.0.0"},
            ],
            commit_message="Promote",
        )
        tag = HfCreateTagOperator(
            task_id="tag",
            repo_id=repo_id,
            tag="v1",
            revision="{{ ti.xcom_pull(task_ids='promote')['commit_oid'] }}",
        )
        job = HfRunJobOperator(
            task_id="evaluate",
            image="python:3.12",
            command=["python", "eval.py"],
            poll_interval=0.1,
            **TASK_RETRIES,
        )
        triage = HfAcceptAccessRequestsOperator(
            task_id="triage", repo_id=gated_repo_id, allow_email_domains=["acme.com"], reject_others=True
        )
        endpoint = HfCreateInferenceEndpointOperator(
            task_id="endpoint", name="model-endpoint", repository=repo_id, poll_interval=0.1, **TASK_RETRIES
        )
        webhook = HfCreateWebhookOperator(
            task_id="webhook",
            url="http://127.0.0.1:9/hf-webhook",
            watched=[{"type": "model", "name": repo_id}],
            **TASK_RETRIES,
        )
        create >> upload >> wait >> promote >> tag >> [job, endpoint]
        create >> [triage, webhook]
    return dag


def run_publishing(run_dag: Any, hub: Any, dag_id: str, folder: Path) -> Any:
    hub.set_job_plan(durations=(0.1, 0.2), logs=("evaluating", "accuracy=0.93"))
    hub.set_endpoint_plan("model-endpoint", [("pending", 0.1), ("initializing", 0.2), ("running", None)])
    hub.add_repo(GATED_REPO, gated="manual")
    hub.add_access_requests(
        GATED_REPO,
        [
            {"user": "bob", "email": "bob@acme.com"},
            {"user": "carol", "email": "carol@acme.com"},
            {"user": "mallory", "email": "mallory@example.org"},
        ],
    )
    return run_dag(publishing_dag(dag_id, REPO, GATED_REPO, folder))


def outcome(api: Any) -> dict[str, Any]:
    """Everything the DAG changed on the Hub, comparable across runs."""
    from airflow_provider_hub.hooks.hub import HfHubHook

    # A plain HfApi calls the real Inference Endpoints API; the hook's client is routed to the emulator.
    endpoints = HfHubHook().api.list_inference_endpoints(namespace="alice")
    return {
        "files": repo_state(api, REPO),
        "files_at_tag": repo_state(api, REPO, revision="v1"),
        "commits": commit_count(api, REPO),
        "accepted": {r.username for r in api.list_accepted_access_requests(GATED_REPO)},
        "rejected": {r.username for r in api.list_rejected_access_requests(GATED_REPO)},
        "completed_jobs": [job.status.stage for job in api.list_jobs(namespace="alice")].count("COMPLETED"),
        "endpoints": [(e.name, e.status, e.repository) for e in endpoints],
        "webhooks": [(w.url, [(x.type, x.name) for x in w.watched]) for w in api.list_webhooks()],
    }


def test_every_task_completes_under_faults_with_the_fault_free_outcome(
    tolerant_connection: Any, run_dag: Any, api: Any, tmp_path: Path
) -> None:
    hub = tolerant_connection
    folder = make_model_folder(tmp_path / "checkpoint", small_files=10)

    clean_run = run_publishing(run_dag, hub, "faults_clean", folder)
    assert set(task_states(clean_run).values()) == {"success"}
    clean = outcome(api)
    assert clean["commits"] == 3 and clean["completed_jobs"] == 1  # initial commit + upload + promote
    assert [status for _, status, _ in clean["endpoints"]] == ["running"] and len(clean["webhooks"]) == 1

    hub.reset()
    inject_faults(hub)
    chaos_run = run_publishing(run_dag, hub, "faults_chaos", folder)
    hits = {(f.route, f.status, f.drop, f.after_apply): f.fired for f in hub.injector.faults}
    hub.clear_faults()

    assert task_states(chaos_run) == dict.fromkeys(
        (
            "create_repo",
            "upload",
            "wait_weights",
            "promote",
            "tag",
            "evaluate",
            "endpoint",
            "triage",
            "webhook",
        ),
        "success",
    )
    # The faults really hit, on every kind of failure (request totals alone vary with polling timing).
    for kind in ((500, False), (429, False), (None, True), (502, False)):
        assert sum(n for (_, status, drop, _), n in hits.items() if (status, drop) == kind) > 0, (kind, hits)
    # Same files with the same content, same history (exactly one commit per upload), same decisions,
    # and a single Job although the task retried after failed requests.
    assert outcome(api) == clean
    assert xcom_value(chaos_run, "upload")["files_added"] == xcom_value(clean_run, "upload")["files_added"]
