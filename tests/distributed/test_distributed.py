"""The provider on a distributed Airflow: PostgreSQL, Redis, CeleryExecutor, two workers, two triggerers, two
api-servers behind a load balancer, scheduler, dag-processor; the Hub emulator and moto's S3 as servers.

Run by ``make test-distributed`` (and ``.ci/run``). The tests run in order on one cluster (``cluster.py``):

1. every example DAG of ``example_dags/`` runs green, once with a logical date (a scheduled run where the DAG
   has a schedule) and once manually without one;
2. ten concurrent publishing runs make exactly one commit and one Job each;
3. faults: ``kill -9`` of the triggerer holding deferred Job and Endpoint waits (they move and succeed),
   ``kill -9`` of the worker running an upload (retried on the other worker, one commit);
4. webhooks through the api-servers' receiver, with an api-server and a triggerer killed and the
   watcher's triggerer stopped while commits are pushed: one asset-triggered run per commit;
5. no error line from our code in any output or task log; no trigger's code holds a triggerer's loop (asyncio's
   debug mode names the task of each slow callback) and every "async thread was blocked" warning is the
   runner's own; no secret anywhere, every listening socket on loopback.

Figures (times to recover, runs per commit) go to ``tests/distributed/output/summary.{json,md}``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hub.triggers.webhooks import REFIRE_AFTER_SECONDS
from tests.distributed.cluster import Cluster, wait_until
from tests.distributed.conftest import OUTPUT
from tests.secrets_scan import assert_no_secret_in, database_texts, distinctive_secret, log_file_texts

pytestmark = pytest.mark.timeout(900)

#: The whole test's budget (seconds), start-up and stop included.
BUDGET = float(os.environ.get("HUB_DISTRIBUTED_BUDGET", "780"))
STARTED = time.monotonic()
SUMMARY: dict[str, Any] = {"figures": {}, "runs": {}, "findings": []}

EXAMPLES_WITH_SCHEDULE = ("example_access_triage", "example_publish_model", "example_s3_mirror")
EXAMPLES_WITHOUT_SCHEDULE = ("example_hf_job_pipeline", "example_dataset_refresh_webhook_setup")
EXAMPLE_ON_ASSET = "example_dataset_refresh"
REFRESH_DATASET = "acme/refresh-reviews"
FIXED_DATE = "2026-01-15T00:00:00+00:00"


def remaining() -> float:
    left = BUDGET - (time.monotonic() - STARTED)
    assert left > 0, f"the distributed test ran past its budget of {BUDGET:.0f}s"
    return left


class RemoteHub:
    """The emulator server's seeding calls that ``seed_emulator`` (``make demo``'s) makes, over HTTP."""

    user = "alice"

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def set_inference_providers(self, model_id: str, providers: dict[str, Any]) -> None:
        self.cluster.hub("set_inference_providers", model_id=model_id, providers=providers)


def seed(cluster: Cluster) -> None:
    """What the examples read on the Hub and in S3, before any DAG is unpaused."""
    from airflow_provider_hub.demo import seed_emulator

    cluster.hub("add_user", name="alice", token=cluster.secrets["token"])
    cluster.hub("add_user", name="bob", email="bob@gmail.com", orgs=["acme"])
    cluster.hub("add_repo", repo_id="acme/gated-model", gated="manual", files={"README.md": "# Gated"})
    cluster.hub(
        "add_access_requests",
        repo_id="acme/gated-model",
        requests=[
            {"user": "bob"},
            {"user": "carol", "email": "carol@cs.university.edu"},
            {"user": "eve", "email": "eve@startup.io", "fields": {"intended_use": "commercial"}},
        ],
    )
    seed_emulator(RemoteHub(cluster))  # type: ignore[arg-type]
    for repo in ("alice/dist-publish", "alice/dist-waits", "alice/dist-slow", "alice/dist-pushed"):
        cluster.hub("add_repo", repo_id=repo, files={"README.md": f"# {repo}"})
    cluster.hub(
        "add_repo",
        repo_id=REFRESH_DATASET,
        repo_type="dataset",
        files={"data/reviews.csv": "text,label\ngood,pos\nbad,neg\n"},
    )

    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{cluster.ports['s3']}",
        aws_access_key_id="distributed-test",
        aws_secret_access_key=cluster.secrets["aws"],
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket="acme-exports")
    # The day of each run's ``ds`` (a scheduled run's interval start, the fixed date) and around today.
    today = datetime.datetime.now(datetime.timezone.utc).date()
    days = {today + datetime.timedelta(days=d) for d in range(-8, 2)} | {datetime.date(2026, 1, 15)}
    for day in days:
        s3.put_object(
            Bucket="acme-exports", Key=f"reviews/{day}/part-000.csv", Body=f"text,label\n{day},1\n".encode()
        )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir(parents=True)
    from cryptography.fernet import Fernet

    secrets = {
        "token": distinctive_secret("hf_token"),
        "webhook": distinctive_secret("whsecret"),
        "aws": distinctive_secret("awssecret"),
        "jwt": base64.b64encode(os.urandom(24)).decode(),
        "fernet": Fernet.generate_key().decode(),
    }
    cluster = Cluster(OUTPUT, secrets)
    try:
        t0 = time.monotonic()
        cluster.start_postgres()
        cluster.start_redis()
        cluster.start_hub()
        cluster.start_s3()
        cluster.start_lb()
        SUMMARY["figures"]["services_up_s"] = round(time.monotonic() - t0, 1)
        seed(cluster)
        cluster.start_airflow()
        SUMMARY["figures"].update(cluster.figures)
        yield cluster
    finally:
        t0 = time.monotonic()
        cluster.stop()
        SUMMARY["figures"]["stop_s"] = round(time.monotonic() - t0, 1)
        SUMMARY["figures"]["total_s"] = round(time.monotonic() - STARTED, 1)
        SUMMARY["leftover_pids"] = cluster.leftover_pids()
        write_summary()
    assert not SUMMARY["leftover_pids"], f"processes left running: {SUMMARY['leftover_pids']}"


def write_summary() -> None:
    (OUTPUT / "summary.json").write_text(json.dumps(SUMMARY, indent=2, default=str))
    lines = ["| Figure | Value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in SUMMARY["figures"].items()]
    if SUMMARY.get("webhook"):
        lines += [
            "",
            "| Webhook scenario | Commits | Runs per commit | Lost | Duplicated | Watcher moved in | First run after"
            " the fault | Commit to run, median / max |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, row in SUMMARY["webhook"].items():
            lines.append(
                f"| {name} | {row['commits']} | {row['runs_per_commit']} | {row['lost']} | {row['duplicated']} "
                f"| {row.get('watcher_moved_s', '-')} s | {row.get('recover_s', '-')} s "
                f"| {row['median_commit_to_run_s']} / {row['max_commit_to_run_s']} s |"
            )
    if SUMMARY["runs"]:
        lines += ["", "| DAG run | State | Tasks |", "| --- | --- | --- |"]
        for run, row in SUMMARY["runs"].items():
            lines.append(f"| {run} | {row['state']} | {row['tasks']} |")
    if SUMMARY["findings"]:
        lines += ["", "Findings:"] + [f"- {finding}" for finding in SUMMARY["findings"]]
    (OUTPUT / "summary.md").write_text("\n".join(lines) + "\n")


def record_runs(cluster: Cluster, runs: dict[tuple[str, str], str]) -> dict[str, dict[str, str | None]]:
    """Each run's task states into the summary; ``{run: {task: state}}`` of the runs not all green."""
    bad = {}
    for (dag_id, run_id), state in runs.items():
        tasks = cluster.task_states(dag_id, run_id)
        SUMMARY["runs"][f"{dag_id} / {run_id}"] = {"state": state, "tasks": tasks}
        if state != "success" or set(tasks.values()) != {"success"}:
            bad[f"{dag_id} / {run_id}"] = tasks
    write_summary()
    return bad


