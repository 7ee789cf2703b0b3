"""``python -m airflow_provider_hub.demo`` (``make demo``): run the example publishing DAG with real Airflow.

By default the DAG publishes to the embedded Hub emulator; with ``HF_TOKEN`` in the environment (and
optionally ``HF_ENDPOINT`` for a private Hub) it publishes to that Hub instead, in a private repo of the
token's user (or of ``HF_DEMO_NAMESPACE``), creates or updates the Inference Endpoint
``airflow-provider-hub-demo`` (billed by the Hub), and compares the Inference Providers of
``HF_DEMO_PROVIDER_MODEL`` (default ``meta-llama/Llama-3.1-8B-Instruct``).

Steps: a fresh ``AIRFLOW_HOME`` under ``./demo_output/`` (SQLite, ``airflow db migrate``), then
``airflow dags test example_publish_model`` in a subprocess whose connection ``huggingface_hub_default``
points at the Hub, then a summary read from the run's metadata database. Exits 1 when the run failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_hub.testing import HubEmulator

DAG_ID = "example_publish_model"
#: The DAG's default ``repo_id`` param: the repo it publishes in the connection's namespace.
DEMO_REPO = "airflow-provider-hub-demo"
#: On the real Hub, the model whose Inference Providers the chooser compares (``HF_DEMO_PROVIDER_MODEL``).
REAL_HUB_PROVIDER_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
EXAMPLE_DAGS = Path(__file__).resolve().parent.parent / "example_dags"
DEFAULT_OUTPUT = Path("demo_output")
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class Target:
    """Where the DAG publishes: the connection Airflow uses and the client environment it runs with."""

    description: str
    endpoint: str
    token: str
    connection: str
    environment: dict[str, str]
    #: The DAG run's ``conf`` (``airflow dags test --conf``).
    run_conf: dict[str, str]

    def job(self, job_id: str, tail: int = 5) -> JobReport:
        """A Job's stage, page and last log lines, read from the Hub (the DAG run streamed all its logs)."""
        from huggingface_hub import HfApi

        from airflow_provider_hub.decorators.hf_job import RESULT_MARKER

        # Importing Airflow to read the run set INFO logging: the client's request lines would join the summary.
        logging.getLogger("httpx2").setLevel(logging.WARNING)
        api = HfApi(endpoint=self.endpoint, token=self.token)
        try:
            info = api.inspect_job(job_id=job_id)
            lines = list(api.fetch_job_logs(job_id=job_id, namespace=info.owner.name))
        except Exception as exc:  # the summary still prints when the Job is gone
            return JobReport(stage="unknown", url="", log_tail=[f"(Job unavailable: {exc})"])
        # A @task.hf_job Job's return value travels on a marked log line: long, and already in XCom.
        lines = ["(return value: in XCom)" if line.startswith(RESULT_MARKER) else line for line in lines]
        return JobReport(stage=info.status.stage, url=info.url, log_tail=lines[-tail:])


@dataclass(frozen=True)
class JobReport:
    stage: str
    url: str
    log_tail: list[str]


