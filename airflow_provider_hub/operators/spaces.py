"""Spaces: restart one and wait until it runs again, pause it, change its hardware, sleep time, variables
and secrets (a secret's value is never logged, returned or shown as rendered)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import conf

from airflow_provider_hub.exceptions import HfHubError, HfHubTerminalStateError
from airflow_provider_hub.hooks.states import SpaceState, Verdict
from airflow_provider_hub.links import HfSpaceLink
from airflow_provider_hub.operators._secrets import check_secrets_argument, rendered_secrets
from airflow_provider_hub.operators.base import HfHubBaseOperator, hub_template_fields
from airflow_provider_hub.triggers.spaces import HfSpaceTrigger
from airflow_provider_hub.utils.checks import check_bool, check_names, check_whole_number

if TYPE_CHECKING:
    from airflow.sdk import Context


def space_result(space: dict[str, Any]) -> dict[str, Any]:
    """The XCom value of the Space operators and sensor: ``{"repo_id", "stage", "hardware", "url"}``."""
    return {key: space[key] for key in ("repo_id", "stage", "hardware", "url")}


class _SpaceOperator(HfHubBaseOperator):
    """Shared: the Space's id, its link, and the wait for a stage (in the worker, or deferred)."""

    operator_extra_links = (HfSpaceLink(),)

    def __init__(self, *, repo_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repo_id = repo_id

    def _checked_repo(self) -> str:
        return self.qualified_repo_id(self.repo_id)


class HfRestartSpaceOperator(_SpaceOperator):
    """Restart a Space (optionally rebuilt from scratch) and, by default, wait until it runs again.

    The wait fails at once on ``BUILD_ERROR``, ``RUNTIME_ERROR``, ``CONFIG_ERROR`` or ``NO_APP_FILE``, with the
    Space's own error message in the task's failure. Returns ``{"repo_id", "stage", "hardware", "url"}``.

    Example::

        HfRestartSpaceOperator(task_id="refresh_demo", repo_id="acme/demo", deferrable=True)

    :param repo_id: ``namespace/name`` of the Space. (templated)
    :param factory_reboot: rebuild without the build cache.
    :param wait_for_running: wait until the Space is ``RUNNING``.
    :param deferrable: wait in the triggerer.
    :param poll_interval: seconds between reads of the runtime.
    :param timeout: seconds to wait at most (``None``: no limit).
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id")

    def __init__(
        self,
        *,
        repo_id: str,
        factory_reboot: bool = False,
        wait_for_running: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 30,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        if poll_interval <= 0:
            raise ValueError(f"{self.task_id}: poll_interval must be > 0; got {poll_interval!r}")
        self.factory_reboot = check_bool(factory_reboot, "factory_reboot")
        self.wait_for_running = check_bool(wait_for_running, "wait_for_running")
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.wait_timeout = timeout

    def execute(self, context: Context) -> dict[str, Any]:
        repo_id = self._checked_repo()
        self.hook.restart_space(repo_id, factory_reboot=self.factory_reboot)
        space = self.hook.get_space(repo_id)
        HfSpaceLink.persist(context, space["url"])
        self.log.info("Restarted Space %s (%s)", repo_id, space["stage"])
        if not self.wait_for_running:
            return space_result(space)
        deadline = None if self.wait_timeout is None else time.time() + self.wait_timeout
        while True:
            state = SpaceState(space["stage"], space["error_message"])
            verdict = state.verdict("RUNNING")
            if verdict is Verdict.DONE:
                return space_result(space)
            if verdict is Verdict.FAILED:
                raise HfHubTerminalStateError(f"Space {repo_id} {state.failure_reason()}")
            if self.deferrable:
                self.defer(
                    trigger=HfSpaceTrigger(
                        repo_id=repo_id,
                        hf_conn_id=self.hf_conn_id,
                        poll_interval=self.poll_interval,
                        end_time=deadline,
                    ),
                    method_name="execute_complete",
                    timeout=None if self.wait_timeout is None else timedelta(seconds=self.wait_timeout + 60),
                )
            if deadline is not None and time.time() >= deadline:
                raise HfHubError(f"Space {repo_id} is still {space['stage']} after {self.wait_timeout:g} s")
            time.sleep(self.poll_interval)
            space = self.hook.get_space(repo_id)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        if event["status"] == "failed":
            state = SpaceState(event["stage"], event.get("message"))
            raise HfHubTerminalStateError(f"Space {event['repo_id']} {state.failure_reason()}")
        if event["status"] != "success":
            raise HfHubError(f"Space {event['repo_id']}: {event.get('message') or event['status']}")
        return space_result(self.hook.get_space(event["repo_id"]))


class HfPauseSpaceOperator(_SpaceOperator):
    """Pause a Space: it stops and bills no hardware until restarted. Returns ``{"repo_id", "stage", ...}``.

    Example::

        HfPauseSpaceOperator(task_id="pause_demo", repo_id="acme/demo")

    :param repo_id: ``namespace/name`` of the Space. (templated)
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id")

    def execute(self, context: Context) -> dict[str, Any]:
        repo_id = self._checked_repo()
        self.hook.pause_space(repo_id)
        space = self.hook.get_space(repo_id)
        HfSpaceLink.persist(context, space["url"])
        return space_result(space)


class HfUpdateSpaceOperator(_SpaceOperator):
    """Change a Space's hardware, sleep time, variables and secrets; only what differs is changed where the Hub
    shows the current value (secrets it never shows: they are set as given).

    ``secrets`` are masked in the task log, shown redacted among the rendered fields, and never returned: the
    result names them by key. Returns ``{"repo_id", "changed"}``.

    Example::

        HfUpdateSpaceOperator(
            task_id="point_demo",
            repo_id="acme/demo",
            variables={"MODEL_REVISION": "{{ ti.xcom_pull(task_ids='merge')['merge_commit_oid'] }}"},
            secrets="{{ var.json.demo_secrets }}",
        )

    :param repo_id: ``namespace/name`` of the Space. (templated)
    :param hardware: the hardware flavor (``cpu-basic``, ``t4-small``...). (templated)
    :param sleep_time: seconds of inactivity before the Space sleeps. (templated)
    :param variables: variables to set, str to str. (templated)
    :param secrets: secrets to set, str to str; a dict, or a template rendering to one. (templated)
    :param delete_variables: variable keys to delete (a missing one is fine). (templated)
    :param delete_secrets: secret keys to delete (a missing one is fine). (templated)
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields(
        "repo_id", "hardware", "sleep_time", "variables", "secrets", "delete_variables", "delete_secrets"
    )

    def __init__(
        self,
        *,
        repo_id: str,
        hardware: str | None = None,
        sleep_time: int | str | None = None,
        variables: dict[str, str] | None = None,
        secrets: dict[str, str] | str | None = None,
        delete_variables: Sequence[str] = (),
        delete_secrets: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        check_secrets_argument(secrets, owner=self.task_id)
        self.hardware = hardware
        self.sleep_time = sleep_time
        self.variables = variables
        self.secrets = secrets
        self.delete_variables = delete_variables
        self.delete_secrets = delete_secrets

    def execute(self, context: Context) -> dict[str, Any]:
        secrets = rendered_secrets(self.secrets, owner=self.task_id)
        variables = self.variables
        if variables is not None and (
            not isinstance(variables, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in variables.items())
        ):
            raise ValueError(f"variables must be a dict of str to str; got {variables!r}")
        if self.hardware is not None and (not isinstance(self.hardware, str) or not self.hardware.strip()):
            raise ValueError(f"hardware must be a flavor name such as 'cpu-basic'; got {self.hardware!r}")
        sleep_time = check_whole_number(self.sleep_time, "sleep_time", minimum=-1, optional=True)
        delete_variables = (
            check_names(self.delete_variables, "delete_variables") if self.delete_variables else []
        )
        delete_secrets = check_names(self.delete_secrets, "delete_secrets") if self.delete_secrets else []
        repo_id = self._checked_repo()
        changed = self.hook.update_space(
            repo_id,
            hardware=self.hardware,
            sleep_time=sleep_time,
            variables=variables,
            secrets=secrets,
            delete_variables=delete_variables,
            delete_secrets=delete_secrets,
        )
        HfSpaceLink.persist(context, self.hook.get_space(repo_id)["url"])
        self.log.info("Space %s: %s", repo_id, ", ".join(changed) or "nothing to change")
        return {"repo_id": repo_id, "changed": changed}