def failing_task_log_excerpts(cluster: Cluster, runs: dict[str, Any], lines: int = 15) -> str:
    excerpts = []
    for run in runs:
        dag_id, run_id = run.split(" / ")
        for log in sorted((cluster.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}").rglob("*.log")):
            text = log.read_text(errors="replace").splitlines()
            errors = [line for line in text if '"level":"error"' in line.replace(" ", "")]
            excerpts.append(f"--- {log.relative_to(cluster.home)}\n" + "\n".join((errors or text)[-lines:]))
    return "\n".join(excerpts)


def wait_dags_parsed(cluster: Cluster, dag_ids: tuple[str, ...], timeout: float) -> None:
    def parsed() -> bool:
        rows = cluster.sql("SELECT dag_id FROM dag WHERE is_stale = false")
        errors = cluster.sql("SELECT filename, stacktrace FROM import_error")
        assert not errors, f"DAG import errors: {errors}"
        return set(dag_ids) <= {r[0] for r in rows}

    wait_until(parsed, timeout, f"the DAGs {dag_ids} to be parsed", interval=1)


def newest_run(cluster: Cluster, dag_id: str, run_type: str) -> str | None:
    rows = cluster.sql(
        "SELECT run_id FROM dag_run WHERE dag_id = :d AND run_type = :t ORDER BY id DESC LIMIT 1",
        d=dag_id,
        t=run_type,
    )
    return rows[0][0] if rows else None


# -- 1 and 2: every example, both run types --------------------------------------------------------


def test_every_example_dag_runs_with_and_without_a_logical_date(cluster: Cluster) -> None:
    t0 = time.monotonic()
    dag_ids = (*EXAMPLES_WITH_SCHEDULE, *EXAMPLES_WITHOUT_SCHEDULE, EXAMPLE_ON_ASSET)
    wait_dags_parsed(cluster, dag_ids, min(180, remaining()))
    SUMMARY["figures"]["examples_parsed_s"] = round(time.monotonic() - STARTED, 1)

    # A scheduled run (with a logical date): what the scheduler creates when a scheduled DAG is unpaused.
    first: list[tuple[str, str]] = []
    for dag_id in EXAMPLES_WITH_SCHEDULE:
        cluster.unpause(dag_id)
    for dag_id in EXAMPLES_WITH_SCHEDULE:
        first.append(
            (
                dag_id,
                wait_until(
                    lambda d=dag_id: newest_run(cluster, d, "scheduled"), 60, f"a scheduled run of {dag_id}"
                ),
            )
        )
    for dag_id in EXAMPLES_WITHOUT_SCHEDULE:
        cluster.unpause(dag_id)
        first.append((dag_id, cluster.trigger(dag_id, logical_date=FIXED_DATE)))
    # The asset-scheduled example runs on a commit to its dataset: the Hub's webhook (which the set-up
    # example creates) reaches the api-servers' receiver, and the example's watcher fires from there.
    cluster.unpause(EXAMPLE_ON_ASSET)
    setup_run = first[-1][1]
    first_sight = f"First sight of dataset/{REFRESH_DATASET}@main"
    pushed: dict[str, Any] = {}

    def push_when_watched() -> None:
        if pushed or cluster.run_state(EXAMPLES_WITHOUT_SCHEDULE[-1], setup_run) != "success":
            return
        if any(first_sight in cluster.procs[n].output() for n in ("triggerer-1", "triggerer-2")):
            info = hf_api(cluster).upload_file(
                path_or_fileobj=b"text,label\ngood,pos\nbad,neg\nfine,pos\n",
                path_in_repo="data/reviews.csv",
                repo_id=REFRESH_DATASET,
                repo_type="dataset",
                commit_message="Three reviews",
            )
            pushed.update(oid=info.oid, at=time.monotonic())

    # Then a manual run without a logical date of each, once its first run is over (two runs of one DAG
    # would race on the same repo).
    states: dict[tuple[str, str], str] = {}
    second: dict[str, str] = {}
    deadline = time.monotonic() + min(420, remaining())
    every = len(EXAMPLES_WITH_SCHEDULE) + len(EXAMPLES_WITHOUT_SCHEDULE) + 1
    while time.monotonic() < deadline and len(states) < 2 * every:
        push_when_watched()
        if pushed and EXAMPLE_ON_ASSET not in dict(first):
            run_id = newest_run(cluster, EXAMPLE_ON_ASSET, "asset_triggered")
            if run_id:
                first.append((EXAMPLE_ON_ASSET, run_id))
                SUMMARY["figures"]["example_commit_to_asset_run_s"] = round(
                    time.monotonic() - pushed["at"], 1
                )
        for dag_id, run_id in [*first, *second.items()]:
            state = cluster.run_state(dag_id, run_id)
            if state in ("success", "failed"):
                states[dag_id, run_id] = state
                if dag_id not in second:
                    second[dag_id] = cluster.trigger(dag_id)
        time.sleep(1)
    assert pushed, "the dataset refresh watcher never started (or its webhook set-up run failed)"
    assert EXAMPLE_ON_ASSET in dict(first), f"no asset-triggered run of {EXAMPLE_ON_ASSET} after a commit"
    for dag_id, run_id in [*first, *second.items()]:
        states.setdefault((dag_id, run_id), cluster.run_state(dag_id, run_id) or "missing")
    SUMMARY["figures"]["examples_s"] = round(time.monotonic() - t0, 1)
    bad = record_runs(cluster, states)
    assert not bad, f"runs not green: {json.dumps(bad, indent=1)}\n{failing_task_log_excerpts(cluster, bad)}"
    summary = json.loads((OUTPUT / "refresh_summaries" / f"{pushed['oid']}.json").read_text())
    assert (summary["revision"], summary["rows"]) == (pushed["oid"], 3), summary


# -- 2: ten concurrent publishing runs ------------------------------------------------------------


def hf_api(cluster: Cluster) -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=cluster.hub_url, token=cluster.secrets["token"])


