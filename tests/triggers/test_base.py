"""The trigger base: the poll interval read off the loop, serialization by construction, judging and giving
up.

The operator and sensor bases are tested in ``tests/operators/test_base.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from airflow.sdk._shared.module_loading import import_string

from airflow_provider_hub.hooks.states import Verdict
from airflow_provider_hub.triggers._base import (
    MAX_CONSECUTIVE_ERRORS,
    HfPollingTrigger,
    configured_poll_interval,
)
from airflow_provider_hub.triggers.endpoints import HfInferenceEndpointTrigger
from airflow_provider_hub.triggers.jobs import HfJobTrigger
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID


def test_a_trigger_without_poll_interval_reads_the_option_off_the_loop(monkeypatch):
    monkeypatch.setenv("AIRFLOW__HUGGINGFACE_HUB__DEFAULT_POLL_INTERVAL", "0.01")
    read_on: list[bool] = []

    def configured() -> float:
        read_on.append(_on_a_loop())
        return configured_poll_interval()

    monkeypatch.setattr("airflow_provider_hub.triggers._base.configured_poll_interval", configured)
    trigger = Counting(results=[None, None, "done"])
    (event,) = asyncio.run(_events(trigger))
    assert event == {"status": "success", "reading": "done", "message": None}
    assert read_on == [False]  # read on a worker thread
    for trigger_class in (HfJobTrigger, HfInferenceEndpointTrigger):
        _, kwargs = trigger_class(**{**_identity(trigger_class)}).serialize()
        assert kwargs["poll_interval"] is None  # resolved where it runs, by the triggerer's config


def _identity(trigger_class: type) -> dict[str, str]:
    return (
        {"job_id": "j", "namespace": "n"}
        if trigger_class is HfJobTrigger
        else {"name": "e", "namespace": "n"}
    )


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class Counting(HfPollingTrigger[Any]):
    """A trigger whose reads return ``results`` in turn (an exception is raised)."""

    def __init__(
        self, *, results: list[Any], poll_interval: float | None = None, end_time: float | None = None
    ):
        super().__init__(hf_conn_id=DEFAULT_CONN_ID, poll_interval=poll_interval, end_time=end_time)
        self.results = list(results)
        self.reads = 0

    @property
    def subject(self) -> str:
        return "the counter"

    async def read(self, hook: Any) -> Any:
        result = self.results[min(self.reads, len(self.results) - 1)]
        self.reads += 1
        if isinstance(result, Exception):
            raise result
        return result

    def judge(self, reading: Any) -> Verdict:
        return {"done": Verdict.DONE, "failed": Verdict.FAILED}.get(reading, Verdict.WAITING)

    def payload(self, status: str, reading: Any, message: str | None) -> dict[str, Any]:
        return {"status": status, "reading": reading, "message": message}


async def _events(trigger: HfPollingTrigger[Any]) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def test_polling_base_serializes_its_constructor_and_round_trips():
    trigger = Counting(results=[1, 2], poll_interval=3, end_time=4.0)
    classpath, kwargs = trigger.serialize()
    assert classpath == f"{__name__}.Counting"
    assert list(kwargs) == ["results", "poll_interval", "end_time"]  # the signature's order
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


def test_polling_base_judges_fails_and_gives_up(hub_connection):
    assert asyncio.run(_events(Counting(results=[None, "failed"], poll_interval=0))) == [
        {"status": "failed", "reading": "failed", "message": None}
    ]
    # Failed reads in a row are tolerated up to the limit; a good read resets the count.
    flaky = (
        [RuntimeError("503")] * (MAX_CONSECUTIVE_ERRORS - 1) + [None] + [RuntimeError("503")] * 2 + ["done"]
    )
    assert asyncio.run(_events(Counting(results=flaky, poll_interval=0)))[0]["status"] == "success"
    broken = Counting(results=[None, RuntimeError("503")], poll_interval=0)
    (event,) = asyncio.run(_events(broken))
    assert event == {"status": "error", "reading": None, "message": "Could not read the counter: 503"}
    assert broken.reads == 1 + MAX_CONSECUTIVE_ERRORS
    (event,) = asyncio.run(_events(Counting(results=[None], poll_interval=0.01, end_time=0)))
    assert event == {"status": "timeout", "reading": None, "message": "Timed out waiting for the counter"}
