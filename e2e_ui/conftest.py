"""The real Airflow UI in a real browser: a throw-away Airflow, the Hub emulator, headless Chromium.

One session builds everything once, because ``airflow api-server`` is slow to start:

- a temporary ``AIRFLOW_HOME`` (SQLite, no example DAGs, the simple auth manager with every visitor an
  admin, so the browser needs no login) whose ``DAGS_FOLDER`` is ``e2e_ui/dags``;
- a :class:`~airflow_provider_hub.testing.HubEmulator` in this process, which ``airflow dags test``
  (a subprocess) publishes to through ``AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT``;
- ``airflow api-server`` on a free loopback port, booting while the DAG runs;
- Debian's ``chromium`` driven by Selenium through Debian's ``chromedriver`` (never a downloaded browser).

This folder is outside ``testpaths``: a plain ``pytest`` never collects it; ``make e2e-ui`` runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hub.testing import HubEmulator
from airflow_provider_hub.testing._client import client_environment
from e2e_ui.harness import (
    AIRFLOW,
    CHROMEDRIVER,
    CHROMIUM,
    CHROMIUM_FLAGS,
    DAGS_FOLDER,
    DEMO_DAG_ID,
    DEMO_REPO_ID,
    SCREENSHOTS_DIR,
    AirflowUI,
    DemoRun,
    api_get,
    free_port,
    run_airflow,
    wait_until_healthy,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e_ui: drives the Airflow UI in headless Chromium")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failed browser test, save what the browser showed as ``screenshots/<test>-failed.png``."""
    report = yield
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.when == "call" and report.failed and browser is not None:
        SCREENSHOTS_DIR.mkdir(exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS_DIR / f"{item.name}-failed.png"))
    return report


def _airflow_environment(home: Path, base_url: str, port: int, hub: HubEmulator) -> dict[str, str]:
    env = {
        **os.environ,
        **client_environment(hub.url, str(home / "hf_home")),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": hub.connection_uri(),
    }
    env.pop("HF_TOKEN", None)
    return env


@pytest.fixture(scope="session")
def airflow_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowUI]:
    """A migrated Airflow whose demo DAG ran once against the emulator, its UI served on loopback."""
    from huggingface_hub import HfApi

    home = tmp_path_factory.mktemp("airflow_home")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with HubEmulator() as hub:
        env = _airflow_environment(home, base_url, port, hub)
        run_airflow("db", "migrate", env=env)
        log_path = home / "api-server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [AIRFLOW, "api-server", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: its workers stop with it
            )
        try:
            run_airflow("dags", "test", DEMO_DAG_ID, "--conf", json.dumps({"repo_id": DEMO_REPO_ID}), env=env)
            wait_until_healthy(base_url, server, log_path)
            runs = api_get(base_url, f"/dags/{DEMO_DAG_ID}/dagRuns")["dag_runs"]
            assert len(runs) == 1, f"expected one run of {DEMO_DAG_ID}, found {runs}"
            # The emulator's own record of the commit, read with the real client: what the link must show.
            head = HfApi(endpoint=hub.url, token=hub.token).list_repo_commits(DEMO_REPO_ID)[0]
            demo = DemoRun(run_id=runs[0]["dag_run_id"], repo_id=DEMO_REPO_ID, commit_oid=head.commit_id)
            yield AirflowUI(base_url=base_url, hub=hub, demo=demo)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Debian Chromium under Selenium, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [binary for binary in (CHROMIUM, CHROMEDRIVER) if not shutil.which(binary)]
    if missing:
        pytest.fail(
            f"{missing} not installed: `apt-get install -y chromium chromium-driver` (make e2e-ui does)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium_profile')}")
    # A Service with a driver path keeps Selenium Manager (which would download a driver) out of it.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS_DIR.mkdir(exist_ok=True)
    return SCREENSHOTS_DIR
