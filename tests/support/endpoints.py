"""Inference Endpoints on the emulator for tests: the hook, and an Endpoint created on a status plan."""

from __future__ import annotations


def _hook():
    from airflow_provider_hub.hooks.hub import HfHubHook

    return HfHubHook()


def _create(hub, name: str, plan=None) -> dict:
    if plan is not None:
        hub.set_endpoint_plan(name, plan)
    return _hook().create_inference_endpoint(
        name,
        repository="alice/model",
        framework="pytorch",
        accelerator="cpu",
        instance_size="x2",
        instance_type="intel-icl",
        region="us-east-1",
        vendor="aws",
        task="text-generation",
    )
