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

import os
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
    HfUploadLargeFolderOperator,
)
from airflow_provider_hub.operators.webhooks import HfCreateWebhookOperator
from airflow_provider_hub.sensors.repo import HfRepoFileSensor
from tests.helpers import task_states, xcom_value
from tests.reliability._support import commit_count, deterministic_bytes, make_model_folder, repo_state

REPO = "alice/model"
GATED_REPO = "alice/gated-model"
CORPUS = "alice/corpus"
#: LFS files per commit the emulator takes in the publishing run: the large-folder upload needs several.
CORPUS_LFS_FILES_PER_COMMIT = 2
LATENCY = 0.2
#: What a DAG author facing a flaky network configures on tasks that cannot repeat a request by themselves.
TASK_RETRIES = {"retries": 4, "retry_delay": timedelta(seconds=0.2)}


def inject_faults(hub: Any) -> None:
    """The issue's fault mix on every Hub route (the emulator's own control API is not a Hub route)."""
    for route in ("/api/*", "/_lfs/*", "/*/resolve/*", "/*.git/*", "/v1/*", "/v2/*"):
        hub.inject_fault(route, status=500, rate=0.2)
        hub.inject_fault(route, status=429, retry_after=1, rate=0.03)
        hub.inject_fault(route, drop=True, rate=0.01)
        hub.inject_fault(route, latency=LATENCY)
    # 3% of the fifty-odd Hub API requests is none at all one run in five: make sure a 429 comes too.
    hub.inject_fault("/api/repos/create", status=429, retry_after=1, times=1)
    # 1% of a few hundred requests is a handful: make sure the upload path sees drops too.
    hub.inject_fault("/_lfs/objects/*", drop=True, times=1, method="PUT")
    hub.inject_fault("/api/models/*/preupload/*", drop=True, times=1)
    # The worst case for "exactly one commit": the first commit lands and its response is lost.
    hub.inject_fault("/api/models/*/commit/*", status=502, after_apply=True, times=1)
    # Likewise for one of the large-folder upload's commits.
    hub.inject_fault("/api/datasets/*/commit/*", status=502, after_apply=True, times=1)


def fired_faults(hub: Any) -> dict[tuple[str, str | None, int | None, bool, bool], int]:
    """How often each injected fault fired, by ``(route, method, status, drop, after_apply)``; then clears them."""
    fired = {(f.route, f.method, f.status, f.drop, f.after_apply): f.fired for f in hub.injector.faults}
    hub.clear_faults()
    return fired


def assert_every_kind_fired(fired: dict[tuple[str, str | None, int | None, bool, bool], int]) -> None:
    """The faults really hit, on every kind of failure (request totals alone vary with polling timing)."""
    for kind in ((500, False), (429, False), (None, True), (502, False)):
        assert sum(n for (_, _, status, drop, _), n in fired.items() if (status, drop) == kind) > 0, (
            kind,
            fired,
        )


def make_corpus_folder(folder: Path) -> Path:
    """Six small LFS shards and four text files: several commits at two LFS files per commit."""
    (folder / "shards").mkdir(parents=True)
    for index in range(6):
        (folder / "shards" / f"{index}.bin").write_bytes(deterministic_bytes(f"corpus {index}", 64 * 1024))
    for index in range(4):
        (folder / f"notes_{index}.txt").write_text(f"notes {index}")
    return folder


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
        corpus = HfUploadLargeFolderOperator(
            task_id="upload_corpus",
            repo_id=CORPUS,
            repo_type="dataset",
            folder_path=str(folder.parent / "corpus"),
        )
        create >> upload >> wait >> promote >> tag >> [job, endpoint]
        create >> [triage, webhook, corpus]
    return dag


def run_publishing(run_dag: Any, hub: Any, dag_id: str, folder: Path) -> Any:
    hub.set_commit_limits(max_lfs_files=CORPUS_LFS_FILES_PER_COMMIT)
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
        "corpus": repo_state(api, CORPUS, repo_type="dataset"),
        "corpus_commits": commit_count(api, CORPUS, repo_type="dataset"),
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
    make_corpus_folder(tmp_path / "corpus")

    clean_run = run_publishing(run_dag, hub, "faults_clean", folder)
    assert set(task_states(clean_run).values()) == {"success"}
    clean = outcome(api)
    assert clean["commits"] == 3 and clean["completed_jobs"] == 1  # initial commit + upload + promote
    assert len(clean["corpus"]) == 11 and clean["corpus_commits"] >= 4  # 6 shards, 2 per commit
    assert [status for _, status, _ in clean["endpoints"]] == ["running"] and len(clean["webhooks"]) == 1

    hub.reset()
    inject_faults(hub)
    chaos_run = run_publishing(run_dag, hub, "faults_chaos", folder)
    fired = fired_faults(hub)

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
            "upload_corpus",
        ),
        "success",
    )
    assert_every_kind_fired(fired)
    assert (
        fired[("/api/datasets/*/commit/*", None, 502, False, True)] == 1
    )  # a large-folder commit's answer lost
    # Same files with the same content, same history (exactly one commit per upload), same decisions,
    # and a single Job although the task retried after failed requests.
    assert outcome(api) == clean
    assert xcom_value(chaos_run, "upload")["files_added"] == xcom_value(clean_run, "upload")["files_added"]


