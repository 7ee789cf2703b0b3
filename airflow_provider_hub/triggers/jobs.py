"""``HfJobTrigger``: wait for a Hub Job to reach a stage without holding a worker slot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_hub._offloop import async_hook
from airflow_provider_hub.hooks.jobs import TERMINAL_JOB_STAGES
from airflow_provider_hub.triggers._polling import poll_until_settled


class HfJobTrigger(BaseTrigger):
    """Poll a Hub Job until its stage is one of ``target_stages`` or terminal, then fire one event.

    The event payload is ``{"status": "success" | "failed" | "timeout" | "error", "job_id", "namespace",
    "stage", "message", "log_lines_emitted"}``: ``success`` when the stage is a target,
    ``failed`` when the Job ended in another terminal stage, ``timeout`` past ``end_time`` (epoch
    seconds), ``error`` when the Job is not found or after
    :data:`~airflow_provider_hub.triggers._polling.MAX_CONSECUTIVE_ERRORS` failed reads in a row (each read is already retried by :class:`~airflow_provider_hub.hooks.hub.HfHubAsyncHook`).

    On Airflow 3.3+ the triggerer calls :meth:`on_kill` when a user marks the deferred task failed or
    clears it; with ``cancel_on_kill`` the Job is cancelled then. Airflow 3.2 never calls it.

    Example::

        HfJobTrigger(job_id="68780d00bbe36d38803f645f", namespace="alice", poll_interval=15)

    :param job_id: the Job to watch.
    :param namespace: the Job's namespace (user or org).
    :param hf_conn_id: the Hugging Face Hub connection.
    :param poll_interval: seconds between status reads.
    :param target_stages: stages that end the wait with ``success``; terminal stages always end it.
    :param end_time: give up at this wall-clock time (epoch seconds); ``None`` waits forever.
    :param cancel_on_kill: cancel the Job when the triggerer kills this trigger for a user action.
    :param log_lines_emitted: how many of the Job's log lines the task already wrote to its log,
        passed back in the event so the resumed task writes each line exactly once.
    """

    def __init__(
        self,
        *,
        job_id: str,
        namespace: str,
        hf_conn_id: str = "huggingface_hub_default",
        poll_interval: float = 30.0,
        target_stages: Sequence[str] = ("COMPLETED",),
        end_time: float | None = None,
        cancel_on_kill: bool = True,
        log_lines_emitted: int = 0,
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.namespace = namespace
        self.hf_conn_id = hf_conn_id
        self.poll_interval = float(poll_interval)
        self.target_stages = [str(stage).upper() for stage in target_stages]
        self.end_time = end_time
        self.cancel_on_kill = cancel_on_kill
        self.log_lines_emitted = int(log_lines_emitted)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_hub.triggers.jobs.HfJobTrigger",
            {
                "job_id": self.job_id,
                "namespace": self.namespace,
                "hf_conn_id": self.hf_conn_id,
                "poll_interval": self.poll_interval,
                "target_stages": list(self.target_stages),
                "end_time": self.end_time,
                "cancel_on_kill": self.cancel_on_kill,
                "log_lines_emitted": self.log_lines_emitted,
            },
        )

    def _event(self, status: str, raw: dict[str, Any] | None, message: str | None) -> TriggerEvent:
        state = (raw or {}).get("status") or {}
        return TriggerEvent(
            {
                "status": status,
                "job_id": self.job_id,
                "namespace": self.namespace,
                "stage": state.get("stage"),
                "message": message if message is not None else state.get("message"),
                "log_lines_emitted": self.log_lines_emitted,
            }
        )

    def _settled_status(self, raw: dict[str, Any]) -> str | None:
        stage = (raw.get("status") or {}).get("stage")
        if stage in self.target_stages:
            return "success"
        if stage in TERMINAL_JOB_STAGES:
            return "failed"
        self.log.info("Job %s/%s is %s", self.namespace, self.job_id, stage)
        return None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await async_hook(self.hf_conn_id)
        outcome = await poll_until_settled(
            lambda: hook.get_job(self.job_id, namespace=self.namespace),
            self._settled_status,
            subject=f"Job {self.namespace}/{self.job_id}",
            unreadable="the Job's status",
            timeout_message="Timed out waiting for the Job",
            poll_interval=self.poll_interval,
            end_time=self.end_time,
            log=self.log,
        )
        yield self._event(outcome.status, outcome.last, outcome.message)

    async def on_kill(self) -> None:
        """Cancel the Job when a user marks the deferred task failed or clears it (Airflow 3.3+)."""
        if not self.cancel_on_kill:
            return
        try:
            hook = await async_hook(self.hf_conn_id)
            await hook.cancel_job(self.job_id, self.namespace)
            self.log.info("Cancelled Job %s/%s", self.namespace, self.job_id)
        except Exception:
            self.log.warning("Could not cancel Job %s/%s", self.namespace, self.job_id, exc_info=True)
