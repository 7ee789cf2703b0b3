"""End to end with real Airflow: an upload made by one DAG starts other DAGs through AssetWatchers.

Runs ``airflow scheduler``, ``dag-processor``, ``triggerer`` and ``api-server`` as subprocesses (temp
AIRFLOW_HOME, sqlite, LocalExecutor) against the Hub emulator of the test process. The ``publish`` DAG commits
to two repos of the emulator; the emulator delivers a webhook for the first to the api-server's
``/hf-webhooks`` (the provider's plugin), the ``HfWebhookTrigger`` in the triggerer reads the recorded
delivery, and the ``HfRepoCommitTrigger`` sees the second's head move. Each consumer
DAG writes the asset event's payload to a file, which the test checks against the emulator's heads.
Everything is stopped within the time budget, whatever happens. Then the run's secrets (the connection's
token, the webhook secret) are looked for in the task log files, the components' output and the run's
database (``tests.secrets_scan``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from tests.secrets_scan import assert_no_secret_in, database_texts, distinctive_secret, log_file_texts

pytestmark = pytest.mark.e2e

#: Whole-test budget (seconds), start-up included.
BUDGET = 240
WEBHOOK_SECRET = distinctive_secret("whsecret")
AIRFLOW = str(Path(sys.executable).with_name("airflow"))

DAGS = """
from __future__ import annotations

import json
import os

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_hub.operators.repo import HfCreateCommitOperator
from airflow_provider_hub.triggers.webhooks import HfRepoCommitTrigger, HfWebhookTrigger

OUT = {out!r}

pushed = Asset(
    "hf://models/alice/e2e-pushed",
    watchers=[
        AssetWatcher(
            name="hub_webhook",
            trigger=HfWebhookTrigger(
                secret_conn_id="hf_webhook_secret",
                repo_ids=["alice/e2e-pushed"], events=["repo.content"],
            ),
        )
    ],
)
polled = Asset(
    "hf://models/alice/e2e-polled",
    watchers=[AssetWatcher(name="hub_poll", trigger=HfRepoCommitTrigger(repo_id="alice/e2e-polled", poll_interval=1))],
)

with DAG("publish", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False):
    for repo in ("alice/e2e-pushed", "alice/e2e-polled"):
        HfCreateCommitOperator(
            task_id="commit_" + repo.split("-")[-1],
            repo_id=repo,
            operations=[{{"op": "add", "path_in_repo": "model.txt", "content": "{{{{ run_id }}}}"}}],
            commit_message="from the publish DAG",
        )


def consumer(dag_id, asset):
    with DAG(dag_id, schedule=[asset], start_date=pendulum.datetime(2026, 1, 1), catchup=False):
        @task
        def record(triggering_asset_events=None):
            payloads = [ev.extra.get("payload") for evs in triggering_asset_events.values() for ev in evs]
            with open(os.path.join(OUT, dag_id + ".json"), "a") as f:
                f.write(json.dumps(payloads) + "\\n")

        record()


