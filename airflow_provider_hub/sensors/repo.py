"""Wait for a file to appear in a Hub repo."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout, AirflowSkipException

from airflow_provider_hub.links import HfRepoLink
from airflow_provider_hub.operators.base import hub_template_fields
from airflow_provider_hub.sensors.base import HfHubBaseSensor
from airflow_provider_hub.triggers.repo import HfRepoFileTrigger, HfRevisionTrigger, find_file
from airflow_provider_hub.utils.checks import (
    check_path_in_repo,
    check_repo_type,
    check_revision,
)

if TYPE_CHECKING:
    from airflow.sdk import Context


class HfRepoFileSensor(HfHubBaseSensor):
    """Wait until ``path_in_repo`` is a file of the repo at ``revision``.

    A repo or revision that does not exist yet counts as "not yet". Works in ``poke`` and
    ``reschedule`` mode and deferrable (one poke first, then a trigger polls every ``poke_interval``);
    ``timeout`` and ``soft_fail`` behave the same in all three.

    Example::

        HfRepoFileSensor(task_id="wait_weights", repo_id="acme/sentiment", path_in_repo="model.safetensors",
                         poke_interval=60, timeout=6 * 3600, deferrable=True)

    :param repo_id: ``namespace/name``. (templated)
    :param path_in_repo: the file to wait for. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param revision: branch, tag or commit (default ``main``). (templated)
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: ``{"path", "revision", "size", "oid", "lfs_sha256"}`` of the file.
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "path_in_repo", "repo_type", "revision")
    operator_extra_links = (HfRepoLink(),)

    def __init__(
        self,
        *,
        repo_id: str,
        path_in_repo: str,
        repo_type: str = "model",
        revision: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.repo_id = repo_id
        self.path_in_repo = path_in_repo
        self.repo_type = repo_type
        self.revision = revision

    def _target(self) -> tuple[str, str, str]:
        repo_type = check_repo_type(self.repo_type)
        check_revision(self.revision)
        repo_id = self.qualified_repo_id(self.repo_id)
        return repo_id, repo_type, check_path_in_repo(self.path_in_repo)

    def poke(self, context: Context) -> PokeReturnValue:
        repo_id, repo_type, path = self._target()
        HfRepoLink.persist(context, self.hook.repo_url(repo_id, repo_type))
        found = find_file(self.hook, repo_id, path, repo_type, self.revision)
        self.log.info(
            "%s in %s %s@%s: %s",
            path,
            repo_type,
            repo_id,
            self.revision or "main",
            "found" if found else "not yet",
        )
        return PokeReturnValue(is_done=found is not None, xcom_value=found)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        repo_id, repo_type, path = self._target()
        timeout = float(self.timeout) if self.timeout is not None else None
        self.defer(
            trigger=HfRepoFileTrigger(
                repo_id=repo_id,
                path_in_repo=path,
                repo_type=repo_type,
                revision=self.revision,
                poll_interval=float(self.poke_interval),
                end_time=time.time() + timeout if timeout is not None else None,
                hf_conn_id=self.hf_conn_id,
            ),
            method_name="execute_complete",
            # A backstop beyond the trigger's own deadline, which yields a clean "timeout" event first.
            timeout=timedelta(seconds=timeout + float(self.poke_interval) + 60)
            if timeout is not None
            else None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        status = event.get("status")
        if status == "success":
            return event["file"]
        if status == "timeout":
            if self.soft_fail:
                raise AirflowSkipException(event.get("message", "timed out"))
            raise AirflowSensorTimeout(event.get("message", "timed out"))
        raise AirflowException(event.get("message", f"Unexpected trigger event: {event!r}"))


class HfRevisionSensor(HfHubBaseSensor):
    """Wait until a revision (a branch, tag or commit) exists in a repo: a release tag, a review branch.

    Works in ``poke`` and ``reschedule`` mode, or deferrable
    (:class:`~airflow_provider_hub.triggers.repo.HfRevisionTrigger`). A repo that does not exist yet is
    waited for too. Returns ``{"revision", "commit_oid"}`` through XCom.

    Example::

        HfRevisionSensor(task_id="wait_for_release", repo_id="acme/sentiment", revision="v2", mode="reschedule")

    :param repo_id: ``namespace/name``. (templated)
    :param revision: the branch, tag or commit to wait for. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "revision", "repo_type")
    operator_extra_links = (HfRepoLink(),)

    def __init__(
        self,
        *,
        repo_id: str,
        revision: str,
        repo_type: str = "model",
        poke_interval: float = 60,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.repo_id = repo_id
        self.revision = revision
        self.repo_type = repo_type

    def _target(self) -> tuple[str, str]:
        if not isinstance(self.revision, str) or not self.revision.strip():
            raise ValueError(f"revision must be a branch, tag or commit; got {self.revision!r}")
        check_revision(self.revision)
        repo_type = check_repo_type(self.repo_type)
        return self.qualified_repo_id(self.repo_id), repo_type

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_hub.exceptions import HfHubNotFoundError

        repo_id, repo_type = self._target()
        HfRepoLink.persist(context, self.hook.repo_url(repo_id, repo_type))
        try:
            head = self.hook.repo_head(repo_id, repo_type=repo_type, revision=self.revision)
        except HfHubNotFoundError:
            self.log.info("%s@%s does not exist yet", repo_id, self.revision)
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value={"revision": self.revision, "commit_oid": head})

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        repo_id, repo_type = self._target()
        timeout = float(self.timeout) if self.timeout is not None else None
        self.defer(
            trigger=HfRevisionTrigger(
                repo_id=repo_id,
                revision=self.revision,
                repo_type=repo_type,
                poll_interval=float(self.poke_interval),
                end_time=time.time() + timeout if timeout is not None else None,
                hf_conn_id=self.hf_conn_id,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=timeout + float(self.poke_interval) + 60)
            if timeout is not None
            else None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        status = event.get("status")
        if status == "success":
            return {"revision": event["revision"], "commit_oid": event["commit_oid"]}
        if status == "timeout":
            if self.soft_fail:
                raise AirflowSkipException(event.get("message") or "timed out")
            raise AirflowSensorTimeout(event.get("message") or "timed out")
        raise AirflowException(event.get("message") or f"Unexpected trigger event: {event!r}")