def commit_titles(cluster: Cluster, repo_id: str) -> list[str]:
    return [c.title for c in hf_api(cluster).list_repo_commits(repo_id)]


def xcom_values(cluster: Cluster, dag_id: str, task_id: str, key: str) -> dict[str, Any]:
    rows = cluster.sql(
        "SELECT run_id, value FROM xcom WHERE dag_id = :d AND task_id = :t AND key = :k",
        d=dag_id,
        t=task_id,
        k=key,
    )
    values = {}
    for run_id, value in rows:
        try:
            values[run_id] = json.loads(value) if isinstance(value, str) else value
        except ValueError:  # a JSON column the driver already decoded to a string
            values[run_id] = value
    return values


def test_ten_concurrent_publishing_runs_make_one_commit_and_one_job_each(cluster: Cluster) -> None:
    t0 = time.monotonic()
    wait_dags_parsed(cluster, ("dist_publish", "dist_waits", "dist_slow_upload"), min(120, remaining()))
    cluster.unpause("dist_publish")
    runs = [("dist_publish", cluster.trigger("dist_publish", run_id=f"publish-{i:02d}")) for i in range(10)]
    states = cluster.wait_runs(runs, min(300, remaining()))
    SUMMARY["figures"]["ten_publishes_s"] = round(time.monotonic() - t0, 1)
    bad = record_runs(cluster, states)
    assert not bad, f"runs not green: {json.dumps(bad, indent=1)}\n{failing_task_log_excerpts(cluster, bad)}"

    titles = commit_titles(cluster, "alice/dist-publish")
    per_run = {run_id: titles.count(f"dist publish {run_id}") for _, run_id in runs}
    SUMMARY["figures"]["publish_commits_per_run"] = sorted(set(per_run.values()))
    assert per_run == dict.fromkeys(per_run, 1), f"commits per run: {per_run}"
    files = set(hf_api(cluster).list_repo_files("alice/dist-publish"))
    assert {f"runs/{run_id.replace('-', '_')}.txt" for _, run_id in runs} <= files

    jobs = [
        j for j in hf_api(cluster).list_jobs(namespace="alice") if (j.labels or {}).get("dist") == "publish"
    ]
    job_ids = xcom_values(cluster, "dist_publish", "train", "job_id")
    SUMMARY["figures"]["publish_jobs"] = len(jobs)
    assert sorted(job_ids) == sorted(run_id for _, run_id in runs)
    assert len(set(job_ids.values())) == 10 and {j.id for j in jobs} == set(job_ids.values())