# -- The rest of the surface: transfers, @task.hf_job, Job/Endpoint/Provider sensors, the Endpoint
# lifecycle, the chooser, grants, and the deferrable path of every waiting task ---------------------

DATASET = "alice/reviews"
ENDPOINT = "life"
CHAT_MODEL = "acme/chat"
BUCKET = "warehouse"
EXPORT = {f"exports/part-{index}.csv": f"text,label\nreview {index},1\n".encode() for index in range(5)}
PROVIDERS = {
    "together": {"status": "live", "pricing": {"input": 0.2, "output": 0.6}, "throughput": 80},
    "fireworks-ai": {"status": "live", "pricing": {"input": 0.9, "output": 0.9}, "throughput": 140},
}
#: Requests whose change lands while their answer is lost: a retry must not do the change twice.
AFTER_APPLY_ROUTES = (
    ("/api/jobs/*", "POST"),
    ("/v2/endpoint/*", "POST"),
    ("/v2/endpoint/*/*/pause", "POST"),
    ("/v2/endpoint/*/*", "PUT"),
    ("/v2/endpoint/*/*", "DELETE"),
    ("/api/datasets/*/commit/*", "POST"),
    ("/api/models/*/user-access-request/grant", "POST"),
)


def lifecycle_dag(dag_id: str) -> Any:
    from airflow.sdk import DAG, task

    from airflow_provider_hub.operators.access import HfGrantAccessOperator
    from airflow_provider_hub.operators.endpoints import (
        HfDeleteInferenceEndpointOperator,
        HfPauseInferenceEndpointOperator,
        HfResumeInferenceEndpointOperator,
        HfScaleToZeroInferenceEndpointOperator,
        HfUpdateInferenceEndpointOperator,
    )
    from airflow_provider_hub.operators.inference_providers import HfChooseInferenceProviderOperator
    from airflow_provider_hub.sensors.endpoints import HfInferenceEndpointSensor
    from airflow_provider_hub.sensors.inference_providers import HfInferenceProviderSensor
    from airflow_provider_hub.sensors.jobs import HfJobSensor
    from airflow_provider_hub.transfers.hub_to_s3 import HfHubToS3Operator
    from airflow_provider_hub.transfers.s3_to_hub import S3ToHfHubOperator

    endpoint = {"name": ENDPOINT, "poll_interval": 0.1, **TASK_RETRIES}
    wait = {"poke_interval": 0.1, "timeout": 120, **TASK_RETRIES}
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
        import_data = S3ToHfHubOperator(
            task_id="import_from_s3",
            s3_bucket=BUCKET,
            s3_prefix="exports/",
            repo_id=DATASET,
            repo_type="dataset",
            path_in_repo="data",
            create_repo=True,
            commit_message="Import",
            **TASK_RETRIES,
        )
        wait_data = HfRepoFileSensor(
            task_id="wait_data",
            repo_id=DATASET,
            repo_type="dataset",
            path_in_repo="data/part-4.csv",
            deferrable=True,
            **wait,
        )
        export = HfHubToS3Operator(
            task_id="export_to_s3", repo_id=DATASET, repo_type="dataset", s3_bucket=BUCKET, s3_prefix="mirror"
        )

        @task.hf_job(deferrable=True, poll_interval=0.1, **TASK_RETRIES)
        def train(rows: int) -> dict[str, Any]:
            return {"rows": rows, "weights": [rows * 0.5, 1.0]}

        evaluate = HfRunJobOperator(
            task_id="evaluate",
            image="python:3.12",
            command=["python", "-c", "print('accuracy=0.93')"],
            deferrable=True,
            poll_interval=0.1,
            **TASK_RETRIES,
        )
        evaluated = "{{ ti.xcom_pull(task_ids='evaluate')['job_id'] }}"
        job_polled = HfJobSensor(task_id="job_polled", job_id=evaluated, **wait)
        job_deferred = HfJobSensor(task_id="job_deferred", job_id=evaluated, deferrable=True, **wait)

        create = HfCreateInferenceEndpointOperator(
            task_id="deploy", repository=DATASET.replace("reviews", "model"), deferrable=True, **endpoint
        )
        update = HfUpdateInferenceEndpointOperator(
            task_id="update", max_replica=2, deferrable=True, **endpoint
        )
        pause = HfPauseInferenceEndpointOperator(task_id="pause", **endpoint)
        paused = HfInferenceEndpointSensor(task_id="paused", name=ENDPOINT, target_status="paused", **wait)
        resume = HfResumeInferenceEndpointOperator(task_id="resume", deferrable=True, **endpoint)
        to_zero = HfScaleToZeroInferenceEndpointOperator(task_id="scale_to_zero", **endpoint)
        woken = HfInferenceEndpointSensor(
            task_id="woken", name=ENDPOINT, resume_if_paused=True, deferrable=True, **wait
        )
        delete = HfDeleteInferenceEndpointOperator(task_id="tear_down", name=ENDPOINT, **TASK_RETRIES)

        provider_live = HfInferenceProviderSensor(
            task_id="provider_live", model_id=CHAT_MODEL, providers=["fireworks-ai"], deferrable=True, **wait
        )
        choose = HfChooseInferenceProviderOperator(task_id="choose", model_id=CHAT_MODEL, **TASK_RETRIES)
        HfGrantAccessOperator(task_id="grant", repo_id=GATED_REPO, users=["bob", "carol"], **TASK_RETRIES)

        import_data >> wait_data >> [export, train(5)]
        evaluate >> [job_polled, job_deferred]
        create >> update >> pause >> paused >> resume >> to_zero >> woken >> delete
        provider_live >> choose
    return dag


