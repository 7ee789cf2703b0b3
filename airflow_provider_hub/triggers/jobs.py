"""``HfJobTrigger``: wait for a Hub Job to reach a stage without holding a worker slot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub._offloop import async_hook
from airflow_provider_hub.hooks.states import JobState, Verdict
from airflow_provider_hub.triggers._base import HfPollingTrigger
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook


class HfJobTrigger(HfPollingTrigger[dict[str, Any]]):
    """Poll a Hub Job until its stage is one of ``target_stages`` or terminal, then fire one event.

    The event payload is ``{"status": "success" | "failed" | "timeout" | "error", "job_id", "namespace",
    "stage", "message", "log_lines_emitted"}``: ``success`` when the stage is a target,
    ``failed`` when the Job ended in another terminal stage, ``timeout`` past ``end_time`` (epoch
    seconds), ``error`` when the Job is not found or after
    :data:`~airflow_provider_hub.triggers._base.MAX_CONSECUTIVE_ERRORS` failed reads in a row (each read is
    already retried by :class:`~airflow_provider_hub.hooks.hub.HfHubAsyncHook`).

    On Airflow 3.3+ the triggerer calls :meth:`on_kill` when a user marks the deferred task failed or
    clears it; with ``cancel_on_kill`` the Job is cancelled then. Airflow 3.2 never calls it.

    Example::

        HfJobTrigger(job_id="68780d00bbe36d38803f645f", namespace="alice", poll_interval=15)

    :param job_id: the Job to watch.
    :param namespace: the Job's namespace (user or org).
    :param hf_conn_id: the Hugging Face Hub connection.
    :param poll_interval: seconds between status reads; ``None``: ``[huggingface_hub] default_poll_interval``.
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
        hf_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float | None = None,
        target_stages: Sequence[str] = ("COMPLETED",),
        end_time: float | None = None,
        cancel_on_kill: bool = True,
        log_lines_emitted: int = 0,
    ) -> None:
        super().__init__(
            hf_conn_id=hf_conn_id,
            poll_interval=None if poll_interval is None else float(poll_interval),
            end_time=end_time,
        )
        self.job_id = job_id
        self.namespace = namespace
        self.target_stages = [str(stage).upper() for stage in target_stages]
        self.cancel_on_kill = cancel_on_kill
        self.log_lines_emitted = int(log_lines_emitted)

    @property
    def subject(self) -> str:
        return f"Job {self.namespace}/{self.job_id}"

    async def read(self, hook: HfHubAsyncHook) -> dict[str, Any]:
        return await hook.poll_job(self.job_id, namespace=self.namespace, interval=self.interval)

    def judge(self, reading: dict[str, Any]) -> Verdict:
        state = JobState.from_api(reading)
        verdict = state.verdict(self.target_stages)
        if verdict is Verdict.WAITING:
            self.log.info("Job %s/%s is %s", self.namespace, self.job_id, state.stage)
        return verdict

    def payload(self, status: str, reading: dict[str, Any] | None, message: str | None) -> dict[str, Any]:
        state = JobState.from_api(reading)
        return {
            "status": status,
            "job_id": self.job_id,
            "namespace": self.namespace,
            "stage": state.stage,
            "message": message if message is not None else state.message,
            "log_lines_emitted": self.log_lines_emitted,
        }

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
