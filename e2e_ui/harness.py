"""Helpers of the browser tests: the throw-away Airflow the UI runs on, and what the tests look for."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_hub.testing import HubEmulator

E2E_UI_DIR = Path(__file__).parent
DAGS_FOLDER = E2E_UI_DIR / "dags"
SCREENSHOTS_DIR = E2E_UI_DIR / "screenshots"
DEMO_DAG_ID = "hub_publish_demo"
DEMO_TASK_ID = "publish"
DEMO_REPO_ID = "alice/e2e-ui-demo"

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
API_SERVER_START_TIMEOUT = 180.0
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@dataclass(frozen=True)
class DemoRun:
    """The finished ``airflow dags test`` run of the demo DAG and the commit it made on the emulator."""

    run_id: str
    repo_id: str
    commit_oid: str

    @property
    def task_path(self) -> str:
        """The demo task instance, as the UI (``/runs/.../tasks/...``) addresses it."""
        return f"/dags/{DEMO_DAG_ID}/runs/{quote(self.run_id, safe='')}/tasks/{DEMO_TASK_ID}"

    @property
    def task_api_path(self) -> str:
        """The demo task instance in the REST API, relative to ``/api/v2``."""
        return f"/dags/{DEMO_DAG_ID}/dagRuns/{quote(self.run_id, safe='')}/taskInstances/{DEMO_TASK_ID}"


@dataclass(frozen=True)
class AirflowUI:
    """A running ``airflow api-server`` and the emulator the demo DAG published to."""

    base_url: str
    hub: HubEmulator
    demo: DemoRun


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_airflow(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run an ``airflow`` CLI command of this venv; fail the test with its output if it fails."""
    result = subprocess.run(
        [AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"`airflow {' '.join(args)}` exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def api_get(base_url: str, path: str) -> Any:
    """GET ``/api/v2{path}``: every visitor is an admin in this Airflow, so no token is needed."""
    with urllib.request.urlopen(f"{base_url}/api/v2{path}", timeout=10) as response:
        return json.load(response)


def wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait for the api-server's health endpoint; fail with its log if it dies or never answers."""
    deadline = time.monotonic() + API_SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"airflow api-server exited {server.returncode}:\n{log_path.read_text()[-6000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(
        f"airflow api-server not healthy after {API_SERVER_START_TIMEOUT}s:\n{log_path.read_text()[-6000:]}"
    )