# -- 3: kill -9 of the triggerer holding deferred waits, of the worker running an upload ------------

WAIT_TASKS = ("job_wait", "endpoint_wait")


def trigger_resumed(
    cluster: Cluster, run_id: str, task: str, triggerer_job: int, after: float
) -> dict[str, Any]:
    """When the trigger of ``task`` started on the triggerer job ``triggerer_job`` after ``after`` (epoch s),
    and when it first saw the Job's or Endpoint's status there, from that triggerer's log of the trigger."""
    folder = cluster.home / "logs" / "dag_id=dist_waits" / f"run_id={run_id}" / f"task_id={task}"
    found: dict[str, Any] = {}
    for log in sorted(folder.glob(f"attempt=*.log.trigger.{triggerer_job}.log")):
        for line in log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
                when = datetime.datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
            except (ValueError, KeyError):
                continue
            if when < after:
                continue
            if "starting" in entry.get("event", "") and "started" not in found:
                found["started"] = when
            if str(entry.get("logger", "")).startswith("airflow_provider_hub") and "status_seen" not in found:
                found["status_seen"] = when
    return found


def deferred_and_held(cluster: Cluster, run_id: str, tasks: list[str]) -> dict[str, dict[str, Any]] | None:
    """The task instances once every one is deferred on a trigger that a live triggerer holds."""
    tis = {task: cluster.task("dist_waits", run_id, task) for task in tasks}
    alive = {cluster.alive_job(name) for name in ("triggerer-1", "triggerer-2")} - {None}
    if all(ti and ti["state"] == "deferred" and ti["triggerer_id"] in alive for ti in tis.values()):
        return tis  # type: ignore[return-value]
    return None


def moved_off(cluster: Cluster, run_id: str, task: str, old_triggerer_id: int) -> float | None:
    """When the task's trigger is held by another triggerer (or the task went on)."""
    ti = cluster.task("dist_waits", run_id, task)
    if ti and (ti["state"] != "deferred" or ti["triggerer_id"] not in (None, old_triggerer_id)):
        return time.time()
    return None


def kill_the_holder(cluster: Cluster, run_id: str, tasks: list[str]) -> dict[str, dict[str, Any]]:
    """``kill -9`` the triggerer holding most of ``tasks``' triggers; what moved, how fast; waits for the run."""
    tis = wait_until(
        lambda: deferred_and_held(cluster, run_id, tasks),
        min(120, remaining()),
        "the waits deferred and held by a live triggerer",
    )
    holders = [ti["triggerer"] for ti in tis.values()]
    victim = max(sorted(set(holders)), key=holders.count)
    survivor = "triggerer-2" if victim == "triggerer-1" else "triggerer-1"
    survivor_job = cluster.alive_job(survivor, within=20)
    killed_at = cluster.procs[victim].kill9()
    moved = {}
    for task, ti in tis.items():
        if ti["triggerer"] != victim:
            continue
        moved_at = wait_until(
            lambda t=task, old=ti["triggerer_id"]: moved_off(cluster, run_id, t, old),
            min(90, remaining()),
            f"{task}'s trigger to move",
            interval=0.25,
        )
        moved[task] = {
            "from": victim,
            "to": survivor,
            "run_id": run_id,
            "reassigned_s": round(moved_at - killed_at, 1),
        }
    states = cluster.wait_runs([("dist_waits", run_id)], min(180, remaining()))
    bad = record_runs(cluster, states)
    assert not bad, f"the waits did not succeed: {bad}\n{failing_task_log_excerpts(cluster, bad)}"
    for task, row in moved.items():
        resumed = trigger_resumed(cluster, run_id, task, survivor_job, killed_at)
        for key, name in (("started", "running_again_s"), ("status_seen", "status_seen_s")):
            row[name] = round(resumed[key] - killed_at, 1) if key in resumed else None
        row["task_succeeded_after_kill_s"] = round(
            cluster.task("dist_waits", run_id, task)["end"].timestamp() - killed_at, 1
        )
    cluster.restart(victim)  # ready again before the next fault that needs two triggerers
    return moved


def test_killed_triggerer_hands_its_deferred_waits_to_the_other(cluster: Cluster) -> None:
    from tests.distributed.dags.distributed_dags import WAIT_SECONDS

    cluster.unpause("dist_waits")
    moved: dict[str, dict[str, Any]] = {}
    for attempt in range(2):  # a second run when the first kill did not catch both kinds of wait
        todo = [task for task in WAIT_TASKS if task not in moved]
        if not todo:
            break
        cluster.wait_ready(min(180, remaining()), ("triggerer-1", "triggerer-2"))
        cluster.hub(
            "set_endpoint_plan", name="dist-wait", transitions=[["pending", WAIT_SECONDS], ["running", None]]
        )
        moved.update(kill_the_holder(cluster, cluster.trigger("dist_waits", run_id=f"waits-{attempt}"), todo))
    for task, row in moved.items():
        for key in ("reassigned_s", "running_again_s", "status_seen_s", "task_succeeded_after_kill_s"):
            SUMMARY["figures"][f"triggerer_kill_{task}_{key}"] = row[key]
    SUMMARY["triggerer_kill"] = moved
    write_summary()
    assert set(moved) == set(WAIT_TASKS), f"waits never caught on a killed triggerer: {moved}"


