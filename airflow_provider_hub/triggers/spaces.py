"""``HfSpaceTrigger``: wait for a Space's runtime stage without holding a worker slot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_hub.hooks.states import SpaceState, Verdict
from airflow_provider_hub.triggers._base import HfPollingTrigger
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook


class HfSpaceTrigger(HfPollingTrigger[dict[str, Any]]):
    """Poll a Space's runtime until it reaches ``target_stage``, then fire one event.

    The payload is ``{"status": "success" | "failed" | "timeout" | "error", "repo_id", "stage", "hardware",
    "message"}``: ``failed`` on an error stage (``BUILD_ERROR``, ``RUNTIME_ERROR``, ``CONFIG_ERROR``,
    ``NO_APP_FILE``; ``message`` is then the Space's own) or a halted one (``PAUSED``...), ``timeout`` past
    ``end_time`` (epoch seconds), ``error`` when the Space does not exist or after
    :data:`~airflow_provider_hub.triggers._base.MAX_CONSECUTIVE_ERRORS` failed reads in a row.
    :meth:`~airflow_provider_hub.hooks.states.SpaceState.verdict` judges each stage.

    Example::

        HfSpaceTrigger(repo_id="acme/demo", target_stage="RUNNING", poll_interval=15)

    :param repo_id: ``namespace/name`` of the Space.
    :param target_stage: the stage that ends the wait with ``success``.
    :param hf_conn_id: the Hugging Face Hub connection.
    :param poll_interval: seconds between reads; ``None``: ``[huggingface_hub] default_poll_interval``.
    :param end_time: give up at this wall-clock time (epoch seconds); ``None`` waits forever.
    """

    def __init__(
        self,
        *,
        repo_id: str,
        target_stage: str = "RUNNING",
        hf_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float | None = None,
        end_time: float | None = None,
    ) -> None:
        super().__init__(
            hf_conn_id=hf_conn_id,
            poll_interval=None if poll_interval is None else float(poll_interval),
            end_time=end_time,
        )
        self.repo_id = repo_id
        self.target_stage = target_stage

    @property
    def subject(self) -> str:
        return f"Space {self.repo_id}"

    async def read(self, hook: HfHubAsyncHook) -> dict[str, Any]:
        return await hook.poll_space_runtime(self.repo_id, interval=self.interval)

    def judge(self, reading: dict[str, Any]) -> Verdict:
        state = SpaceState.from_api(reading)
        verdict = state.verdict(self.target_stage)
        if verdict is Verdict.WAITING:
            self.log.info("Space %s is %s", self.repo_id, state.stage)
        return verdict

    def payload(self, status: str, reading: dict[str, Any] | None, message: str | None) -> dict[str, Any]:
        state = SpaceState.from_api(reading)
        return {
            "status": status,
            "repo_id": self.repo_id,
            "stage": state.stage,
            "hardware": ((reading or {}).get("hardware") or {}).get("current"),
            "message": message if message is not None else state.error_message,
        }