@contextlib.contextmanager
def hub_target(output: Path) -> Iterator[Target]:
    """The real Hub when ``HF_TOKEN`` is set, else an emulator running for the duration of the block."""
    token = os.environ.get("HF_TOKEN")
    if token:
        yield real_hub_target(token, os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
        return
    from airflow_provider_hub.testing import HubEmulator
    from airflow_provider_hub.testing._client import client_environment, emulated_client

    hf_home = str(output / "hf_home")
    # This process reads Job logs for the summary: its client must talk to the emulator too.
    with HubEmulator(jobs_mode="subprocess") as hub, emulated_client(hub.url, hf_home):
        seed_emulator(hub)
        yield Target(
            description=f"the embedded Hub emulator at {hub.url} (user {hub.user!r})",
            endpoint=hub.url,
            token=hub.token,
            connection=hub.connection_uri(),
            environment=client_environment(hub.url, hf_home),
            run_conf={},
        )


def seed_emulator(hub: HubEmulator) -> None:
    """What the real Hub has and the DAG reads: the Inference Providers that serve the published model."""
    hub.set_inference_providers(
        f"{hub.user}/{DEMO_REPO}",
        {
            "hf-inference": {
                "task": "text-classification",
                "pricing": {"input": 0.05, "output": 0.05},
                "first_token_latency_ms": 90,
                "throughput": 400,
            },
            "nebius": {
                "task": "text-classification",
                "pricing": {"input": 0.02, "output": 0.06},
                "first_token_latency_ms": 240,
                "throughput": 250,
            },
            "together": {"task": "text-classification", "status": "staging"},
        },
    )


def real_hub_target(token: str, endpoint: str) -> Target:
    from huggingface_hub import HfApi

    namespace = os.environ.get("HF_DEMO_NAMESPACE")
    if not namespace:
        try:
            namespace = HfApi(endpoint=endpoint, token=token).whoami()["name"]
        except Exception as exc:
            raise SystemExit(
                f"HF_TOKEN is set but {endpoint} did not accept it: {type(exc).__name__}: {exc}"
            ) from exc
    connection = {
        "conn_type": "huggingface_hub",
        "host": endpoint,
        "password": token,
        "extra": {"namespace": namespace},
    }
    return Target(
        description=f"the Hub at {endpoint} (namespace {namespace!r})",
        endpoint=endpoint,
        token=token,
        connection=json.dumps(connection),
        environment={"HF_ENDPOINT": endpoint},
        # No Inference Provider serves a model published a minute ago: compare those of a model they do.
        run_conf={"provider_model": os.environ.get("HF_DEMO_PROVIDER_MODEL", REAL_HUB_PROVIDER_MODEL)},
    )


def airflow_environment(home: Path, target: Target) -> dict[str, str]:
    env = {
        **os.environ,
        **target.environment,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Waits (Jobs, Endpoints) defer, and `airflow dags test` runs their triggers: the triggerer path.
        "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
        "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": target.connection,
    }
    # The token travels in the connection only; the client must not pick up another one on its own.
    env.pop("HF_TOKEN", None)
    return env


def run_logged(args: list[str], env: dict[str, str], log_path: Path, timeout: float) -> int:
    """Run an ``airflow`` CLI command of this interpreter's venv, its output going to ``log_path``."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    with log_path.open("w") as log:
        try:
            return subprocess.run(
                [airflow, *args], env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False
            ).returncode
        except subprocess.TimeoutExpired:
            log.write(f"\n`airflow {' '.join(args)}` timed out after {timeout:.0f}s\n")
            return 124


def run_order(ti: Any) -> tuple[bool, datetime, str]:
    """Task instances in the order they ran; the ones that never started (upstream failed) last."""
    started = ti.start_date or ti.end_date
    return started is None, started or datetime.min.replace(tzinfo=timezone.utc), ti.task_id


def read_run(home: Path) -> tuple[Any, list[dict[str, Any]]]:
    """The demo DAG run and its task instances (``task_id``, ``state``, ``duration``, ``xcom``), from the DB."""
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        dag_run = session.scalars(
            select(DagRun).where(DagRun.dag_id == DAG_ID).order_by(DagRun.id.desc())
        ).first()
        if dag_run is None:
            return None, []
        tasks = []

        def xcom(task_id: str, key: str) -> Any:
            row = session.scalars(
                XComModel.get_many(run_id=dag_run.run_id, dag_ids=DAG_ID, task_ids=task_id, key=key)
            ).first()
            return XComModel.deserialize_value(row) if row is not None else None

        for ti in sorted(dag_run.get_task_instances(session=session), key=run_order):
            tasks.append(
                {
                    "task_id": ti.task_id,
                    "state": str(ti.state),
                    "duration": ti.duration,
                    "xcom": xcom(ti.task_id, "return_value"),
                    # Job operators and @task.hf_job tasks record the Job they ran under this key.
                    "job_id": xcom(ti.task_id, "job_id"),
                }
            )
        return {"run_id": dag_run.run_id, "state": str(dag_run.state)}, tasks


def summary(
    run: dict[str, Any] | None, tasks: list[dict[str, Any]], target: Target, home: Path, test_log: Path
) -> str:
    lines = []
    if run is None:
        lines.append(f"No run of {DAG_ID} was recorded.")
    else:
        lines.append(f"DAG run {run['run_id']}: {run['state']}")
    width = max([len(t["task_id"]) for t in tasks] + [4])
    for t in tasks:
        duration = f"{t['duration']:.1f}s" if t["duration"] is not None else "-"
        lines.append(f"  {t['task_id']:<{width}}  {t['state']:<14} {duration:>7}")
    results = {t["task_id"]: t["xcom"] for t in tasks if isinstance(t["xcom"], dict)}
    upload = results.get("upload")
    if upload:
        if upload.get("commit_url"):
            lines.append(f"Commit:   {upload['commit_url']}")
        else:
            lines.append(f"Commit:   none (nothing changed), head {upload.get('head_oid')}")
        lines.append(f"Repo:     {upload.get('repo_url')}")
    tag = results.get("tag_release")
    if tag:
        lines.append(f"Release:  tag {tag['tag']} on {tag['commit_oid']}")
    job_id = next((t["job_id"] for t in tasks if t["job_id"]), None)
    if job_id:
        job = target.job(job_id)
        lines.append(f"Job:      {job_id} ({job.stage}) {job.url}")
        for line in job.log_tail:
            lines.append(f"          | {line}")
    endpoint = next((r for r in results.values() if "page_url" in r and "status" in r), None)
    if endpoint:
        lines.append(f"Endpoint: {endpoint.get('url')} ({endpoint['status']}), page {endpoint['page_url']}")
    provider = next((r for r in results.values() if "provider" in r), None)
    if provider:
        lines.append(f"Provider: {provider['provider']}")
    lines.append(f"Full logs: {test_log} (every task's log, in run order)")
    lines.append(f"Airflow home (SQLite metadata DB, airflow.cfg): {home}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_hub.demo", description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where AIRFLOW_HOME and logs go")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed for the DAG run")
    args = parser.parse_args(argv)

    output = args.output.resolve()
    home = output / "airflow_home"
    # A fresh Airflow and client cache each time; only what the demo itself wrote there is removed.
    for previous in (home, output / "hf_home"):
        shutil.rmtree(previous, ignore_errors=True)
    home.mkdir(parents=True)
    migrate_log, test_log = output / "db_migrate.log", output / "dags_test.log"

    with hub_target(output) as target:
        print(f"Publishing with {target.description}", flush=True)
        env = airflow_environment(home, target)
        started = time.monotonic()
        print(f"Preparing Airflow in {home} ...", flush=True)
        if run_logged(["db", "migrate"], env, migrate_log, timeout=300) != 0:
            print(f"`airflow db migrate` failed; see {migrate_log}", file=sys.stderr)
            return 1
        print(f"Running `airflow dags test {DAG_ID}` ...", flush=True)
        exit_code = run_logged(
            ["dags", "test", DAG_ID, "--conf", json.dumps(target.run_conf)],
            env,
            test_log,
            timeout=args.timeout,
        )
        run, tasks = read_run(home)
        print(f"\nDone in {time.monotonic() - started:.0f}s.\n", flush=True)
        print(summary(run, tasks, target, home, test_log))
    succeeded = (
        exit_code == 0
        and run is not None
        and run["state"] == "success"
        and all(t["state"] == "success" for t in tasks)
    )
    if not succeeded:
        print(f"\nThe DAG run failed (airflow exit code {exit_code}); see {test_log}", file=sys.stderr)
        with contextlib.suppress(OSError):
            print("".join(test_log.read_text().splitlines(keepends=True)[-LOG_TAIL_LINES:]), file=sys.stderr)
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
