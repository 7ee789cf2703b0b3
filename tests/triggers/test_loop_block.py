"""No trigger of ours blocks the triggerer's event loop, from a cold start.

Each trigger is started the way the triggerer starts it (class imported with ``import_string`` on the running
loop, constructed, ``run()`` awaited) in a process that has imported only what a trigger runner has, with a
probe on the same loop since before the import (see :mod:`tests.loop_block`). Airflow's watchdog sleeps
0.1 s and warns when that took more than ``[triggerer] blocked_main_thread_warning_threshold`` (0.2 s by
default), i.e. when the loop was blocked for more than 0.1 s: each trigger must stay well below it.
"""

from __future__ import annotations

import json
import socket
import tempfile
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hub.testing import HubEmulator
from tests.loop_block import measure_trigger_starts

#: Longest the loop may be blocked: half the 0.1 s that makes Airflow's watchdog warn by default.
MAX_BLOCK = 0.05
#: Cold starts a trigger gets to stay under MAX_BLOCK: a busy machine can stall any process now and then,
#: a trigger that blocks the loop does it every time.
ATTEMPTS = 3
#: Compiled modules, as an installed package has them, kept across runs: compiling a module from source
#: holds the GIL, so where no bytecode is cached even an import on a worker thread stalls the loop.
BYTECODE_CACHE = Path(tempfile.gettempdir()) / "airflow-provider-hub-pycache"
OLD_HEAD = "0" * 40


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cases(hub: HubEmulator) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One case per trigger, each with what its first event must hold."""
    from huggingface_hub import HfApi

    from airflow_provider_hub.hooks.hub import HfHubHook

    api = HfApi(endpoint=hub.url, token=hub.token)
    hub.set_job_plan(durations=(0.1, 0.1))
    job_id = api.run_job(image="python:3.12", command=["x"], namespace="alice").id
    hub.add_repo("alice/model", files={"config.json": '{"layers": 2}'})
    head = api.model_info("alice/model").sha
    oid = api.get_paths_info("alice/model", ["config.json"])[0].blob_id
    hub.set_endpoint_plan("ep", [("pending", 0.1), ("running", None)])
    HfHubHook().create_inference_endpoint(
        "ep",
        repository="alice/model",
        framework="pytorch",
        accelerator="cpu",
        instance_size="x2",
        instance_type="intel-icl",
        region="us-east-1",
        vendor="aws",
        task="text-generation",
    )
    hub.set_inference_providers("alice/model", {"together": {"status": "live"}})
    fast = {"poll_interval": 0.05}
    cases = [
        {
            "classpath": "airflow_provider_hub.triggers.jobs.HfJobTrigger",
            "kwargs": {"job_id": job_id, "namespace": "alice", **fast},
        },
        {
            "classpath": "airflow_provider_hub.triggers.endpoints.HfInferenceEndpointTrigger",
            "kwargs": {"name": "ep", "namespace": "alice", **fast},
        },
        {
            "classpath": "airflow_provider_hub.triggers.inference_providers.HfInferenceProviderTrigger",
            "kwargs": {"model_id": "alice/model", **fast},
        },
        {
            "classpath": "airflow_provider_hub.triggers.repo.HfRepoFileTrigger",
            "kwargs": {"repo_id": "alice/model", "path_in_repo": "config.json", **fast},
        },
        {
            "classpath": "airflow_provider_hub.triggers.webhooks.HfRepoCommitTrigger",
            "kwargs": {"repo_id": "alice/model", **fast},
            # A watcher's store, holding an older head: the first poll fires.
            "watermarks": {"head::model/alice/model@main": OLD_HEAD},
        },
        {
            "classpath": "airflow_provider_hub.triggers.webhooks.HfWebhookTrigger",
            "kwargs": {
                "port": _free_port(),
                "host": "127.0.0.1",
                "secret_conn_id": "hf_webhook_secret",
                "repo_ids": ["alice/model"],
            },
            # The secret is read, the listener bound, then the head reconciled against an older one.
            "watermarks": {"head::model/alice/model@main": OLD_HEAD},
        },
    ]
    expected = {
        "HfJobTrigger": {"status": "success", "job_id": job_id, "stage": "COMPLETED"},
        "HfInferenceEndpointTrigger": {"status": "success", "name": "ep", "endpoint_status": "running"},
        "HfInferenceProviderTrigger": {"status": "success", "live_providers": ["together"]},
        "HfRepoFileTrigger": {
            "status": "success",
            "file": {"path": "config.json", "revision": "main", "size": 13, "oid": oid, "lfs_sha256": None},
        },
        "HfRepoCommitTrigger": {"source": "poll", "head_sha": head, "previous_sha": OLD_HEAD},
        "HfWebhookTrigger": {"source": "reconcile", "head_sha": head},
    }
    return cases, expected


def _name(report: dict[str, Any]) -> str:
    return str(report["classpath"]).rsplit(".", 1)[-1]


def test_no_trigger_blocks_the_event_loop_from_a_cold_start(
    hub_connection: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HF_WEBHOOK_SECRET", json.dumps({"conn_type": "generic", "password": "loop-secret"})
    )
    cases, expected = _cases(hub_connection)
    best: dict[str, dict[str, Any]] = {}
    tries: dict[str, list[float | None]] = {}
    pending = cases
    for _ in range(ATTEMPTS):
        reports = measure_trigger_starts(pending, bytecode_cache=BYTECODE_CACHE)
        for case, report in zip(pending, reports, strict=True):
            name = _name(case)
            tries.setdefault(name, []).append(report.get("max_block"))
            if name not in best or report.get("max_block", 1e9) < best[name].get("max_block", 1e9):
                best[name] = report
        pending = [case for case in cases if best[_name(case)].get("max_block", 1e9) >= MAX_BLOCK]
        if not pending:
            break

    figures = {name: tries[name] for name in best}
    print(f"max loop block per trigger, every cold start (s): {figures}")  # shown with pytest -s
    for name, report in best.items():
        assert report.get("error") is None, f"{name}: {report.get('error')}"
        assert all(report["cold"].values()), f"{name} did not start cold: {report['cold']}"
        event = report["event"]
        assert event is not None, f"{name} fired nothing"
        assert {key: event.get(key) for key in expected[name]} == expected[name], name
    blocked = {
        name: {
            "max_block": report["max_block"],
            "per_phase": report["blocks"],
            "loop_was_in": report["blocked_in"],
        }
        for name, report in best.items()
        if report["max_block"] >= MAX_BLOCK
    }
    assert not blocked, f"blocked the loop for {MAX_BLOCK} s or more: {blocked}; every try: {figures}"
