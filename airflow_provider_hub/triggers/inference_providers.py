"""``HfInferenceProviderTrigger``: wait until a model is live on an Inference Provider, in the triggerer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

#: Consecutive failed reads tolerated before the trigger gives up.
MAX_CONSECUTIVE_ERRORS = 5


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

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_hub.exceptions import HfHubNotFoundError
        from airflow_provider_hub.hooks.hub import HfHubAsyncHook

        hook = HfHubAsyncHook(hf_conn_id=self.hf_conn_id)
        errors = 0
        while True:
            try:
                mapping = await hook.get_model_provider_mapping(self.model_id)
                errors = 0
            except HfHubNotFoundError as exc:
                yield self._event("error", [], str(exc))
                return
            except Exception as exc:  # the hook already retried transient failures
                errors += 1
                self.log.warning(
                    "Reading the providers of %s failed (%d in a row): %s", self.model_id, errors, exc
                )
                if errors >= MAX_CONSECUTIVE_ERRORS:
                    yield self._event("error", [], f"Could not read the model's providers: {exc}")
                    return
            else:
                live = live_providers(mapping, self.providers)
                if live:
                    yield self._event("success", live)
                    return
                self.log.info(
                    "%s is not live on %s yet", self.model_id, ", ".join(self.providers or ["any provider"])
                )
            if self.end_time is not None and time.time() >= self.end_time:
                yield self._event("timeout", [], f"{self.model_id} is not live on the wanted providers")
                return
            delay = self.poll_interval
            if self.end_time is not None:
                delay = max(0.0, min(delay, self.end_time - time.time()))
            await asyncio.sleep(delay)
