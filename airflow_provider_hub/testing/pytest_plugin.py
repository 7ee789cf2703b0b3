"""pytest fixtures for testing DAGs against the Hub emulator (registered through ``pytest11``).

- ``hub_emulator``: one emulator per test session, its state reset before each test.
- ``hub_connection``: points the ``huggingface_hub_default`` Airflow connection and the
  ``huggingface_hub`` client of the test process at the emulator.

pytest imports this plugin in every run where the provider is installed, so it imports the emulator
(FastAPI, uvicorn) only when a test first requests one of these fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from airflow_provider_hub.testing._client import emulated_client

if TYPE_CHECKING:
    from airflow_provider_hub.testing._server import HubEmulator


@pytest.fixture(scope="session")
def _hub_emulator_server() -> Iterator[HubEmulator]:
    from airflow_provider_hub.testing._server import HubEmulator

    with HubEmulator() as hub:
        yield hub


@pytest.fixture
def hub_emulator(_hub_emulator_server: HubEmulator) -> HubEmulator:
    """The session's emulator, with a fresh state (default user ``alice`` and org ``acme`` only)."""
    _hub_emulator_server.reset()
    return _hub_emulator_server


@pytest.fixture
def hub_connection(
    hub_emulator: HubEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HubEmulator]:
    """The emulator, with ``huggingface_hub_default`` and the client environment pointing at it."""
    monkeypatch.setenv("AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT", hub_emulator.connection_uri())
    hf_home = str(tmp_path_factory.mktemp("hf_home"))
    with emulated_client(hub_emulator.url, hf_home):
        yield hub_emulator
