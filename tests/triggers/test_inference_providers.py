"""HfInferenceProviderTrigger against the emulator: serialization, a provider going live, a timeout.

HfInferenceProviderSensor, which defers to it, is tested in ``tests/sensors/test_inference_providers.py``.
"""

from __future__ import annotations

import time

from airflow.sdk._shared.module_loading import import_string

from airflow_provider_hub.triggers.inference_providers import HfInferenceProviderTrigger


def test_provider_trigger_round_trip():
    trigger = HfInferenceProviderTrigger(model_id="a/b", providers=["x"], poll_interval=3, end_time=9.0)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_hub.triggers.inference_providers.HfInferenceProviderTrigger"
    assert kwargs == {
        "model_id": "a/b",
        "providers": ["x"],
        "hf_conn_id": "huggingface_hub_default",
        "poll_interval": 3.0,
        "end_time": 9.0,
    }
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


async def test_provider_trigger_success_and_timeout(seeded):
    (ok,) = [
        e.payload async for e in HfInferenceProviderTrigger(model_id="acme/chat", poll_interval=0.1).run()
    ]
    assert ok["status"] == "success" and ok["live_providers"] == ["fireworks-ai", "novita", "together"]
    waiting = HfInferenceProviderTrigger(
        model_id="acme/chat", providers=["groq"], poll_interval=0.1, end_time=time.time() + 0.3
    )
    (late,) = [e.payload async for e in waiting.run()]
    assert late["status"] == "timeout"
