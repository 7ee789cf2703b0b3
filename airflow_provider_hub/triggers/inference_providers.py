"""``HfInferenceProviderTrigger``: wait until a model is live on an Inference Provider, in the triggerer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.hooks.states import Verdict, live_providers
from airflow_provider_hub.triggers._base import HfPollingTrigger
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook

ProviderMapping = Mapping[str, Mapping[str, Any]]


class HfInferenceProviderTrigger(HfPollingTrigger[ProviderMapping]):
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
        hf_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 60.0,
        end_time: float | None = None,
    ) -> None:
        super().__init__(hf_conn_id=hf_conn_id, poll_interval=float(poll_interval), end_time=end_time)
        self.model_id = model_id
        self.providers = list(providers) if providers else None

    @property
    def subject(self) -> str:
        return f"the providers of {self.model_id}"

    @property
    def timeout_message(self) -> str:
        return f"{self.model_id} is not live on the wanted providers"

    async def read(self, hook: HfHubAsyncHook) -> ProviderMapping:
        return await hook.get_model_provider_mapping(self.model_id)

    def judge(self, reading: ProviderMapping) -> Verdict:
        if live_providers(reading, self.providers):
            return Verdict.DONE
        self.log.info(
            "%s is not live on %s yet", self.model_id, ", ".join(self.providers or ["any provider"])
        )
        return Verdict.WAITING

    def payload(self, status: str, reading: ProviderMapping | None, message: str | None) -> dict[str, Any]:
        return {
            "status": status,
            "model_id": self.model_id,
            "live_providers": live_providers(reading or {}, self.providers),
            "message": message,
        }
