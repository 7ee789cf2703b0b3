"""Inference Providers on the emulator for tests: a model served by four providers, and the hook.

The ``seeded`` fixture reaches every test folder: ``tests/conftest.py`` registers this module as a pytest
plugin.
"""

from __future__ import annotations

import pytest

#: One provider with pricing and probe figures, one with probe figures and no pricing, one with almost nothing.
PROVIDERS = {
    "together": {
        "status": "live",
        "context_length": 131072,
        "pricing": {"input": 0.2, "output": 0.6},
        "supports_tools": True,
        "supports_structured_output": True,
        "first_token_latency_ms": 400,
        "throughput": 80,
    },
    "fireworks-ai": {
        "status": "live",
        "context_length": 32768,
        "supports_tools": True,
        "supports_structured_output": False,
        "first_token_latency_ms": 150,
        "throughput": 140,
    },
    "novita": {"status": "live", "is_model_author": False},
    "sambanova": {"status": "error", "pricing": {"input": 0.01, "output": 0.01}, "throughput": 999},
}


def _hook():
    from airflow_provider_hub.hooks.hub import HfHubHook

    return HfHubHook()


@pytest.fixture
def seeded(hub_connection):
    hub_connection.add_repo("acme/chat", files={"README.md": "---\npipeline_tag: text-generation\n---\n"})
    hub_connection.set_inference_providers("acme/chat", PROVIDERS)
    return hub_connection
