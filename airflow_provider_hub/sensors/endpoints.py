"""``HfInferenceEndpointSensor``: wait until an Inference Endpoint reaches a status (running by default)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_provider_hub.hooks.endpoints import ENDPOINT_STATUSES, SLEEPING_ENDPOINT_STATUSES
from airflow_provider_hub.links import HfInferenceEndpointLink
from airflow_provider_hub.operators.endpoints import (
    check_endpoint_name,
    endpoint_failure,
    summary_after_event,
)
from airflow_provider_hub.triggers.endpoints import HfInferenceEndpointTrigger, judge_endpoint_status

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hub.hooks.hub import HfHubHook


class HfInferenceEndpointSensor(BaseSensorOperator):
    """Wait until an Inference Endpoint reaches ``target_status``; fail at once if it reports ``failed``.

    Works in ``poke`` and ``reschedule`` mode, or deferrable
    (:class:`~airflow_provider_hub.triggers.endpoints.HfInferenceEndpointTrigger`; the sensor checks once in the
    worker before deferring, and ``timeout`` / ``soft_fail`` behave as for Airflow's own sensors). ``running``
    counts once the Endpoint advertises its URL. An Endpoint in ``failed`` or ``updateFailed`` raises
    :class:`~airflow_provider_hub.exceptions.HfHubTerminalStateError` with the Endpoint's own message (no retries).
    With ``resume_if_paused``, a ``paused`` or ``scaledToZero`` Endpoint is resumed before waiting (at every
    check that finds it asleep, unless the target is that status).

    Returns the Endpoint's summary ``{"name", "namespace", "status", "url", "message", "repository", "revision",
    ...}`` through XCom.

    Example::

        HfInferenceEndpointSensor(task_id="wait_for_endpoint", name="support-bot", resume_if_paused=True,
                                  poke_interval=15, timeout=1800, deferrable=True)

    :param name: the Endpoint's name. (templated)
    :param namespace: the Endpoint's namespace; default: the connection's namespace, else the token's user. (templated)
    :param target_status: the status to wait for, default ``running``. (templated)
    :param resume_if_paused: resume a paused or scaled-to-zero Endpoint before waiting.
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = ("name", "namespace", "target_status", "hf_conn_id")
    operator_extra_links = (HfInferenceEndpointLink(),)
    ui_color = "#FFD21E"

    def __init__(
        self,
        *,
        name: str,
        namespace: str | None = None,
        target_status: str = "running",
        resume_if_paused: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        hf_conn_id: str = "huggingface_hub_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.namespace = namespace
        self.target_status = target_status
        self.resume_if_paused = resume_if_paused
        self.deferrable = deferrable
        self.hf_conn_id = hf_conn_id

    @cached_property
    def hook(self) -> HfHubHook:
        from airflow_provider_hub.hooks.hub import HfHubHook

        return HfHubHook(hf_conn_id=self.hf_conn_id)

    def _validate(self) -> None:
        if self.target_status not in ENDPOINT_STATUSES:
            raise ValueError(
                f"target_status must be one of {', '.join(ENDPOINT_STATUSES)}; got {self.target_status!r}"
            )
        check_endpoint_name(self.task_id, self.name)

    def poke(self, context: Context) -> PokeReturnValue:
        self._validate()
        summary = self.hook.get_inference_endpoint(self.name, self.namespace)
        HfInferenceEndpointLink.persist(context, summary["page_url"])
        if (
            self.resume_if_paused
            and summary["status"] in SLEEPING_ENDPOINT_STATUSES
            and summary["status"] != self.target_status
        ):
            self.log.info(
                "Endpoint %s/%s is %s: resuming it", summary["namespace"], self.name, summary["status"]
            )
            summary = self.hook.resume_inference_endpoint(self.name, summary["namespace"])
        verdict = judge_endpoint_status(summary["status"], summary["url"], [self.target_status])
        if verdict == "failed":
            raise endpoint_failure(summary)
        if verdict == "waiting":
            self.log.info(
                "Endpoint %s/%s is %s; waiting for %s",
                summary["namespace"],
                self.name,
                summary["status"],
                self.target_status,
            )
        return PokeReturnValue(is_done=verdict == "done", xcom_value=summary)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        try:
            first = self.poke(context)
        except AirflowFailException as exc:
            # The same soft_fail / never_fail treatment as BaseSensorOperator.execute gives a poke.
            if self.soft_fail or self.never_fail:
                raise AirflowSkipException(f"Skipping: {exc}") from exc
            raise
        summary = cast("dict[str, Any]", first.xcom_value)
        if first.is_done:
            return summary
        self.defer(
            trigger=HfInferenceEndpointTrigger(
                name=self.name,
                namespace=summary["namespace"],
                target_statuses=[self.target_status],
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
            # resume_execution turns this into a skip under soft_fail, as for a deferral timeout.
            raise AirflowSensorTimeout(
                f"Inference Endpoint {event['namespace']}/{event['name']} is still {event.get('endpoint_status')} "
                f"after the sensor's timeout of {self.timeout:g} s"
            )
        summary = summary_after_event(self.hook, event)
        HfInferenceEndpointLink.persist(context, summary["page_url"])
        return summary