def run_lifecycle(run_dag: Any, hub: Any, s3: Any, dag_id: str) -> Any:
    hub.add_repo("alice/model", files={"config.json": "{}"})
    hub.add_repo(GATED_REPO, gated="manual")
    for user in ("bob", "carol"):
        hub.add_user(user)
    hub.add_repo(CHAT_MODEL, files={"README.md": "---\npipeline_tag: text-generation\n---\n"})
    hub.set_endpoint_plan(ENDPOINT, [("pending", 0.1), ("initializing", 0.2), ("running", None)])
    hub.set_inference_providers(CHAT_MODEL, PROVIDERS)
    for key, body in EXPORT.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return run_dag(lifecycle_dag(dag_id))


def lifecycle_outcome(hub: Any, s3: Any, dag_run: Any) -> dict[str, Any]:
    """What the DAG changed on the Hub and in S3, and what its tasks returned, comparable across runs."""
    from huggingface_hub import HfApi

    from airflow_provider_hub.hooks.hub import HfHubHook

    api = HfApi(endpoint=hub.url, token=hub.token)
    mirrored = s3.list_objects_v2(Bucket=BUCKET, Prefix="mirror/").get("Contents", [])
    jobs = api.list_jobs(namespace="alice")
    return {
        "dataset": repo_state(api, DATASET, repo_type="dataset"),
        "dataset_commits": commit_count(api, DATASET, repo_type="dataset"),
        "s3_mirror": {obj["Key"]: obj["ETag"] for obj in mirrored},
        "jobs": sorted(job.status.stage for job in jobs),
        "endpoints": HfHubHook().api.list_inference_endpoints(namespace="alice"),
        "granted": {r.username for r in api.list_accepted_access_requests(GATED_REPO)},
        "trained": xcom_value(dag_run, "train"),
        "endpoint_statuses": {
            task: xcom_value(dag_run, task)["status"]
            for task in ("deploy", "update", "pause", "paused", "resume", "scale_to_zero", "woken")
        },
        "max_replica": xcom_value(dag_run, "update")["max_replica"],
        "deleted": xcom_value(dag_run, "tear_down")["deleted"],
        "provider_live": xcom_value(dag_run, "provider_live")["provider"],
        "chosen": xcom_value(dag_run, "choose")["provider"],
        "job_sensors": [xcom_value(dag_run, task)["stage"] for task in ("job_polled", "job_deferred")],
    }