def test_killed_worker_upload_is_retried_on_the_other_worker_with_one_commit(cluster: Cluster) -> None:
    route = "/api/models/alice/dist-slow/preupload/*"
    cluster.hub("inject_fault", route=route, latency=90, times=1)
    cluster.unpause("dist_slow_upload")
    run_id = cluster.trigger("dist_slow_upload", run_id="slow-upload")

    def uploading() -> dict[str, Any] | None:
        ti = cluster.task("dist_slow_upload", run_id, "upload")
        if (
            ti
            and ti["state"] == "running"
            and ti["hostname"]
            and cluster.hub("request_count", route=route) >= 1
        ):
            return ti
        return None

    ti = wait_until(uploading, min(120, remaining()), "the upload to be waiting on the slow Hub")
    victim = ti["hostname"]
    killed_at = cluster.procs[victim].kill9()
    states = cluster.wait_runs([("dist_slow_upload", run_id)], min(180, remaining()))
    bad = record_runs(cluster, states)
    assert not bad, f"the upload was not retried to success: {bad}\n{failing_task_log_excerpts(cluster, bad)}"
    after = cluster.task("dist_slow_upload", run_id, "upload")
    assert after is not None
    recover = round(after["end"].timestamp() - killed_at, 1)
    SUMMARY["figures"]["worker_kill_upload_succeeded_after_s"] = recover
    SUMMARY["worker_kill"] = {"from": victim, "to": after["hostname"], "try_number": after["try_number"]}
    cluster.restart(victim)
    titles = commit_titles(cluster, "alice/dist-slow")
    SUMMARY["figures"]["worker_kill_commits"] = titles.count(f"dist slow upload {run_id}")
    write_summary()
    assert after["hostname"] != victim and after["try_number"] >= 2, after
    assert titles.count(f"dist slow upload {run_id}") == 1, titles


# -- 4: webhooks through the api-servers while components fail ----------------------------------

WEBHOOK_REPO = "alice/dist-pushed"


