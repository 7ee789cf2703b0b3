"""``HfInferenceEndpointTrigger``: wait for an Inference Endpoint's status without holding a worker slot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_hub._offloop import async_hook
from airflow_provider_hub.hooks.endpoints import FAILED_ENDPOINT_STATUSES
from airflow_provider_hub.triggers._polling import poll_until_settled


def judge_endpoint_status(status: str | None, url: str | None, target_statuses: Sequence[str]) -> str:
    """``"done"``, ``"failed"`` or ``"waiting"`` for an Endpoint in ``status``, waited on for ``target_statuses``.

    ``running`` only counts once the Endpoint advertises its URL (as ``InferenceEndpoint.wait()`` requires).
    ``failed`` / ``updateFailed`` fail any wait that does not target them.
    """
    if status in target_statuses and (status != "running" or url):
        return "done"
    if status in FAILED_ENDPOINT_STATUSES:
        return "failed"
    return "waiting"


class HfInferenceEndpointTrigger(BaseTrigger):
    """Poll an Inference Endpoint until its status is one of ``target_statuses``, then fire one event.

    The payload is ``{"status": "success" | "failed" | "timeout" | "error", "name", "namespace",
    "endpoint_status", "url", "message"}``: ``failed`` when the Endpoint reports ``failed`` or ``updateFailed``
    (``message`` is then the Endpoint's own), ``timeout`` past ``end_time`` (epoch seconds), ``error`` when the
    Endpoint does not exist or after
    :data:`~airflow_provider_hub.triggers._polling.MAX_CONSECUTIVE_ERRORS` failed reads in a row.

    Example::

        HfInferenceEndpointTrigger(name="my-llm", namespace="acme", target_statuses=["running"], poll_interval=15)

    :param name: the Endpoint's name.
    :param namespace: the Endpoint's namespace (user or org).
    :param target_statuses: statuses that end the wait with ``success``.
    :param hf_conn_id: the Hugging Face Hub connection.
    :param poll_interval: seconds between status reads.
    :param end_time: give up at this wall-clock time (epoch seconds); ``None`` waits forever.
    """

    def __init__(
        self,
        *,
        name: str,
        namespace: str,
        target_statuses: Sequence[str] = ("running",),
        hf_conn_id: str = "huggingface_hub_default",
        poll_interval: float = 30.0,
        end_time: float | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.namespace = namespace
        self.target_statuses = list(target_statuses)
        self.hf_conn_id = hf_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = end_time

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_hub.triggers.endpoints.HfInferenceEndpointTrigger",
            {
                "name": self.name,
                "namespace": self.namespace,
                "target_statuses": list(self.target_statuses),
                "hf_conn_id": self.hf_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
            },
        )

    def _event(self, status: str, raw: dict[str, Any] | None, message: str | None = None) -> TriggerEvent:
        state = (raw or {}).get("status") or {}
        return TriggerEvent(
            {
                "status": status,
                "name": self.name,
                "namespace": self.namespace,
                "endpoint_status": state.get("state"),
                "url": state.get("url"),
                "message": message if message is not None else state.get("message"),
            }
        )

    def _settled_status(self, raw: dict[str, Any]) -> str | None:
        state = raw.get("status") or {}
        verdict = judge_endpoint_status(state.get("state"), state.get("url"), self.target_statuses)
        if verdict == "done":
            return "success"
        if verdict == "failed":
            return "failed"
        self.log.info("Endpoint %s/%s is %s", self.namespace, self.name, state.get("state"))
        return None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await async_hook(self.hf_conn_id)
        outcome = await poll_until_settled(
            lambda: hook.get_inference_endpoint(self.name, namespace=self.namespace),
            self._settled_status,
            subject=f"Endpoint {self.namespace}/{self.name}",
            unreadable="the Endpoint's status",
            timeout_message="Timed out waiting for the Endpoint",
            poll_interval=self.poll_interval,
            end_time=self.end_time,
            log=self.log,
        )
        yield self._event(outcome.status, outcome.last, outcome.message)
