"""The Airflow CLI sees the provider: ``providers list/get`` and ``connections test`` against the emulator.

Every Airflow CLI start costs seconds, so the five commands run once, side by side, in one module fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_hub.testing import HubEmulator
from tests.support.hub import closed_port

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
CONN_ENV = "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT"


def _connection(host: str, token: str) -> str:
    return json.dumps({"conn_type": "huggingface_hub", "host": host, "password": token})


@pytest.fixture(scope="module")
def cli_results(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    with HubEmulator() as hub:
        yield _run_cli(hub, tmp_path_factory)


def _run_cli(
    hub: HubEmulator, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    airflow_home = tmp_path_factory.mktemp("airflow_home")
    base_env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    base_env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
    )
    commands = {
        "list": (["providers", "list", "-o", "json"], None),
        "get": (["providers", "get", "airflow-provider-hub", "--full", "-o", "json"], None),
        "test_ok": (["connections", "test", "huggingface_hub_default"], _connection(hub.url, hub.token)),
        "test_bad_token": (
            ["connections", "test", "huggingface_hub_default"],
            _connection(hub.url, "hf_not_the_right_token"),
        ),
        "test_unreachable": (
            ["connections", "test", "huggingface_hub_default"],
            _connection(f"http://127.0.0.1:{closed_port()}", hub.token),
        ),
    }
    processes = {}
    for name, (args, connection) in commands.items():
        env = dict(base_env)
        if connection is not None:
            env[CONN_ENV] = connection
        processes[name] = subprocess.Popen(
            [AIRFLOW, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    results = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=240)
        results[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


def _json_output(result: subprocess.CompletedProcess[str]) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout[result.stdout.index("[") :])


def test_providers_list_shows_the_provider(cli_results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    listed = _json_output(cli_results["list"])
    assert "airflow-provider-hub" in {provider["package_name"] for provider in listed}


def test_providers_get_shows_the_connection_type(
    cli_results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    (provider,) = _json_output(cli_results["get"])
    assert provider["package-name"] == "airflow-provider-hub"
    (connection_type,) = provider["connection-types"]
    assert connection_type["connection-type"] == "huggingface_hub"
    assert connection_type["hook-class-name"] == "airflow_provider_hub.hooks.hub.HfHubHook"


def test_connections_test_succeeds_with_the_seeded_token(
    cli_results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = cli_results["test_ok"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Connection success!" in result.stdout


def _failure_reason(result: subprocess.CompletedProcess[str]) -> str:
    from airflow import __version__ as airflow_version
    from packaging.version import Version

    # Airflow 3.2 reports a failed test with exit status 0; 3.3 exits 1.
    assert result.returncode != 0 or Version(airflow_version) < Version("3.3")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert "Connection failed!" in lines
    return lines[lines.index("Connection failed!") + 1]


def test_connections_test_fails_with_a_wrong_token(
    cli_results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    reason = _failure_reason(cli_results["test_bad_token"])
    assert reason.startswith("Authentication failed at http://127.0.0.1:")
    assert "token was rejected (HTTP 401)" in reason
    assert "hf_not_the_right_token" not in cli_results["test_bad_token"].stdout


def test_connections_test_fails_for_an_unreachable_host(
    cli_results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    reason = _failure_reason(cli_results["test_unreachable"])
    assert reason.startswith("Cannot reach http://127.0.0.1:")
    assert "Connection refused" in reason
