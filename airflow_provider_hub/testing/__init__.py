"""An offline Hugging Face Hub for tests, demos and benchmarks.

The unmodified ``huggingface_hub`` client talks to it over HTTP. Point the client at it with
``HF_ENDPOINT=<emulator url>`` and ``HF_HUB_DISABLE_XET=1`` (the pytest fixtures do this), or
point an Airflow connection at it with :meth:`HubEmulator.connection_uri`.
"""

from __future__ import annotations

from airflow_provider_hub.testing._server import DEFAULT_TOKEN, HubEmulator

__all__ = ["DEFAULT_TOKEN", "HubEmulator"]
