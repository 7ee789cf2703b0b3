"""``HfHubHook`` methods for Spaces: runtime, restart, pause, hardware, sleep time, variables and secrets.

Changes the Hub lets us read back (hardware, sleep time, variables) are made only where they differ, so a
repeated request changes nothing more; secrets cannot be read back and are set as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_hub.hooks.host import HubArea


def space_url(endpoint: str, repo_id: str) -> str:
    """The Space's page on the Hub."""
    return f"{endpoint.rstrip('/')}/spaces/{repo_id}"


class SpacesHookMixin(HubArea):
    """Spaces (mixed into :class:`~airflow_provider_hub.hooks.hub.HfHubHook`).

    Example::

        hook.restart_space("acme/demo")
        hook.get_space("acme/demo")["stage"]  # "BUILDING", then "RUNNING"
    """

    def get_space(self, repo_id: str) -> dict[str, Any]:
        """``{"repo_id", "stage", "hardware", "requested_hardware", "sleep_time", "error_message", "url"}``."""
        runtime = self.call("get_space_runtime", repo_id, subject=f"Space {repo_id}")
        raw = runtime.raw or {}
        return {
            "repo_id": repo_id,
            "stage": str(runtime.stage),
            "hardware": runtime.hardware and str(runtime.hardware),
            "requested_hardware": runtime.requested_hardware and str(runtime.requested_hardware),
            "sleep_time": runtime.sleep_time,
            "error_message": raw.get("errorMessage"),
            "url": space_url(self.endpoint, repo_id),
        }

    def restart_space(self, repo_id: str, *, factory_reboot: bool = False) -> None:
        """Restart the Space (``factory_reboot``: rebuild from scratch, without the build cache)."""
        self.call("restart_space", repo_id, factory_reboot=factory_reboot, subject=f"Space {repo_id}")

    def pause_space(self, repo_id: str) -> None:
        """Pause the Space: no hardware billed until it is restarted."""
        self.call("pause_space", repo_id, subject=f"Space {repo_id}")

    def update_space(
        self,
        repo_id: str,
        *,
        hardware: str | None = None,
        sleep_time: int | None = None,
        variables: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        delete_variables: Sequence[str] = (),
        delete_secrets: Sequence[str] = (),
    ) -> list[str]:
        """Apply what differs; returns what changed (``"hardware"``, ``"variable FOO"``, ``"secret BAR"``...),
        naming secrets by key only."""
        subject = f"Space {repo_id}"
        changed: list[str] = []
        if hardware is not None or sleep_time is not None:
            current = self.get_space(repo_id)
            if hardware is not None and hardware != current["requested_hardware"]:
                self.call("request_space_hardware", repo_id, hardware, subject=subject)
                changed.append("hardware")
            if sleep_time is not None and sleep_time != current["sleep_time"]:
                self.call("set_space_sleep_time", repo_id, sleep_time, subject=subject)
                changed.append("sleep_time")
        if variables or delete_variables:
            existing = self.call("get_space_variables", repo_id, subject=subject)
            for key, value in (variables or {}).items():
                if key not in existing or existing[key].value != value:
                    self.call("add_space_variable", repo_id, key, value, subject=subject)
                    changed.append(f"variable {key}")
            for key in delete_variables:
                if key in existing:
                    self.call("delete_space_variable", repo_id, key, subject=subject)
                    changed.append(f"deleted variable {key}")
        for key, value in (secrets or {}).items():
            self.call("add_space_secret", repo_id, key, value, subject=subject)
            changed.append(f"secret {key}")
        for key in delete_secrets:
            self.call("delete_space_secret", repo_id, key, subject=subject)
            changed.append(f"deleted secret {key}")
        return changed
