"""``HfInferenceEndpointTrigger``: wait for an Inference Endpoint's status without holding a worker slot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.hooks.states import EndpointState, Verdict
from airflow_provider_hub.triggers._base import HfPollingTrigger
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook


class HfInferenceEndpointTrigger(HfPollingTrigger[dict[str, Any]]):
    """Poll an Inference Endpoint until its status is one of ``target_statuses``, then fire one event.

    The payload is ``{"status": "success" | "failed" | "timeout" | "error", "name", "namespace",
    "endpoint_status", "url", "message"}``: ``failed`` when the Endpoint reports ``failed`` or ``updateFailed``
    (``message`` is then the Endpoint's own), ``timeout`` past ``end_time`` (epoch seconds), ``error`` when the
    Endpoint does not exist or after
    :data:`~airflow_provider_hub.triggers._base.MAX_CONSECUTIVE_ERRORS` failed reads in a row.
    :meth:`~airflow_provider_hub.hooks.states.EndpointState.verdict` judges each status.

    Example::

        HfInferenceEndpointTrigger(name="my-llm", namespace="acme", target_statuses=["running"], poll_interval=15)

    :param name: the Endpoint's name.
    :param namespace: the Endpoint's namespace (user or org).
    :param target_statuses: statuses that end the wait with ``success``.
    :param hf_conn_id: the Hugging Face Hub connection.
    :param poll_interval: seconds between status reads; ``None``: ``[huggingface_hub] default_poll_interval``.
    :param end_time: give up at this wall-clock time (epoch seconds); ``None`` waits forever.
    """

    def __init__(
        self,
        *,
        name: str,
        namespace: str,
        target_statuses: Sequence[str] = ("running",),
        hf_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float | None = None,
        end_time: float | None = None,
    ) -> None:
        super().__init__(
            hf_conn_id=hf_conn_id,
            poll_interval=None if poll_interval is None else float(poll_interval),
            end_time=end_time,
        )
        self.name = name
        self.namespace = namespace
        self.target_statuses = list(target_statuses)

    @property
    def subject(self) -> str:
        return f"Endpoint {self.namespace}/{self.name}"

    async def read(self, hook: HfHubAsyncHook) -> dict[str, Any]:
        return await hook.poll_inference_endpoint(self.name, namespace=self.namespace, interval=self.interval)

    def judge(self, reading: dict[str, Any]) -> Verdict:
        state = EndpointState.from_api(reading)
        verdict = state.verdict(self.target_statuses)
        if verdict is Verdict.WAITING:
            self.log.info("Endpoint %s/%s is %s", self.namespace, self.name, state.status)
        return verdict

    def payload(self, status: str, reading: dict[str, Any] | None, message: str | None) -> dict[str, Any]:
        state = EndpointState.from_api(reading)
        return {
            "status": status,
            "name": self.name,
            "namespace": self.namespace,
            "endpoint_status": state.status,
            "url": state.url,
            "message": message if message is not None else state.message,
        }
