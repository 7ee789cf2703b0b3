"""HfInferenceEndpointTrigger against the emulator's Endpoint lifecycles: serialization and every outcome.

HfInferenceEndpointSensor, which defers to it, is tested in ``tests/sensors/test_endpoints.py``.
"""

from __future__ import annotations

import time

from airflow.sdk._shared.module_loading import import_string

from airflow_provider_hub.triggers.endpoints import HfInferenceEndpointTrigger
from tests.support.endpoints import _create


def test_trigger_serializes_to_plain_kwargs_and_round_trips():
    trigger = HfInferenceEndpointTrigger(
        name="ep", namespace="acme", target_statuses=("paused",), poll_interval=5, end_time=12.5
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_hub.triggers.endpoints.HfInferenceEndpointTrigger"
    assert kwargs == {
        "name": "ep",
        "namespace": "acme",
        "target_statuses": ["paused"],
        "hf_conn_id": "huggingface_hub_default",
        "poll_interval": 5.0,
        "end_time": 12.5,
    }
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


async def test_trigger_success_failed_timeout_and_missing(hub_connection):
    _create(hub_connection, "ok")
    _create(hub_connection, "bad", [("pending", 0.1), ("failed", None)])
    _create(hub_connection, "slow", [("pending", 30.0), ("running", None)])
    (ok,) = [
        e.payload
        async for e in HfInferenceEndpointTrigger(name="ok", namespace="alice", poll_interval=0.1).run()
    ]
    assert ok["status"] == "success" and ok["endpoint_status"] == "running"
    assert ok["url"] == f"{hub_connection.url}/_endpoints/alice/ok"
    (bad,) = [
        e.payload
        async for e in HfInferenceEndpointTrigger(name="bad", namespace="alice", poll_interval=0.1).run()
    ]
    assert bad["status"] == "failed" and "exited with code 1" in bad["message"]
    slow_trigger = HfInferenceEndpointTrigger(
        name="slow", namespace="alice", poll_interval=0.1, end_time=time.time() + 0.3
    )
    (slow,) = [e.payload async for e in slow_trigger.run()]
    assert slow["status"] == "timeout" and slow["endpoint_status"] == "pending"
    (missing,) = [e.payload async for e in HfInferenceEndpointTrigger(name="nope", namespace="alice").run()]
    assert missing["status"] == "error" and "nope" in missing["message"]