class Pusher(threading.Thread):
    """Pushes ``count`` commits to the watched repo, one every ``interval`` s, straight to the Hub."""

    def __init__(self, cluster: Cluster, phase: str, count: int, interval: float) -> None:
        super().__init__(name=f"pusher-{phase}", daemon=True)
        self.api, self.phase, self.count, self.interval = hf_api(cluster), phase, count, interval
        self.commits: list[dict[str, Any]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for i in range(self.count):
                info = self.api.upload_file(
                    path_or_fileobj=f"{self.phase} {i} {time.time()}\n".encode(),
                    path_in_repo=f"pushes/{self.phase}-{i}.txt",
                    repo_id=WEBHOOK_REPO,
                    commit_message=f"{self.phase} {i}",
                )
                self.commits.append({"phase": self.phase, "oid": info.oid, "pushed_at": time.time()})
                time.sleep(self.interval)
        except BaseException as exc:  # reported by the test
            self.error = exc


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON column's value, whether the driver decoded it or not."""
    return json.loads(value) if isinstance(value, str) else (value or {})


def warm(cluster: Cluster, triggerer: str) -> bool:
    """Whether the triggerer ran a trigger since it (re)started: its in-process Execution API is built
    (the first trigger of a fresh triggerer waits 30-50 s for that on a busy 2-core machine)."""
    current = cluster.procs[triggerer].output().split("===== start #")[-1]
    return " starting " in current and "trigger " in current


def watcher(cluster: Cluster) -> dict[str, Any] | None:
    """The webhook watcher's trigger and the live triggerer holding it."""
    rows = cluster.sql(
        "SELECT t.id, t.triggerer_id, j.hostname FROM asset_watcher aw JOIN asset a ON a.id = aw.asset_id"
        " JOIN trigger t ON t.id = aw.trigger_id JOIN job j ON j.id = t.triggerer_id"
        " WHERE a.uri = :u AND j.latest_heartbeat > now() - interval '10 seconds'",
        u=f"hf://models/{WEBHOOK_REPO}",
    )
    return {"trigger_id": rows[0][0], "job_id": rows[0][1], "holder": rows[0][2]} if len(rows) == 1 else None


def runs_per_commit(cluster: Cluster) -> dict[str, list[dict[str, Any]]]:
    """``{head_sha: [{run_id, queued_at, source}, ...]}`` over the asset-triggered runs of ``dist_on_push``."""
    rows = cluster.sql(
        "SELECT dr.run_id, dr.queued_at, ae.extra FROM dag_run dr"
        " JOIN dagrun_asset_event dae ON dae.dag_run_id = dr.id JOIN asset_event ae ON ae.id = dae.event_id"
        " WHERE dr.dag_id = 'dist_on_push' AND dr.run_type = 'asset_triggered'"
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for run_id, queued_at, extra in rows:
        payload = (json.loads(extra) if isinstance(extra, str) else extra or {}).get("payload") or {}
        found.setdefault(payload.get("head_sha"), []).append(
            {
                "run_id": run_id,
                "queued_at": queued_at.timestamp() if queued_at else None,
                "source": payload.get("source"),
            }
        )
    return found


def events_per_commit(cluster: Cluster) -> dict[str, int]:
    rows = cluster.sql(
        "SELECT ae.extra FROM asset_event ae JOIN asset a ON a.id = ae.asset_id WHERE a.uri = :u",
        u=f"hf://models/{WEBHOOK_REPO}",
    )
    counts: dict[str, int] = {}
    for (extra,) in rows:
        head = ((json.loads(extra) if isinstance(extra, str) else extra or {}).get("payload") or {}).get(
            "head_sha"
        )
        counts[head] = counts.get(head, 0) + 1
    return counts


def lost_commit(cluster: Cluster, oid: str) -> dict[str, Any]:
    """Where a commit without a run got to: delivered by the Hub? fired by a triggerer?"""
    deliveries = [d for d in cluster.hub("webhook_deliveries") if d["payload"]["repo"].get("headSha") == oid]
    fired_by = [
        name
        for name in ("triggerer-1", "triggerer-2")
        if "Trigger fired event" in cluster.procs[name].output() and oid in cluster.procs[name].output()
    ]
    stored = [
        {"id": row[0], "timestamp": str(row[1])}
        for row in cluster.sql(
            "SELECT ae.id, ae.timestamp, ae.extra FROM asset_event ae JOIN asset a ON a.id = ae.asset_id"
            " WHERE a.uri = :u",
            u=f"hf://models/{WEBHOOK_REPO}",
        )
        if oid in json.dumps(row[2], default=str)
    ]
    return {
        "oid": oid,
        "deliveries": [{k: d[k] for k in ("status", "attempts", "error")} for d in deliveries],
        "asset_events": stored,
        "fired_in_the_log_of": fired_by,
        "queued_for_a_run": cluster.sql(
            "SELECT created_at FROM asset_dag_run_queue WHERE target_dag_id = 'dist_on_push'"
        ),
        "why": "stored, no run: Airflow's asset queue race" if stored else "fired, never stored",
    }


def settle(
    cluster: Cluster, phases: dict[str, dict[str, Any]], timeout: float, components: tuple[str, ...]
) -> None:
    """Between faults: every commit so far has its run (or ``timeout`` passed) and every component is up."""
    wanted = {c["oid"] for phase in phases.values() for c in phase["commits"]}
    with contextlib.suppress(AssertionError):
        wait_until(
            lambda: wanted <= set(runs_per_commit(cluster)), min(timeout, remaining()), "runs", interval=1
        )
    cluster.wait_ready(min(180, remaining()), components)


def push_during(
    cluster: Cluster, phase: str, fault: Any, count: int = 8, interval: float = 1.0, at: float = 2.5
) -> dict[str, Any]:
    """Push commits while ``fault()`` happens ``at`` s into the pushes; what the fault returned, and the commits."""
    pusher = Pusher(cluster, phase, count, interval)
    pusher.start()
    time.sleep(at)
    outcome = fault() if fault else {}
    pusher.join(timeout=min(120, remaining()))
    assert pusher.error is None and not pusher.is_alive(), f"pushing failed: {pusher.error!r}"
    return {**outcome, "commits": pusher.commits}


def test_each_commit_starts_one_run_while_api_servers_and_triggerers_fail(cluster: Cluster) -> None:
    t0 = time.monotonic()
    wait_dags_parsed(cluster, ("dist_on_push",), min(120, remaining()))
    cluster.unpause("dist_on_push")
    first_sight = f"First sight of model/{WEBHOOK_REPO}@main"
    wait_until(
        lambda: (
            watcher(cluster)
            and any(first_sight in cluster.procs[n].output() for n in ("triggerer-1", "triggerer-2"))
        ),
        min(180, remaining()),
        "the webhook watcher to start in a triggerer",
        interval=1,
    )
    SUMMARY["figures"]["webhook_watcher_up_s"] = round(time.monotonic() - t0, 1)
    hf_api(cluster).create_webhook(
        url=f"{cluster.lb_url}/hf-webhooks/hf-webhook",
        watched=[{"type": "model", "name": WEBHOOK_REPO}],
        domains=["repo"],
        secret=cluster.secrets["webhook"],
    )
    phases: dict[str, dict[str, Any]] = {}
    phases["baseline"] = push_during(cluster, "baseline", None, count=3, interval=2.0)

    def kill_watchers_triggerer() -> dict[str, Any]:
        held = watcher(cluster)
        assert held, "no live triggerer holds the webhook watcher"
        other = "triggerer-2" if held["holder"] == "triggerer-1" else "triggerer-1"
        other_warm = warm(cluster, other)
        killed_at = cluster.procs[held["holder"]].kill9()
        moved = wait_until(
            lambda: (w := watcher(cluster)) and w["holder"] != held["holder"] and w,
            min(90, remaining()),
            "the watcher to move",
            interval=0.25,
        )
        cluster.restart(held["holder"])
        return {
            "fault_at": killed_at,
            "victim": held["holder"],
            "watcher_moved_s": round(time.time() - killed_at, 1),
            "to": moved["holder"],
            "new_holder_was_warm": other_warm,
        }

    everyone = ("triggerer-1", "triggerer-2", "worker-1", "worker-2", "api-1", "api-2")
    settle(cluster, phases, 30, everyone)
    phases["triggerer_kill9"] = push_during(cluster, "triggerer_kill9", kill_watchers_triggerer)
    # An event the killed triggerer fired but never stored fires again REFIRE_AFTER_SECONDS after it fired.
    settle(cluster, phases, 45 + REFIRE_AFTER_SECONDS, everyone)

    def kill_an_api_server() -> dict[str, Any]:
        killed_at = cluster.procs["api-1"].kill9()
        cluster.restart("api-1")
        return {"fault_at": killed_at, "victim": "api-1"}

    phases["api_server_kill9"] = push_during(cluster, "api_server_kill9", kill_an_api_server)
    settle(cluster, phases, 45, everyone)

    def stop_watchers_triggerer() -> dict[str, Any]:
        held = watcher(cluster)
        assert held, "no live triggerer holds the webhook watcher"
        proc = cluster.procs[held["holder"]]
        other_warm = warm(cluster, "triggerer-2" if held["holder"] == "triggerer-1" else "triggerer-1")
        stopped_at = time.time()
        proc.signal_tree(signal.SIGSTOP)
        try:
            moved = wait_until(
                lambda: (w := watcher(cluster)) and w["holder"] != held["holder"] and w,
                min(90, remaining()),
                "the watcher to move",
                interval=0.25,
            )
            moved_s = round(time.time() - stopped_at, 1)
            time.sleep(5)  # stopped a while past the handover, then woken: it must not fire again
        finally:
            proc.signal_tree(signal.SIGCONT)
        return {
            "fault_at": stopped_at,
            "victim": held["holder"],
            "watcher_moved_s": moved_s,
            "to": moved["holder"],
            "stopped_s": round(time.time() - stopped_at, 1),
            "new_holder_was_warm": other_warm,
        }

    phases["triggerer_sigstop"] = push_during(
        cluster, "triggerer_sigstop", stop_watchers_triggerer, count=10, interval=1.5
    )
    settle(cluster, phases, 45, everyone)
    # Airflow creates an asset-triggered run from the events stamped up to when its queue entry was made:
    # an event stored while that entry already existed waits for the next event's run. One more commit
    # gives such late events their run (its lag shows in the figures).
    phases["flush"] = push_during(cluster, "flush", None, count=1, interval=0, at=0)
    settle(cluster, phases, 45, everyone)
    time.sleep(5)  # a duplicate would show by now
    runs = runs_per_commit(cluster)
    events = events_per_commit(cluster)
    SUMMARY["webhook"] = {}
    for name, phase in phases.items():
        oids = [c["oid"] for c in phase["commits"]]
        counts = [len(runs.get(oid, [])) for oid in oids]
        lags = [
            min(r["queued_at"] for r in runs[c["oid"]]) - c["pushed_at"]
            for c in phase["commits"]
            if runs.get(c["oid"]) and all(r["queued_at"] for r in runs[c["oid"]])
        ]
        row = {
            "commits": len(oids),
            "runs_per_commit": sorted(set(counts)),
            "events_per_commit": sorted({events.get(oid, 0) for oid in oids}),
            "lost": counts.count(0),
            "duplicated": sum(1 for n in counts if n > 1),
            "max_commit_to_run_s": round(max(lags), 1) if lags else None,
            "median_commit_to_run_s": round(sorted(lags)[len(lags) // 2], 1) if lags else None,
            "sources": sorted({r["source"] for oid in oids for r in runs.get(oid, [])}),
        }
        for key in ("victim", "to", "watcher_moved_s", "stopped_s", "new_holder_was_warm"):
            if key in phase:
                row[key] = phase[key]
        if "fault_at" in phase:
            # From the fault to the first run started for a commit pushed after it.
            after = [
                min(r["queued_at"] for r in runs[c["oid"]])
                for c in phase["commits"]
                if c["pushed_at"] >= phase["fault_at"] and runs.get(c["oid"])
            ]
            row["recover_s"] = round(min(after) - phase["fault_at"], 1) if after else None
        row["lost_commits"] = [lost_commit(cluster, oid) for oid in oids if not runs.get(oid)]
        if name == "triggerer_sigstop":
            SUMMARY["sigstop_window"] = {
                "triggerer": phase["victim"],
                "from": phase["fault_at"],
                "to": phase["fault_at"] + phase["stopped_s"],
            }
        SUMMARY["webhook"][name] = row
    SUMMARY["webhook_timeline"] = {
        "asset_events": [
            [row[0], str(row[1]), (as_dict(row[2]).get("payload") or {}).get("head_sha")]
            for row in cluster.sql(
                "SELECT ae.id, ae.timestamp, ae.extra FROM asset_event ae JOIN asset a ON a.id = ae.asset_id"
                " WHERE a.uri = :u ORDER BY ae.id",
                u=f"hf://models/{WEBHOOK_REPO}",
            )
        ],
        "runs": [
            [row[0], str(row[1]), row[2]]
            for row in cluster.sql(
                "SELECT dr.run_id, dr.run_after, array_agg(dae.event_id ORDER BY dae.event_id) FROM dag_run dr"
                " LEFT JOIN dagrun_asset_event dae ON dae.dag_run_id = dr.id WHERE dr.dag_id = 'dist_on_push'"
                " GROUP BY dr.run_id, dr.run_after ORDER BY dr.run_after"
            )
        ],
        "commits": [
            [name, c["oid"], c["pushed_at"]] for name, phase in phases.items() for c in phase["commits"]
        ],
    }
    deliveries = cluster.hub("webhook_deliveries")
    SUMMARY["webhook_deliveries"] = {
        "total": len(deliveries),
        "failed": [
            {k: d[k] for k in ("status", "attempts", "error")}
            for d in deliveries
            if not (d["status"] or 0) < 300
        ],
    }
    SUMMARY["figures"]["webhook_scenarios_s"] = round(time.monotonic() - t0, 1)
    write_summary()
    bad = {name: row for name, row in SUMMARY["webhook"].items() if row["lost"] or row["duplicated"]}
    assert not bad, f"commits lost or run twice: {json.dumps(bad, indent=1)}"


# -- 5: what every component wrote ------------------------------------------------------------------

#: An error-level line: structlog's console and JSON renderings, and the stdlib's ``... ERROR - ...``.
ERROR_LINE = re.compile(r'\[(error|critical)\s*\]|"level":\s*"(error|critical)"|\b(ERROR|CRITICAL)\b( -|:)')
#: Ours: our package, our classes, the XCom keys of our links, and huggingface_hub's progress bars, which
#: reach a task's stderr (logged at error level by Airflow 3) only through our operators.
OURS = re.compile(r"airflow_provider_hub|\bHf[A-Z]\w+|S3ToHfHub|key='hf_\w+'|hf_\w+_url|\d+%\|.*task\.stderr")


def in_sigstop_window(path: Path, line: str) -> bool:
    """A blocked-loop warning the stopped triggerer logs on waking: the SIGSTOP, not a trigger."""
    window = SUMMARY.get("sigstop_window")
    if not window or path.name != f"{window['triggerer']}.log":
        return False
    when = line_time(line)
    return when is not None and window["from"] <= when <= window["to"] + 10


#: asyncio's debug mode (on in the triggerers) on a callback that held the loop: which task, how long.
SLOW_CALLBACK = re.compile(r"Executing (?P<what><.*>) took (?P<seconds>\d+(\.\d+)?) seconds")
#: Airflow's own threshold for "Triggerer's async thread was blocked".
BLOCK_THRESHOLD_S = 0.2


def line_time(line: str) -> float | None:
    try:
        return datetime.datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def scan_lines(paths: list[Path]) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """Error-level lines (ours, others') and the blocked-loop findings: ``by_triggers`` (a callback of a
    trigger's own task held the loop past the threshold), ``by_runner`` (the runner's own code: Airflow's),
    ``unexplained`` (a blocked-loop warning with no slow callback of the runner's next to it)."""
    ours, others = [], []
    blocked: dict[str, list[str]] = {"by_triggers": [], "by_runner": [], "unexplained": []}
    for path in paths:
        warnings, runner_slow = [], []
        for line in path.read_text(errors="replace").splitlines():
            if "async thread was blocked" in line.lower() and not in_sigstop_window(path, line):
                warnings.append(line)
            if (slow := SLOW_CALLBACK.search(line)) and not in_sigstop_window(path, line):
                if "run_trigger" in slow["what"]:
                    if float(slow["seconds"]) > BLOCK_THRESHOLD_S:
                        blocked["by_triggers"].append(f"{path.name}: {line[:600]}")
                else:
                    runner_slow.append(line)
                    blocked["by_runner"].append(f"{path.name}: {line[:600]}")
            if ERROR_LINE.search(line):
                (ours if OURS.search(line) else others).append(f"{path.name}: {line[:400]}")
        runner_times = [t for t in map(line_time, runner_slow) if t is not None]
        for warning in warnings:
            when = line_time(warning)
            if when is None or not any(abs(when - t) <= 3 for t in runner_times):
                blocked["unexplained"].append(f"{path.name}: {warning[:400]}")
    return ours, others, blocked


def test_every_socket_is_on_loopback_and_no_secret_shows(cluster: Cluster) -> None:
    listening = cluster.listening_addresses()
    SUMMARY["listening"] = {name: sorted(addresses) for name, addresses in listening.items()}
    write_summary()
    not_loopback = {
        name: sorted(a for a in addresses if not a.startswith(("127.", "::1")))
        for name, addresses in listening.items()
    }
    assert not {name: a for name, a in not_loopback.items() if a}, f"sockets beyond loopback: {not_loopback}"
    task_logs = sorted(p for p in (cluster.home / "logs").rglob("*.log") if "dag_id=" in str(p))
    places = {
        "task log files": log_file_texts(*task_logs),
        "components' output": log_file_texts(*cluster.all_logs()),
        **database_texts(cluster.db_url),
    }
    assert_no_secret_in(places, {name: cluster.secrets[name] for name in ("token", "webhook", "aws")})


def scanned(cluster: Cluster) -> tuple[list[str], list[str], dict[str, list[str]]]:
    task_logs = sorted(p for p in (cluster.home / "logs").rglob("*.log") if "dag_id=" in str(p))
    ours, others, blocked = scan_lines(task_logs + list(cluster.all_logs()))
    SUMMARY["figures"]["task_logs_scanned"] = len(task_logs)
    SUMMARY["error_lines_ours"] = ours
    SUMMARY["error_lines_others"] = others[:200]
    SUMMARY["blocked_loop_warnings"] = blocked
    write_summary()
    return ours, others, blocked


def test_no_error_line_from_our_code(cluster: Cluster) -> None:
    ours, _, _ = scanned(cluster)
    assert not ours, f"{len(ours)} error-level line(s) from our code:\n" + "\n".join(ours[:40])


def test_no_trigger_blocks_the_triggerer_loop(cluster: Cluster) -> None:
    """No trigger's own code holds a triggerer's loop past Airflow's threshold, and every "async thread was
    blocked" warning is explained by the runner's own code (a fresh triggerer builds the asset accessors of
    its first watcher on the loop, which loads every provider's asset URI handlers, the Amazon provider's
    S3 one importing boto3: Airflow's cost, reported in the summary)."""
    _, _, blocked = scanned(cluster)
    assert not blocked["by_triggers"], "a trigger blocked the loop:\n" + "\n".join(
        blocked["by_triggers"][:20]
    )
    assert not blocked["unexplained"], "the loop was blocked, by what is not known:\n" + "\n".join(
        blocked["unexplained"][:20]
    )
