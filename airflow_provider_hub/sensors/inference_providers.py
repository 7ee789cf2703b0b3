"""``HfInferenceProviderSensor``: wait until a model is live on an Inference Provider."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import AirflowException

from airflow_provider_hub.hooks.states import live_providers
from airflow_provider_hub.operators.base import hub_template_fields
from airflow_provider_hub.sensors.base import HfHubBaseSensor
from airflow_provider_hub.triggers.inference_providers import HfInferenceProviderTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class HfInferenceProviderSensor(HfHubBaseSensor):
    """Wait until ``model_id`` is ``live`` on one of ``providers`` (or on any provider).

    Reads the model's ``inferenceProviderMapping`` on the Hub. Works in ``poke`` and ``reschedule`` mode, or
    deferrable (:class:`~airflow_provider_hub.triggers.inference_providers.HfInferenceProviderTrigger`; one check
    in the worker first). Returns ``{"model_id", "provider", "live_providers", "inference", "providers"}``:
    ``provider`` is the first live one by name, ``providers`` the whole mapping.

    Example::

        HfInferenceProviderSensor(task_id="wait_until_served", model_id="acme/support-llm",
                                  providers=["together", "fireworks-ai"], poke_interval=300, mode="reschedule")

    :param model_id: the model repo id. (templated)
    :param providers: provider ids to accept; ``None``: any. (templated)
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("model_id", "providers")

    def __init__(self, *, model_id: str, providers: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_id = model_id
        self.providers = providers

    def _wanted(self) -> list[str] | None:
        if not isinstance(self.model_id, str) or self.model_id.count("/") != 1:
            raise ValueError(f"model_id must look like 'owner/name'; got {self.model_id!r}")
        if self.providers is None:
            return None
        wanted = [self.providers] if isinstance(self.providers, str) else list(self.providers)
        if not all(isinstance(name, str) and name for name in wanted):
            raise ValueError(f"providers must be a list of provider ids; got {self.providers!r}")
        return wanted

    def poke(self, context: Context) -> PokeReturnValue:
        wanted = self._wanted()
        found = self.hook.get_model_provider_mapping(self.model_id)
        live = live_providers(found["providers"], wanted)
        if not live:
            self.log.info(
                "%s is not live on %s yet (mapping: %s)",
                self.model_id,
                ", ".join(wanted or ["any provider"]),
                {name: entry["status"] for name, entry in found["providers"].items()} or "none",
            )
            return PokeReturnValue(is_done=False)
        result = {
            "model_id": self.model_id,
            "provider": live[0],
            "live_providers": live,
            "inference": found["inference"],
            "providers": found["providers"],
        }
        return PokeReturnValue(is_done=True, xcom_value=result)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        self.defer(
            trigger=HfInferenceProviderTrigger(
                model_id=self.model_id,
                providers=self._wanted(),
                hf_conn_id=self.hf_conn_id,
                poll_interval=self.poke_interval,
                end_time=time.time() + self.timeout,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        from airflow.sdk.exceptions import AirflowSensorTimeout

        if event["status"] == "timeout":
            raise AirflowSensorTimeout(f"{event['message']} after the sensor's timeout of {self.timeout:g} s")
        if event["status"] == "error":
            raise AirflowException(f"Inference Providers of {event['model_id']}: {event['message']}")
        result = self.poke(context)
        if result.is_done:
            return result.xcom_value
        # The mapping changed back between the trigger's read and this one: report what the trigger saw.
        live = event["live_providers"]
        return {
            "model_id": self.model_id,
            "provider": live[0],
            "live_providers": live,
            "inference": None,
            "providers": {},
        }