def test_lifecycle_transfers_and_deferred_waits_complete_under_faults(
    tolerant_subprocess_hub: Any, run_dag: Any, s3: Any
) -> None:
    hub = tolerant_subprocess_hub
    s3.create_bucket(Bucket=BUCKET)
    clean_run = run_lifecycle(run_dag, hub, s3, "lifecycle_clean")
    assert set(task_states(clean_run).values()) == {"success"}, task_states(clean_run)
    clean = lifecycle_outcome(hub, s3, clean_run)
    assert clean["jobs"] == ["COMPLETED", "COMPLETED"] and clean["endpoints"] == []
    assert clean["trained"] == {"rows": 5, "weights": [2.5, 1.0]} and clean["chosen"] == "together"
    assert len(clean["s3_mirror"]) == len(EXPORT) + 1  # the dataset's files + its .gitattributes

    hub.reset()
    for bucket_object in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=bucket_object["Key"])
    inject_faults(hub)
    for route, method in AFTER_APPLY_ROUTES:
        hub.inject_fault(route, status=502, after_apply=True, times=1, method=method)
    chaos_run = run_lifecycle(run_dag, hub, s3, "lifecycle_chaos")
    fired = fired_faults(hub)

    assert set(task_states(chaos_run).values()) == {"success"}, task_states(chaos_run)
    assert_every_kind_fired(fired)
    lost_answers = {
        (route, method): fired[(route, method, 502, False, True)] for route, method in AFTER_APPLY_ROUTES
    }
    assert all(lost_answers.values()), lost_answers  # every lost answer really happened
    assert lifecycle_outcome(hub, s3, chaos_run) == clean


# -- the release workflow -------------------------------------------------------------------------------

RELEASE_REPO = "alice/release"
SPACE = "alice/release-demo"
SCRATCH = "alice/release-scratch"
#: Each change of the release workflow loses its answer once, after it landed.
RELEASE_AFTER_APPLY_ROUTES = (
    ("/api/models/*/*/discussions", "POST"),
    ("/api/models/*/*/discussions/*/comment", "POST"),
    ("/api/models/*/*/discussions/*/merge", "POST"),
    ("/api/models/*/*/discussions/*/status", "POST"),
    ("/api/models/*/*/settings", "PUT"),
    ("/api/models/*/*/super-squash/*", "POST"),
    ("/api/models/*/*/lfs-files/batch", "POST"),
    ("/api/spaces/*/*/restart", "POST"),
    ("/api/spaces/*/*/variables", "POST"),
    ("/api/spaces/*/*/pause", "POST"),
    ("/api/collections/*/*/items", "POST"),
    ("/api/repos/delete", "DELETE"),
)


def release_dag(dag_id: str, folder: Path) -> Any:
    from airflow.sdk import DAG, chain

    from airflow_provider_hub.operators.collections import HfAddToCollectionOperator
    from airflow_provider_hub.operators.discussions import (
        HfChangeDiscussionStatusOperator,
        HfCommentDiscussionOperator,
        HfCreatePullRequestOperator,
        HfMergePullRequestOperator,
    )
    from airflow_provider_hub.operators.repo import (
        HfCreateBranchOperator,
        HfDeleteBranchOperator,
        HfDeleteLfsFilesOperator,
        HfDeleteRepoOperator,
        HfSquashHistoryOperator,
        HfUpdateRepoSettingsOperator,
    )
    from airflow_provider_hub.operators.spaces import (
        HfPauseSpaceOperator,
        HfRestartSpaceOperator,
        HfUpdateSpaceOperator,
    )
    from airflow_provider_hub.sensors.discussions import HfPullRequestSensor
    from airflow_provider_hub.sensors.repo import HfRevisionSensor
    from airflow_provider_hub.sensors.spaces import HfSpaceSensor

    num = "{{ ti.xcom_pull(task_ids='open_pr')['num'] }}"
    question = "{{ ti.xcom_pull(task_ids='ask')['num'] }}"
    repo = {"repo_id": RELEASE_REPO, **TASK_RETRIES}
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
        chain(
            HfCreatePullRequestOperator(task_id="open_pr", title="Candidate", **repo),
            HfUploadFolderOperator(
                task_id="push", folder_path=str(folder), revision="refs/pr/{{ ti.xcom_pull(task_ids='open_pr')['num'] }}",
                commit_message="Candidate", **repo,
            ),
            HfCommentDiscussionOperator(task_id="report", discussion_num=num, comment="accuracy 0.93", **repo),
            HfMergePullRequestOperator(task_id="merge", discussion_num=num, **repo),
            HfPullRequestSensor(task_id="merged", discussion_num=num, poke_interval=0.2, deferrable=True, **repo),
            HfCreatePullRequestOperator(task_id="ask", title="Question", **repo),
            HfChangeDiscussionStatusOperator(task_id="close", discussion_num=question, **repo),
            HfUpdateRepoSettingsOperator(task_id="publish", private=False, gated="auto", **repo),
            HfCreateBranchOperator(task_id="branch", branch="rc", **repo),
            HfRevisionSensor(task_id="branched", revision="rc", poke_interval=0.2, deferrable=True, **repo),
            HfDeleteBranchOperator(task_id="unbranch", branch="rc", **repo),
            HfSquashHistoryOperator(task_id="squash", commit_message="Release", **repo),
            HfDeleteLfsFilesOperator(task_id="free", dry_run=False, **repo),
            HfUpdateSpaceOperator(task_id="point_space", repo_id=SPACE, variables={"REVISION": "release"}, **TASK_RETRIES),
            HfRestartSpaceOperator(task_id="restart", repo_id=SPACE, poll_interval=0.2, deferrable=True, **TASK_RETRIES),
            HfSpaceSensor(task_id="running", repo_id=SPACE, poke_interval=0.2, **TASK_RETRIES),
            HfPauseSpaceOperator(task_id="pause", repo_id=SPACE, **TASK_RETRIES),
            HfAddToCollectionOperator(
                task_id="feature", collection_slug="{{ var.value.release_collection }}", item_id=RELEASE_REPO,
                note="Released", **TASK_RETRIES,
            ),
            HfDeleteRepoOperator(task_id="drop_scratch", repo_id=SCRATCH, **TASK_RETRIES),
        )  # fmt: skip
    return dag


