"""Connections to the Hub emulator for hook tests: ``AIRFLOW_CONN_*`` values, and a port nobody listens on."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from airflow_provider_hub.testing import HubEmulator

#: Fast backoff for tests: retries wait tens of milliseconds, not seconds.
FAST_BACKOFF = 0.02


def connection_json(
    hub: HubEmulator, *, token: str | None = "default", host: str | None = None, **extra: Any
) -> str:
    """An ``AIRFLOW_CONN_*`` value pointing at ``hub`` (``token="default"`` = the seeded user's token)."""
    extras: dict[str, Any] = {
        "namespace": hub.user,
        "inference_endpoints_url": f"{hub.url}/v2",
        "router_url": hub.url,
        "retry_backoff": FAST_BACKOFF,
    }
    extras.update(extra)
    return json.dumps(
        {
            "conn_type": "huggingface_hub",
            "host": host or hub.url,
            "password": hub.token if token == "default" else token,
            "extra": {key: value for key, value in extras.items() if value is not None},
        }
    )


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, value: str) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
