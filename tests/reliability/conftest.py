"""Shared fixtures of the reliability suite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

#: Retry settings a user facing a flaky network would put on the connection: more attempts, a short
#: backoff (``Retry-After`` from the server still wins), so the suite stays fast under injected faults.
FAULT_TOLERANT_EXTRAS = {"max_retries": 8, "retry_backoff": 0.05}


def use_fault_tolerant_connection(hub: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point ``huggingface_hub_default`` at ``hub`` with :data:`FAULT_TOLERANT_EXTRAS`."""
    uri = json.loads(hub.connection_uri())
    uri["extra"].update(FAULT_TOLERANT_EXTRAS)
    monkeypatch.setenv("AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT", json.dumps(uri))


@pytest.fixture
def tolerant_connection(hub_connection: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``hub_connection`` with :data:`FAULT_TOLERANT_EXTRAS` on ``huggingface_hub_default``."""
    use_fault_tolerant_connection(hub_connection, monkeypatch)
    yield hub_connection


@pytest.fixture
def tolerant_subprocess_hub(subprocess_hub: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``subprocess_hub`` (Jobs run as local processes) with :data:`FAULT_TOLERANT_EXTRAS`."""
    use_fault_tolerant_connection(subprocess_hub, monkeypatch)
    yield subprocess_hub


@pytest.fixture
def api(hub_connection: Any) -> Any:
    """A plain ``HfApi`` on the emulator, to read the outcome (never under faults)."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_connection.url, token=hub_connection.token)