def release_outcome(api: Any, dag_run: Any) -> dict[str, Any]:
    discussions = sorted(api.get_repo_discussions(RELEASE_REPO), key=lambda d: d.num)
    details = [api.get_discussion_details(RELEASE_REPO, d.num) for d in discussions]
    info = api.model_info(RELEASE_REPO)
    return {
        "files": repo_state(api, RELEASE_REPO),
        "commits": commit_count(api, RELEASE_REPO),
        "discussions": [(d.title, d.status, [e.type for e in d.events]) for d in details],
        "settings": (info.private, info.gated),
        "branches": sorted(b.name for b in api.list_repo_refs(RELEASE_REPO).branches),
        "lfs_files": sorted(f.filename for f in api.list_lfs_files(RELEASE_REPO)),
        "space": (
            api.get_space_runtime(SPACE).stage,
            {k: v.value for k, v in api.get_space_variables(SPACE).items()},
        ),
        "freed": xcom_value(dag_run, "free")["deleted"],
        "collection": [
            (item.item_id, item.note)
            for item in api.get_collection(os.environ["AIRFLOW_VAR_RELEASE_COLLECTION"]).items
        ],
        "scratch_left": api.repo_exists(SCRATCH),
    }


def test_release_workflow_completes_under_faults_with_the_fault_free_outcome(
    tolerant_connection: Any, run_dag: Any, api: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    hub = tolerant_connection
    folder = make_model_folder(tmp_path / "candidate", small_files=3)

    def seed() -> None:
        hub.add_repo(RELEASE_REPO, private=True, files={"old.bin": b"\0superseded weights"})
        api.delete_file("old.bin", RELEASE_REPO)  # an LFS object nothing references any more
        api.create_repo(SPACE, repo_type="space", space_sdk="gradio")
        hub.set_space_plan(SPACE, [("BUILDING", 0.2), ("RUNNING", None)])
        hub.add_repo(SCRATCH)
        monkeypatch.setenv("AIRFLOW_VAR_RELEASE_COLLECTION", api.create_collection("Releases").slug)

    seed()
    clean_run = run_dag(release_dag("release_clean", folder))
    assert set(task_states(clean_run).values()) == {"success"}, task_states(clean_run)
    clean = release_outcome(api, clean_run)
    assert clean["commits"] == 1 and clean["freed"] == 1 and clean["settings"] == (False, "auto")
    assert clean["collection"] == [(RELEASE_REPO, "Released")] and clean["scratch_left"] is False
    assert clean["space"] == ("PAUSED", {"REVISION": "release"})
    assert [(title, status) for title, status, _ in clean["discussions"]] == [
        ("Candidate", "merged"),
        ("Question", "closed"),
    ]

    hub.reset()
    seed()
    inject_faults(hub)
    for route, method in RELEASE_AFTER_APPLY_ROUTES:
        hub.inject_fault(route, status=502, after_apply=True, times=1, method=method)
    chaos_run = run_dag(release_dag("release_chaos", folder))
    fired = fired_faults(hub)

    assert set(task_states(chaos_run).values()) == {"success"}, task_states(chaos_run)
    assert_every_kind_fired(fired)
    lost = {
        (route, method): fired[(route, method, 502, False, True)]
        for route, method in RELEASE_AFTER_APPLY_ROUTES
    }
    assert all(lost.values()), lost  # every lost answer really happened
    assert release_outcome(api, chaos_run) == clean
