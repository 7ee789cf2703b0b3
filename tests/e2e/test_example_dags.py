"""Every DAG in ``example_dags/`` loads from its file and runs green with real Airflow against the emulator.

DAGs are loaded as the DAG processor loads them (``DagBag`` over the folder), then run with ``dag.test()``;
each test checks what the run changed on the Hub (commits, decisions, Jobs) and what it returned, and that
none of the run's secrets (the connection's token, a webhook secret, the AWS secret key) shows in what it
logged, returned or rendered (``tests.secrets_scan``).
"""

from __future__ import annotations

import asyncio
import json
import struct
from pathlib import Path
from typing import Any

import pendulum
import pytest

from tests.helpers import task_states, xcom_value
from tests.secrets_scan import assert_no_secret_in, dag_test_places, distinctive_secret
from tests.support.webhooks import StateStore

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"


def load_example(dag_id: str, file: str | None = None) -> Any:
    """The DAG ``dag_id`` of ``example_dags/{file or dag_id}.py``, freshly parsed as a worker parses it.

    Each run gets its own parse: ``dag.test()`` writes a run's ``conf`` into the DAG's ``Param`` objects,
    so a DAG object reused across runs would carry one run's conf into the next.
    """
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=EXAMPLE_DAGS / f"{file or dag_id}.py")
    assert bag.import_errors == {}
    return bag.dags[dag_id]


#: Every example DAG, each run by a test below: a new example without a test fails ``test_every_example_dag_loads``.
RUN_BELOW = {
    "example_access_triage",
    "example_dataset_refresh",
    "example_dataset_refresh_webhook_setup",
    "example_hf_job_pipeline",
    "example_publish_model",
    "example_release_review",
    "example_repo_hygiene",
    "example_s3_mirror",
}


#: The runs every dated example is tested on: a scheduled run (Airflow's default cron timetable gives it a
#: logical date equal to its ``run_after``) and Airflow 3's default manual run from the UI, the CLI or the
#: REST API, which has no logical date, so no ``ds`` in its template context.
RUN_TYPES = ("scheduled", "manual")


def run_on(run_type: str, day: pendulum.DateTime) -> dict[str, Any]:
    """``dag.test()`` arguments for a run of ``run_type`` due on ``day``."""
    return {"logical_date": day if run_type == "scheduled" else None, "run_after": day}


def assert_every_template_rendered(dag_run: Any) -> None:
    """Every task instance of ``dag_run`` that ran recorded its rendered template fields, none left unrendered
    (a task a branch skipped renders nothing)."""
    from airflow import settings
    from airflow.models.renderedtifields import RenderedTaskInstanceFields

    assert dag_run.logical_date is None or dag_run.logical_date == dag_run.run_after
    with settings.Session() as session:
        for ti in dag_run.get_task_instances(session=session):
            if ti.state == "skipped":
                continue
            fields = RenderedTaskInstanceFields.get_templated_fields(ti, session=session)
            assert fields is not None, f"{ti.task_id} rendered nothing"
            assert "{{" not in json.dumps(fields, default=str), (ti.task_id, fields)


def test_every_example_dag_loads() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=EXAMPLE_DAGS)
    assert bag.import_errors == {}
    assert {Path(dag.fileloc).name for dag in bag.dags.values()} == {
        p.name for p in EXAMPLE_DAGS.glob("*.py")
    }
    assert set(bag.dag_ids) == RUN_BELOW
    for dag in bag.dags.values():
        assert {"huggingface", "example"} <= set(dag.tags), dag.dag_id


# -- access triage ----------------------------------------------------------------------------------


