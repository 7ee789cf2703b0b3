"""An offline Hugging Face Hub for tests, demos and benchmarks.

The unmodified ``huggingface_hub`` client talks to it over HTTP. Point the client at it with
``HF_ENDPOINT=<emulator url>`` and ``HF_HUB_DISABLE_XET=1`` (the pytest fixtures do this), or
point an Airflow connection at it with :meth:`HubEmulator.connection_uri`.

The emulator (FastAPI, uvicorn) is imported on first use of a name below, not with this package: the
package's pytest plugin is loaded by every pytest run where the provider is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_hub.testing._server import DEFAULT_TOKEN, HubEmulator

__all__ = ["DEFAULT_TOKEN", "HubEmulator"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from airflow_provider_hub.testing import _server

        return getattr(_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
