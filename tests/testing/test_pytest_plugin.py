"""The pytest plugin (``pytest11``) is loaded by every pytest run where the provider is installed: importing
it must not import the emulator. The time it adds is measured by ``benchmarks/pytest_plugin_import.py``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

#: What only the emulator needs; none of it may be imported by loading the plugin.
EMULATOR_MODULES = (
    "fastapi",
    "uvicorn",
    "starlette",
    "huggingface_hub",
    "airflow_provider_hub.testing._server",
)

# Runs in a fresh interpreter: pytest itself is the baseline every run pays, then the plugin as pytest loads it.
PROBE = textwrap.dedent(
    """
    import importlib, json, sys

    import pytest

    before = set(sys.modules)
    importlib.import_module("airflow_provider_hub.testing.pytest_plugin")
    print(json.dumps(sorted(set(sys.modules) - before)))
    """
)


def test_importing_the_plugin_does_not_import_the_emulator() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    pulled_in = [
        module
        for module in imported
        if any(module == name or module.startswith(name + ".") for name in EMULATOR_MODULES)
    ]
    assert not pulled_in, f"importing the pytest plugin imported {pulled_in}"
    assert "airflow_provider_hub.testing.pytest_plugin" in imported


def test_the_fixtures_start_the_emulator_when_first_requested(hub_connection: Any) -> None:
    from huggingface_hub import HfApi

    assert "airflow_provider_hub.testing._server" in sys.modules
    assert HfApi(endpoint=hub_connection.url, token=hub_connection.token).whoami()["name"] == "alice"
