"""``HfJobSensor``: wait for a Hub Job started elsewhere (another DAG, a schedule, a person)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import AirflowException

from airflow_provider_hub.exceptions import HfHubTerminalStateError
from airflow_provider_hub.hooks.states import JobState, Verdict
from airflow_provider_hub.links import HfJobLink
from airflow_provider_hub.operators.base import hub_template_fields
from airflow_provider_hub.sensors.base import HfHubBaseSensor
from airflow_provider_hub.triggers.jobs import HfJobTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class HfJobSensor(HfHubBaseSensor):
    """Wait until a Hub Job reaches one of ``target_stages``; fail at once if it ends in another stage.

    Works in ``poke`` and ``reschedule`` mode, or deferrable (:class:`~airflow_provider_hub.triggers.jobs.HfJobTrigger`).
    A Job that reaches a terminal stage outside ``target_stages`` raises
    :class:`~airflow_provider_hub.exceptions.HfHubTerminalStateError` (no retries: the Job will not change).
    Returns ``{"job_id", "namespace", "url", "stage", "message", ...}`` through XCom.

    Example::

        HfJobSensor(task_id="wait_for_training", job_id="{{ ti.xcom_pull('start', key='job_id') }}")

    :param job_id: the Job to wait for. (templated)
    :param target_stages: stages that end the wait successfully, default ``("COMPLETED",)``. (templated)
    :param namespace: the Job's namespace; default: the connection's namespace, else the token's user. (templated)
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("job_id", "target_stages", "namespace")
    operator_extra_links = (HfJobLink(),)

    def __init__(
        self,
        *,
        job_id: str,
        target_stages: Sequence[str] = ("COMPLETED",),
        namespace: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.target_stages = target_stages
        self.namespace = namespace

    def _targets(self) -> list[str]:
        stages = [self.target_stages] if isinstance(self.target_stages, str) else list(self.target_stages)
        targets = [str(stage).upper() for stage in stages]
        unknown = [stage for stage in targets if stage not in JobState.STAGES]
        if not targets or unknown:
            raise ValueError(
                f"target_stages must be a non-empty list of {', '.join(JobState.STAGES)}; "
                f"got {self.target_stages!r}"
            )
        if not isinstance(self.job_id, str) or not self.job_id.strip():
            raise ValueError(f"job_id must be a non-empty string; got {self.job_id!r}")
        return targets

    def _judge(self, context: Context, summary: dict[str, Any], targets: list[str]) -> bool:
        HfJobLink.persist(context, summary["url"])
        state = JobState.from_summary(summary)
        verdict = state.verdict(targets)
        if verdict is Verdict.DONE:
            return True
        if verdict is Verdict.FAILED:
            raise HfHubTerminalStateError(
                f"Hub Job {summary['job_id']} {state.failure_reason()}, not in {', '.join(targets)}: "
                f"{summary['url']}"
            )
        self.log.info("Job %s is %s; waiting for %s", summary["job_id"], summary["stage"], ", ".join(targets))
        return False

    def poke(self, context: Context) -> PokeReturnValue:
        targets = self._targets()
        summary = self.hook.job_summary(self.hook.get_job(self.job_id, self.namespace))
        return PokeReturnValue(is_done=self._judge(context, summary, targets), xcom_value=summary)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        summary: dict[str, Any] = first.xcom_value or {}
        if first.is_done:
            return summary
        self.defer(
            trigger=HfJobTrigger(
                job_id=self.job_id,
                namespace=summary["namespace"],
                hf_conn_id=self.hf_conn_id,
                poll_interval=self.poke_interval,
                target_stages=self._targets(),
                cancel_on_kill=False,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) if self.timeout is not None else None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        if event["status"] == "error":
            raise AirflowException(f"Hub Job {event['job_id']}: {event.get('message')}")
        summary = self.hook.job_summary(self.hook.get_job(event["job_id"], event["namespace"]))
        # Judge the stage the trigger saw: the Job may have moved on since (RUNNING -> COMPLETED).
        self._judge(context, {**summary, "stage": event["stage"]}, self._targets())
        return summary