consumer("on_webhook", pushed)
consumer("on_poll", polled)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, deadline: float, what: str, procs: dict) -> None:
    while time.time() < deadline:
        if condition():
            return
        dead = {name: p.returncode for name, p in procs.items() if p.poll() is not None}
        assert not dead, f"airflow components exited early: {dead}"
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_upload_starts_dags_through_webhook_and_polling_watchers(hub_emulator, tmp_path):
    started = time.time()
    deadline = started + BUDGET
    home, out = tmp_path / "airflow", tmp_path / "out"
    (home / "dags").mkdir(parents=True)
    out.mkdir()
    api_port = free_port()
    (home / "dags" / "hub_watchers.py").write_text(DAGS.format(out=str(out)))

    api = HfApi(endpoint=hub_emulator.url, token=hub_emulator.token)
    for repo in ("alice/e2e-pushed", "alice/e2e-polled"):
        api.create_repo(repo)
    api.create_webhook(
        url=f"http://127.0.0.1:{api_port}/hf-webhooks/hf-webhook",
        watched=[{"type": "model", "name": "alice/e2e-pushed"}],
        domains=["repo"],
        secret=WEBHOOK_SECRET,
    )

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "HF_"))},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API_AUTH__JWT_SECRET": "e2e-jwt-secret-not-for-production",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
        "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": hub_emulator.connection_uri(),
        "AIRFLOW_CONN_HF_WEBHOOK_SECRET": json.dumps({"conn_type": "generic", "password": WEBHOOK_SECRET}),
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HOME": str(tmp_path / "hf_home"),
    }
    figures: dict[str, float] = {}
    migrate = subprocess.run(
        [AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, text=True, timeout=BUDGET
    )
    cli_output = [migrate.stdout, migrate.stderr]
    figures["db_migrate_s"] = time.time() - started

    procs: dict[str, subprocess.Popen] = {}
    logs = {}
    try:
        for name, args in {
            "api-server": ["api-server", "--port", str(api_port), "--host", "127.0.0.1"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer"],
            "scheduler": ["scheduler"],
        }.items():
            logs[name] = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115
            procs[name] = subprocess.Popen(
                [AIRFLOW, *args], env=env, stdout=logs[name], stderr=subprocess.STDOUT, start_new_session=True
            )

        # The watchers run in the triggerer once the DAG file is parsed: the webhook watcher reads the
        # api-server's records (found through the execution API's URL), the poller polls.
        api_log = tmp_path / "api-server.log"
        wait_for(
            lambda: api_log.read_text().count("/hf-webhooks/hf-webhook/deliveries") >= 2,
            deadline,
            "the webhook watcher reading the api-server's records",
            procs,
        )
        wait_for(
            lambda: hub_emulator.request_count("/api/models/alice/e2e-polled/revision/*") >= 1,
            deadline,
            "the first poll",
            procs,
        )
        figures["watchers_up_s"] = time.time() - started

        trigger_publish = subprocess.run(
            [AIRFLOW, "dags", "trigger", "publish"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=max(1, deadline - time.time()),
        )
        cli_output += [trigger_publish.stdout, trigger_publish.stderr]
        results = {name: out / f"{name}.json" for name in ("on_webhook", "on_poll")}
        wait_for(lambda: all(p.exists() for p in results.values()), deadline, "both consumer DAG runs", procs)
        figures["consumers_done_s"] = time.time() - started
        # The watchers restart after firing: give a duplicate event time to start a second consumer run.
        time.sleep(6)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for handle in logs.values():
            handle.close()
        print("e2e figures (s):", {k: round(v, 1) for k, v in figures.items()})

    # One consumer run each: no change fired twice across the watchers' restarts.
    [webhook_payloads] = [json.loads(line) for line in results["on_webhook"].read_text().splitlines()]
    pushed_head = api.model_info("alice/e2e-pushed").sha
    assert {p["head_sha"] for p in webhook_payloads} == {pushed_head}
    assert (
        webhook_payloads[0]["source"] == "webhook" and webhook_payloads[0]["event"] == "repo.content.update"
    )

    [poll_payloads] = [json.loads(line) for line in results["on_poll"].read_text().splitlines()]
    assert {p["head_sha"] for p in poll_payloads} == {api.model_info("alice/e2e-polled").sha}
    assert poll_payloads[0]["source"] == "poll"
    delivered = [d for d in hub_emulator.webhook_deliveries() if d["status"] == 200]
    assert [d["payload"]["repo"]["headSha"] for d in delivered] == [pushed_head]

    places = {
        "task log files": log_file_texts(home / "logs"),
        "components' output": log_file_texts(*(tmp_path / f"{name}.log" for name in logs)),
        "CLI output": cli_output,
        **database_texts(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]),
    }
    assert_no_secret_in(places, {"token": hub_emulator.token, "webhook": WEBHOOK_SECRET})
