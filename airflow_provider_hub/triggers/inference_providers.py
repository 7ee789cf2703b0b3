"""``HfInferenceProviderTrigger``: wait until a model is live on an Inference Provider, in the triggerer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_hub._offloop import async_hook
from airflow_provider_hub.triggers._polling import poll_until_settled


def live_providers(mapping: Mapping[str, Mapping[str, Any]], wanted: Sequence[str] | None) -> list[str]:
    """Providers of ``mapping`` (the Hub's ``inferenceProviderMapping``) that are ``live``, among ``wanted`` if given.

    Sorted by name, so the first one is a deterministic pick.
    """
    return sorted(
        name
        for name, entry in mapping.items()
        if (entry or {}).get("status") == "live" and (not wanted or name in wanted)
    )


class HfInferenceProviderTrigger(BaseTrigger):
    """Poll a model's Inference Providers mapping until it is live on one of ``providers`` (or any).

    The payload is ``{"status": "success" | "timeout" | "error", "model_id", "live_providers", "message"}``.

    Example::

        HfInferenceProviderTrigger(model_id="acme/support-llm", providers=["together", "novita"], poll_interval=60)

    :param model_id: the model repo id.
    :param providers: provider ids to accept; ``None`` or empty: any provider.
    :param hf_conn_id: the Hugging Face Hub connection.
    :param poll_interval: seconds between reads.
    :param end_time: give up at this wall-clock time (epoch seconds); ``None`` waits forever.
    """

    def __init__(
        self,
        *,
        model_id: str,
        providers: Sequence[str] | None = None,
        hf_conn_id: str = "huggingface_hub_default",
        poll_interval: float = 60.0,
        end_time: float | None = None,
    ) -> None:
        super().__init__()
        self.model_id = model_id
        self.providers = list(providers) if providers else None
        self.hf_conn_id = hf_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = end_time

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_hub.triggers.inference_providers.HfInferenceProviderTrigger",
            {
                "model_id": self.model_id,
                "providers": self.providers,
                "hf_conn_id": self.hf_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
            },
        )

    def _event(self, status: str, live: list[str], message: str | None = None) -> TriggerEvent:
        return TriggerEvent(
            {"status": status, "model_id": self.model_id, "live_providers": live, "message": message}
        )

    def _settled_status(self, mapping: Mapping[str, Mapping[str, Any]]) -> str | None:
        if live_providers(mapping, self.providers):
            return "success"
        self.log.info(
            "%s is not live on %s yet", self.model_id, ", ".join(self.providers or ["any provider"])
        )
        return None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await async_hook(self.hf_conn_id)
        outcome = await poll_until_settled(
            lambda: hook.get_model_provider_mapping(self.model_id),
            self._settled_status,
            subject=f"the providers of {self.model_id}",
            unreadable="the model's providers",
            timeout_message=f"{self.model_id} is not live on the wanted providers",
            poll_interval=self.poll_interval,
            end_time=self.end_time,
            log=self.log,
        )
        yield self._event(outcome.status, live_providers(outcome.last or {}, self.providers), outcome.message)