@pytest.mark.parametrize("run_type", RUN_TYPES)
def test_access_triage_decides_by_policy_and_reports(
    run_type: str, hub_connection: Any, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import HfApi

    repo = "acme/gated-model"
    hub_connection.add_user("bob", email="bob@gmail.com", orgs=["acme"])
    hub_connection.add_access_requests(
        repo,
        [
            {"user": "bob", "timestamp": "2026-01-10T08:00:00Z"},  # acme member
            {"user": "carol", "email": "carol@cs.university.edu", "timestamp": "2026-01-10T09:00:00Z"},
            {
                "user": "dave",
                "email": "dave@gmail.com",
                "fields": {"intended_use": "Research", "affiliation": "Independent lab"},
                "timestamp": "2026-01-10T10:00:00Z",
            },
            {
                "user": "eve",
                "email": "eve@startup.io",
                "fields": {"intended_use": "commercial", "affiliation": "Startup"},
                "timestamp": "2026-01-10T11:00:00Z",
            },
            {"user": "frank", "email": "frank@gmail.com", "fields": {"intended_use": "research"}},
        ],
    )
    dry = run_dag(
        load_example("example_access_triage"),
        **run_on(run_type, pendulum.datetime(2026, 1, 11, tz="UTC")),
        run_conf={"dry_run": True},
    )
    assert task_states(dry) == {"triage": "success", "report": "success"}
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    assert len(list(api.list_pending_access_requests(repo))) == 5  # a dry run changes nothing
    assert xcom_value(dry, "report").startswith("Access triage would decide: 3 accepted, 2 rejected")

    dag_run = run_dag(
        load_example("example_access_triage"), **run_on(run_type, pendulum.datetime(2026, 1, 12, tz="UTC"))
    )
    assert task_states(dag_run) == {"triage": "success", "report": "success"}
    assert_every_template_rendered(dag_run)
    decisions = xcom_value(dag_run, "triage")
    assert sorted(decisions["accepted"]) == ["bob", "carol", "dave"]
    assert sorted(decisions["rejected"]) == ["eve", "frank"]
    assert (decisions["left_pending"], decisions["errors"], decisions["dry_run"]) == ([], [], False)
    assert xcom_value(dag_run, "report") == (
        "Access triage decided: 3 accepted, 2 rejected, 0 left pending, 0 errors"
    )

    assert list(api.list_pending_access_requests(repo)) == []
    assert sorted(r.username for r in api.list_accepted_access_requests(repo)) == ["bob", "carol", "dave"]
    rejected = {r.username: r for r in api.list_rejected_access_requests(repo)}
    assert sorted(rejected) == ["eve", "frank"]
    reason = hub_connection.state.access.requests["model", repo]["eve"].rejection_reason
    assert reason == f"{repo} is open to research use only (reviewed 2026-01-12)."
    assert_no_secret_in(dag_test_places(capfd.readouterr()), {"token": hub_connection.token})


# -- @task.hf_job pipeline --------------------------------------------------------------------------


@pytest.mark.parametrize("run_type", RUN_TYPES)
def test_hf_job_pipeline_fits_remotely_and_checks_locally(
    run_type: str, subprocess_hub: Any, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import HfApi

    dag_run = run_dag(
        load_example("example_hf_job_pipeline"),
        **run_on(run_type, pendulum.now("UTC")),
        run_conf={"samples": 2000},
    )
    assert task_states(dag_run) == {"plan": "success", "fit_line": "success", "check_fit": "success"}
    assert_every_template_rendered(dag_run)

    fit = xcom_value(dag_run, "fit_line")
    assert fit["samples"] == 2000
    assert abs(fit["slope"] - 2.5) < 0.05 and abs(fit["intercept"] + 1.0) < 0.05
    errors = xcom_value(dag_run, "check_fit")
    assert errors == {"slope": abs(fit["slope"] - 2.5), "intercept": abs(fit["intercept"] + 1.0)}

    # The fit ran as a Hub Job that completed, with the flavor from the DAG's params.
    job_id = xcom_value(dag_run, "fit_line", key="job_id")
    job = HfApi(endpoint=subprocess_hub.url, token=subprocess_hub.token).inspect_job(job_id=job_id)
    assert (job.status.stage, job.flavor) == ("COMPLETED", "cpu-basic")
    assert_no_secret_in(dag_test_places(capfd.readouterr()), {"token": subprocess_hub.token})


# -- S3 -> Hub mirror -------------------------------------------------------------------------------


@pytest.mark.parametrize("run_type", RUN_TYPES)
def test_s3_mirror_publishes_the_days_export_and_archives_the_commit(
    run_type: str,
    hub_connection: Any,
    run_dag: Any,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from huggingface_hub import HfApi

    # moto takes any key; a distinctive one lets the scan find it. The S3 hook reads it from the environment.
    aws_secret_key = distinctive_secret("awssecret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws_secret_key)
    bucket, repo = "exports-e2e", "acme/reviews"
    s3.create_bucket(Bucket=bucket)
    export = {"part-000.csv": b"text,label\ngreat,1\n", "part-001.csv": b"text,label\nawful,0\n"}
    for name, body in export.items():
        s3.put_object(Bucket=bucket, Key=f"reviews/2026-01-15/{name}", Body=body)
    s3.put_object(Bucket=bucket, Key="reviews/2026-01-14/part-000.csv", Body=b"yesterday")

    dag_run = run_dag(
        load_example("example_s3_mirror"),
        **run_on(run_type, pendulum.datetime(2026, 1, 15, tz="UTC")),
        run_conf={"s3_bucket": bucket},
    )
    assert task_states(dag_run) == {"s3_to_hub": "success", "hub_to_s3": "success", "report": "success"}
    assert_every_template_rendered(dag_run)

    published = xcom_value(dag_run, "s3_to_hub")
    assert (published["s3_objects"], published["files_added"]) == (2, 2)
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    assert api.repo_info(repo, repo_type="dataset").private is True
    latest = list(api.list_repo_commits(repo, repo_type="dataset"))[0]
    assert (latest.commit_id, latest.title) == (
        published["commit_oid"],
        "Export of 2026-01-15 from s3://exports-e2e/reviews/",
    )
    files = {f for f in api.list_repo_files(repo, repo_type="dataset") if f.startswith("data/")}
    assert files == {f"data/2026-01-15/{name}" for name in export}
    local = api.hf_hub_download(repo, "data/2026-01-15/part-001.csv", repo_type="dataset")
    assert Path(local).read_bytes() == export["part-001.csv"]

    archived = xcom_value(dag_run, "hub_to_s3")
    assert (archived["commit_oid"], archived["files_copied"]) == (published["commit_oid"], 2)
    prefix = f"published/{published['commit_oid']}/"
    assert xcom_value(dag_run, "report") == f"s3://{bucket}/{prefix}"
    for name, body in export.items():
        assert s3.get_object(Bucket=bucket, Key=f"{prefix}data/2026-01-15/{name}")["Body"].read() == body
    assert_no_secret_in(
        dag_test_places(capfd.readouterr()), {"token": hub_connection.token, "aws": aws_secret_key}
    )


# -- dataset refresh on Hub changes -----------------------------------------------------------------

REFRESH_DATASET = "acme/reviews"
REFRESH_URI = f"hf://datasets/{REFRESH_DATASET}"
#: The password of ``hf_webhook_secret``: the set-up DAG gives it to the Hub; the watcher checks deliveries.
WEBHOOK_SECRET = distinctive_secret("whsecret")
WATCHER_TRIGGERS = {
    "webhook": (
        "airflow_provider_hub.triggers.webhooks.HfWebhookTrigger",
        {
            "path": "hf-webhook",
            "secret_conn_id": "hf_webhook_secret",
            "repo_ids": [f"datasets/{REFRESH_DATASET}"],
            "events": ["repo.content"],
            "hf_conn_id": "huggingface_hub_default",
            "port": None,
            "host": None,
        },
    ),
    "poll": (
        "airflow_provider_hub.triggers.webhooks.HfRepoCommitTrigger",
        {
            "repo_id": REFRESH_DATASET,
            "repo_type": "dataset",
            "revision": "main",
            "poll_interval": 300,
            "hf_conn_id": "huggingface_hub_default",
        },
    ),
}


def load_refresh_dag(
    monkeypatch: pytest.MonkeyPatch, dag_id: str = "example_dataset_refresh", **config: Any
) -> Any:
    monkeypatch.setenv("AIRFLOW_VAR_HF_DATASET_REFRESH", json.dumps(config))
    return load_example(dag_id, file="example_dataset_refresh_webhook")


def activate(dag: Any) -> None:
    """Write the DAG to the metadata DB, unpause it and write it again, as the DAG processor's next parse
    would: only assets of active, unpaused DAGs get their watchers' triggers registered."""
    from airflow import settings
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.models.dag import DagModel
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from sqlalchemy import update

    def write() -> None:
        with settings.Session() as session:
            DagBundlesManager().sync_bundles_to_db(session=session)
            session.commit()
            update_dag_parsing_results_in_db(
                "dags-folder", None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(), session=session
            )
            session.commit()

    write()
    with settings.Session() as session:
        session.execute(update(DagModel).where(DagModel.dag_id == dag.dag_id).values(is_paused=False))
        session.commit()
    write()


def registered_triggers(uri: str) -> list[Any]:
    """The triggers the triggerer would run for the asset ``uri``."""
    from airflow import settings
    from airflow.models.asset import AssetModel
    from sqlalchemy import select

    with settings.Session() as session:
        asset = session.scalars(select(AssetModel).where(AssetModel.uri == uri)).one()
        triggers = list(asset.triggers)
        session.expunge_all()
        return triggers


@pytest.mark.parametrize("mode", ["webhook", "poll"])
def test_dataset_refresh_watcher_is_registered_for_the_triggerer(
    mode: str, monkeypatch: pytest.MonkeyPatch, airflow_db: None
) -> None:
    from airflow import settings
    from airflow.models.asset import AssetModel, DagScheduleAssetReference
    from airflow.sdk.module_loading import import_string
    from sqlalchemy import select

    activate(load_refresh_dag(monkeypatch, trigger=mode))
    with settings.Session() as session:
        scheduled = session.scalars(
            select(DagScheduleAssetReference.dag_id)
            .join(AssetModel, DagScheduleAssetReference.asset_id == AssetModel.id)
            .where(AssetModel.uri == REFRESH_URI)
        ).all()
    assert scheduled == ["example_dataset_refresh"]

    [trigger] = registered_triggers(REFRESH_URI)
    classpath, kwargs = WATCHER_TRIGGERS[mode]
    assert (trigger.classpath, trigger.kwargs) == (classpath, kwargs)
    # The triggerer rebuilds the trigger from the stored kwargs alone.
    assert import_string(classpath)(**trigger.kwargs).serialize() == (classpath, kwargs)


async def event_after(trigger: Any, change: Any, ready: Any) -> Any:
    """Start ``trigger``, make ``change`` (a blocking call) once ``ready()`` says the trigger waits for it,
    return its first event."""
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook

    events = trigger.run()
    first = asyncio.ensure_future(events.__anext__())
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while not ready():
            assert asyncio.get_running_loop().time() < deadline, "the watcher never got ready"
            await asyncio.sleep(0.05)
        await asyncio.to_thread(change)
        return await asyncio.wait_for(first, timeout=20)
    finally:
        first.cancel()
        await events.aclose()
        await HfHubAsyncHook.aclose_shared_clients()


@pytest.mark.parametrize("mode", ["webhook", "poll"])
def test_dataset_refresh_reads_the_changed_file_at_the_new_commit(
    mode: str,
    request: pytest.FixtureRequest,
    hub_connection: Any,
    run_dag: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A commit on the Hub -> the DAG's own watcher fires (a real webhook delivery, or a poll) -> the
    triggerer's asset event -> a run of the consumer, created with that event as the scheduler creates it,
    summarises the file at the new commit."""
    import airflow.models.dagrun
    from airflow import settings
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.models.trigger import Trigger
    from airflow.sdk.module_loading import import_string
    from huggingface_hub import HfApi
    from sqlalchemy import delete, select

    summaries = tmp_path / "summaries"
    airflow_url = request.getfixturevalue("webhook_receiver") if mode == "webhook" else "http://unused"
    config = {"trigger": mode, "airflow_url": airflow_url, "summary_root": summaries.as_uri()}
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_WEBHOOK_SECRET", json.dumps({"conn_type": "generic", "password": WEBHOOK_SECRET})
    )
    hub_connection.add_repo(
        REFRESH_DATASET, repo_type="dataset", files={"data/reviews.csv": "text,label\ngood,pos\n"}
    )
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    seen_head = api.dataset_info(REFRESH_DATASET).sha

    if mode == "webhook":
        setup_run = run_dag(load_refresh_dag(monkeypatch, "example_dataset_refresh_webhook_setup", **config))
        assert task_states(setup_run) == {"create_webhook": "success"}
        assert xcom_value(setup_run, "create_webhook")["action"] == "created"
        [webhook] = api.list_webhooks()
        assert webhook.url == f"{airflow_url}/hf-webhooks/hf-webhook"
        assert [(w.type, w.name) for w in webhook.watched] == [("dataset", REFRESH_DATASET)]

    dag = load_refresh_dag(monkeypatch, **config)
    activate(dag)
    # The watcher the triggerer would run, rebuilt from what the DAG registered; it last fired for ``seen_head``.
    [registered] = registered_triggers(REFRESH_URI)
    kwargs = {**registered.kwargs, "poll_interval": 0.1} if mode == "poll" else registered.kwargs
    watcher = import_string(registered.classpath)(**kwargs)
    watermark = f"head::dataset/{REFRESH_DATASET}@main"
    store = StateStore.holding(watcher, {watermark: seen_head})
    watcher.asset_state_store = store
    commits: list[Any] = []

    def commit_three_reviews() -> None:
        commits.append(
            api.upload_file(
                path_or_fileobj=b"text,label\ngood,pos\nbad,neg\nfine,pos\n",
                path_in_repo="data/reviews.csv",
                repo_id=REFRESH_DATASET,
                repo_type="dataset",
                commit_message="Three reviews",
            )
        )

    head_reads = f"/api/datasets/{REFRESH_DATASET}/revision/*"
    reads_before = hub_connection.request_count(head_reads)

    def ready() -> bool:
        # The webhook watcher has taken its cursor and reconciled (one head read), so the commit reaches it
        # as a delivery; the poller is ready at once.
        reconciled = hub_connection.request_count(head_reads) > reads_before
        return mode == "poll" or ("cursor" in store.fields(watcher) and reconciled)

    event = asyncio.run(event_after(watcher, commit_three_reviews, ready))
    [commit] = commits
    assert (event.payload["head_sha"], event.payload["source"]) == (commit.oid, mode)
    assert store.fields(watcher)[watermark][-1] == commit.oid  # a restart will not fire it again

    Trigger.submit_event(registered.id, event)  # what the triggerer does with the event
    with settings.Session() as session:
        [asset_event] = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == REFRESH_URI)
            .order_by(AssetEvent.id.desc())
            .limit(1)
        ).all()
        assert asset_event.extra == {"from_trigger": True, "payload": event.payload}
        queued = session.scalars(
            select(AssetDagRunQueue.target_dag_id).where(AssetDagRunQueue.asset_id == asset_event.asset_id)
        ).all()
        assert queued == ["example_dataset_refresh"]
        asset_event_id = asset_event.id

    # dag.test() runs no scheduler: give the run it creates the queued event, as the scheduler would.
    create_run = airflow.models.dagrun.get_or_create_dagrun

    def create_run_on_the_asset_event(**kwargs: Any) -> Any:
        dag_run = create_run(**kwargs)
        session = kwargs["session"]
        dag_run.consumed_asset_events.append(session.get(AssetEvent, asset_event_id))
        session.execute(delete(AssetDagRunQueue).where(AssetDagRunQueue.target_dag_id == dag_run.dag_id))
        session.commit()
        return dag_run

    monkeypatch.setattr(airflow.models.dagrun, "get_or_create_dagrun", create_run_on_the_asset_event)
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"changed_revision": "success", "refresh": "success"}

    change = {"repo_id": REFRESH_DATASET, "revision": commit.oid}
    assert xcom_value(dag_run, "changed_revision") == change
    expected = {**change, "rows": 3, "labels": {"neg": 1, "pos": 2}}
    assert xcom_value(dag_run, "refresh") == expected
    assert json.loads((summaries / f"{commit.oid}.json").read_text()) == expected
    # The watcher ran in this process too: its log is in the scanned console output.
    assert_no_secret_in(
        dag_test_places(capfd.readouterr()), {"token": hub_connection.token, "webhook": WEBHOOK_SECRET}
    )


# -- model publishing (the demo's DAG) --------------------------------------------------------------


@pytest.mark.parametrize("run_type", RUN_TYPES)
def test_publish_model_trains_publishes_deploys_and_chooses(
    run_type: str, subprocess_hub: Any, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    """The DAG ``make demo`` runs, on an emulator set up as the demo sets it up (Jobs run as processes)."""
    from huggingface_hub import HfApi

    from airflow_provider_hub.demo import seed_emulator
    from airflow_provider_hub.hooks.hub import HfHubHook

    seed_emulator(subprocess_hub)
    dag_run = run_dag(
        load_example("example_publish_model"), **run_on(run_type, pendulum.datetime(2026, 1, 5, tz="UTC"))
    )
    assert task_states(dag_run) == dict.fromkeys(
        ["create_repo", "train", "package", "upload", "tag_release", "deploy", "choose_provider", "report"],
        "success",
    )
    assert_every_template_rendered(dag_run)

    # The weights the Job trained are the ones published and released.
    trained = xcom_value(dag_run, "train")
    assert len(trained["weights"]) == 64 and trained["accuracy"] > 0.9
    job = HfApi(endpoint=subprocess_hub.url, token=subprocess_hub.token).inspect_job(
        job_id=xcom_value(dag_run, "train", key="job_id")
    )
    assert (job.status.stage, job.flavor) == ("COMPLETED", "cpu-basic")

    repo = f"{subprocess_hub.user}/airflow-provider-hub-demo"
    upload = xcom_value(dag_run, "upload")
    assert upload["repo_id"] == repo and upload["commit_oid"]
    api = HfApi(endpoint=subprocess_hub.url, token=subprocess_hub.token)
    assert api.model_info(repo).private is True
    released = set(api.list_repo_files(repo, revision="v20260105"))
    assert {"README.md", "config.json", "model.safetensors"} <= released
    assert [(t.name, t.target_commit) for t in api.list_repo_refs(repo).tags] == [
        ("v20260105", upload["head_oid"])
    ]
    weights = Path(api.hf_hub_download(repo, "model.safetensors", revision="v20260105")).read_bytes()
    (header_size,) = struct.unpack("<Q", weights[:8])
    floats = struct.unpack(f"<{len(trained['weights'])}f", weights[8 + header_size :])
    assert [round(w, 6) for w in floats] == pytest.approx(trained["weights"], abs=1e-6)

    # The Endpoint serves the released revision; the cheapest live provider was chosen.
    endpoint = HfHubHook().get_inference_endpoint("airflow-provider-hub-demo")
    assert (endpoint["status"], endpoint["repository"], endpoint["revision"]) == (
        "running",
        repo,
        upload["head_oid"],
    )
    assert xcom_value(dag_run, "deploy")["url"] == endpoint["url"]
    choice = xcom_value(dag_run, "choose_provider")
    assert choice["provider"] == "nebius"
    assert [row["provider"] for row in choice["candidates"]] == ["nebius", "hf-inference"]
    assert_no_secret_in(dag_test_places(capfd.readouterr()), {"token": subprocess_hub.token})


def test_dataset_refresh_started_by_hand_refreshes_from_the_head_of_main(
    hub_connection: Any, run_dag: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A manual run without a logical date and without an asset event (the UI's Trigger button) summarises
    the file at the current head."""
    from huggingface_hub import HfApi

    hub_connection.add_repo(
        REFRESH_DATASET, repo_type="dataset", files={"data/reviews.csv": "text,label\ngood,pos\nbad,neg\n"}
    )
    head = HfApi(endpoint=hub_connection.url, token=hub_connection.token).dataset_info(REFRESH_DATASET).sha
    summaries = tmp_path / "summaries"
    dag = load_refresh_dag(monkeypatch, trigger="poll", summary_root=summaries.as_uri())
    dag_run = run_dag(dag, **run_on("manual", pendulum.now("UTC")))
    assert task_states(dag_run) == {"changed_revision": "success", "refresh": "success"}
    expected = {"repo_id": REFRESH_DATASET, "revision": head, "rows": 2, "labels": {"neg": 1, "pos": 1}}
    assert xcom_value(dag_run, "refresh") == expected
    assert json.loads((summaries / f"{head}.json").read_text()) == expected


# -- release through review, and repo hygiene ------------------------------------------------------------


@pytest.mark.parametrize("run_type", RUN_TYPES)
def test_release_review_merges_a_passing_candidate_tags_and_publishes(
    run_type: str, subprocess_hub: Any, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import HfApi

    space = f"{subprocess_hub.user}/release-review-demo-space"
    api = HfApi(endpoint=subprocess_hub.url, token=subprocess_hub.token)
    api.create_repo(space, repo_type="space", space_sdk="gradio")
    subprocess_hub.set_space_plan(space, [("BUILDING", 0.2), ("APP_STARTING", 0.2), ("RUNNING", None)])
    day = pendulum.datetime(2026, 1, 5, tz="UTC")
    dag_run = run_dag(load_example("example_release_review"), **run_on(run_type, day))
    states = task_states(dag_run)
    assert states == {
        **dict.fromkeys(
            [
                "create_repo",
                "open_review",
                "evaluate",
                "package",
                "push_candidate",
                "report",
                "decide",
                "merge",
            ],
            "success",
        ),
        "reject": "skipped",
        "tag_release": "success",
        "make_public": "success",
        "point_demo": "success",
        "restart_demo": "success",
    }
    assert_every_template_rendered(dag_run)
    repo = f"{subprocess_hub.user}/release-review-demo"
    num = xcom_value(dag_run, "open_review")["num"]
    details = api.get_discussion_details(repo, num)
    accuracy = xcom_value(dag_run, "evaluate")["accuracy"]
    assert details.status == "merged" and details.title == "Candidate 2026-01-05"
    comments = [e.content for e in details.events if e.type == "comment"]
    assert any(f"Held-out accuracy: **{accuracy}**" in c for c in comments)
    head = api.model_info(repo).sha
    assert details.merge_commit_oid == head and "config.json" in api.list_repo_files(repo)
    assert [(t.name, t.target_commit) for t in api.list_repo_refs(repo).tags] == [("v20260105", head)]
    assert api.model_info(repo).private is False
    # The demo Space serves the merged revision, restarted and running again.
    assert api.get_space_variables(space)["MODEL_REVISION"].value == head
    assert xcom_value(dag_run, "restart_demo")["stage"] == "RUNNING"
    assert_no_secret_in(dag_test_places(capfd.readouterr()), {"token": subprocess_hub.token})


def test_release_review_closes_a_failing_candidate(subprocess_hub: Any, run_dag: Any) -> None:
    from huggingface_hub import HfApi

    dag_run = run_dag(load_example("example_release_review"), run_conf={"min_accuracy": 0.99})
    states = task_states(dag_run)
    assert (states["merge"], states["reject"], states["tag_release"], states["make_public"]) == (
        "skipped",
        "success",
        "skipped",
        "skipped",
    )
    api = HfApi(endpoint=subprocess_hub.url, token=subprocess_hub.token)
    repo = f"{subprocess_hub.user}/release-review-demo"
    assert api.get_discussion_details(repo, xcom_value(dag_run, "open_review")["num"]).status == "closed"
    assert api.list_repo_files(repo) == [".gitattributes"] and api.model_info(repo).private is True


def test_repo_hygiene_squashes_and_frees_only_unreferenced_storage(hub_connection: Any, run_dag: Any) -> None:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    dataset = f"{hub_connection.user}/nightly-snapshots"
    api.create_repo(dataset, repo_type="dataset")
    for day in range(3):  # three nightly snapshots, each replacing the last
        api.upload_file(
            path_or_fileobj=f"\0snapshot {day}".encode(),
            path_in_repo="snapshot.bin",
            repo_id=dataset,
            repo_type="dataset",
        )
    api.create_tag(
        dataset,
        tag="2026-01-01",
        repo_type="dataset",
        revision=api.list_repo_commits(dataset, repo_type="dataset")[1].commit_id,
    )
    dag_run = run_dag(
        load_example("example_repo_hygiene", "example_release_review"), run_conf={"keep_days": 0}
    )
    assert set(task_states(dag_run).values()) == {"success"}
    assert [c.title for c in api.list_repo_commits(dataset, repo_type="dataset")][0].startswith(
        "Snapshots up to "
    )
    assert len(api.list_repo_commits(dataset, repo_type="dataset")) == 1
    preview, cleaned = xcom_value(dag_run, "preview_clean_up"), xcom_value(dag_run, "clean_up")
    assert (preview["dry_run"], preview["files"], preview["deleted"]) == (
        True,
        1,
        0,
    )  # snapshot 0: nothing keeps it
    assert (cleaned["files"], cleaned["deleted"], cleaned["bytes"]) == (1, 1, preview["bytes"])
    # The head's snapshot and the tagged one stay.
    assert len(list(api.list_lfs_files(dataset, repo_type="dataset"))) == 2
