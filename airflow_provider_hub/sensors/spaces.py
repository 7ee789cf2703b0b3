"""``HfSpaceSensor``: wait until a Space reaches a runtime stage (``RUNNING`` by default)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import PokeReturnValue

from airflow_provider_hub.exceptions import HfHubError, HfHubTerminalStateError
from airflow_provider_hub.hooks.states import SpaceState, Verdict
from airflow_provider_hub.links import HfSpaceLink
from airflow_provider_hub.operators.base import hub_template_fields
from airflow_provider_hub.operators.spaces import space_result
from airflow_provider_hub.sensors.base import HfHubBaseSensor
from airflow_provider_hub.triggers.spaces import HfSpaceTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class HfSpaceSensor(HfHubBaseSensor):
    """Wait until a Space reaches ``target_stage``; fail at once on ``BUILD_ERROR``, ``RUNTIME_ERROR``,
    ``CONFIG_ERROR`` or ``NO_APP_FILE`` (with the Space's own error message), or when it is paused.

    Works in ``poke`` and ``reschedule`` mode, or deferrable
    (:class:`~airflow_provider_hub.triggers.spaces.HfSpaceTrigger`). Returns ``{"repo_id", "stage",
    "hardware", "url"}`` through XCom.

    Example::

        HfSpaceSensor(task_id="demo_is_up", repo_id="acme/demo", poke_interval=30, deferrable=True)

    :param repo_id: ``namespace/name`` of the Space. (templated)
    :param target_stage: the stage to wait for, default ``RUNNING``. (templated)
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "target_stage")
    operator_extra_links = (HfSpaceLink(),)

    def __init__(
        self, *, repo_id: str, target_stage: str = "RUNNING", poke_interval: float = 30, **kwargs: Any
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.repo_id = repo_id
        self.target_stage = target_stage

    def _checked(self) -> str:
        if self.target_stage not in SpaceState.STAGES:
            raise ValueError(
                f"target_stage must be one of {', '.join(SpaceState.STAGES)}; got {self.target_stage!r}"
            )
        return self.qualified_repo_id(self.repo_id)

    def _judge(self, repo_id: str, stage: str, message: str | None) -> bool:
        state = SpaceState(stage, message)
        verdict = state.verdict(self.target_stage)
        if verdict is Verdict.FAILED:
            raise HfHubTerminalStateError(
                f"Space {repo_id} {state.failure_reason()}, not {self.target_stage}"
            )
        if verdict is Verdict.WAITING:
            self.log.info("Space %s is %s; waiting for %s", repo_id, stage, self.target_stage)
        return verdict is Verdict.DONE

    def poke(self, context: Context) -> PokeReturnValue:
        repo_id = self._checked()
        space = self.hook.get_space(repo_id)
        HfSpaceLink.persist(context, space["url"])
        done = self._judge(repo_id, space["stage"], space["error_message"])
        return PokeReturnValue(is_done=done, xcom_value=space_result(space))

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        self.defer(
            trigger=HfSpaceTrigger(
                repo_id=self._checked(),
                target_stage=self.target_stage,
                hf_conn_id=self.hf_conn_id,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) if self.timeout is not None else None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        if event["status"] not in ("success", "failed"):
            raise HfHubError(f"Space {event['repo_id']}: {event.get('message') or event['status']}")
        self._judge(event["repo_id"], event["stage"], event.get("message"))
        return {key: event.get(key) for key in ("repo_id", "stage", "hardware")} | {
            "url": self.hook.get_space(event["repo_id"])["url"]
        }
