"""Test environment: a throw-away AIRFLOW_HOME per test process, and real ``dag.test()`` runs.

The Hub emulator fixtures (``hub_emulator``, ``hub_connection``) come from the package's own
pytest plugin, the same one our users get.
"""

from __future__ import annotations

import os
import tempfile

# Airflow reads its configuration on first import: this must run before anything imports airflow.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="airflow_home_")
os.makedirs(os.path.join(_AIRFLOW_HOME, "dags"), exist_ok=True)
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(_AIRFLOW_HOME, "dags"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
    }
)
os.environ.pop("HF_TOKEN", None)

import json  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

# Fixtures shared by test folders, kept in support modules (no test module imports another).
pytest_plugins = [
    "tests.support.webhook_receiver",
    "tests.support.inference_providers",
    "tests.support.s3",
]


@pytest.fixture
def api(hub_connection: Any) -> Any:
    """A plain ``HfApi`` on the emulator: to arrange a test's repos and read its outcome."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_connection.url, token=hub_connection.token)


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    """A fresh SQLite metadata database for ``dag.test()`` runs."""
    from airflow.utils import db

    db.resetdb()
    yield


@pytest.fixture
def run_dag(airflow_db: None) -> Callable[..., Any]:
    """Run a DAG defined in the test with real Airflow (``dag.test()``) and return its DagRun.

    ``dag.test()`` only runs DAGs known to the metadata database, so the DAG is written there first,
    as the DAG processor would.
    """
    from airflow import settings
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.serialization.serialized_objects import LazyDeserializedDAG

    def _run(dag: Any, **test_kwargs: Any) -> Any:
        with settings.Session() as session:
            DagBundlesManager().sync_bundles_to_db(session=session)
            session.commit()
            update_dag_parsing_results_in_db(
                "dags-folder", None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(), session=session
            )
            session.commit()
        return dag.test(**test_kwargs)

    return _run


@pytest.fixture(scope="session")
def _subprocess_hub_server() -> Iterator[Any]:
    from airflow_provider_hub.testing import HubEmulator

    with HubEmulator(jobs_mode="subprocess") as hub:
        yield hub


@pytest.fixture
def subprocess_hub(
    _subprocess_hub_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Any]:
    """An emulator that runs each Job's command as a local process (what ``@task.hf_job`` needs), with a
    fresh state and ``huggingface_hub_default`` and the client pointing at it."""
    from airflow_provider_hub.testing._client import emulated_client

    _subprocess_hub_server.reset()
    monkeypatch.setenv("AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT", _subprocess_hub_server.connection_uri())
    with emulated_client(_subprocess_hub_server.url, str(tmp_path / "hf_home")):
        yield _subprocess_hub_server


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's S3 in this process (a boto3 client on it, no bucket yet); ``aws_default`` points at it."""
    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": {"region_name": "us-east-1"}}),
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def webhook_receiver(airflow_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The api-server's webhook receiver on loopback (uvicorn, under ``/hf-webhooks`` as the api-server mounts
    it), recording into the test session's metadata database; its base URL, which the triggers read from.

    The paths it accepts come from the watchers' trigger rows, as in the api-server: a test registers one.
    """
    import socket
    import threading
    import time

    import uvicorn
    from airflow import settings
    from fastapi import FastAPI

    from airflow_provider_hub.plugins.webhook_inbox import WebhookInbox, deliveries
    from airflow_provider_hub.plugins.webhook_receiver import URL_PREFIX, create_app

    inbox = WebhookInbox(settings.engine)
    inbox._ensure_table()
    with settings.engine.begin() as conn:
        conn.execute(deliveries.delete())
    api_server = FastAPI()
    api_server.mount(URL_PREFIX, create_app(inbox))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A reader's long poll would hold a graceful shutdown for its whole wait.
    config = uvicorn.Config(
        api_server, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    base_url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AIRFLOW__HUGGINGFACE_HUB__WEBHOOK_RECEIVER_URL", base_url + URL_PREFIX)
    yield base_url
    server.should_exit = True
    thread.join(10)
