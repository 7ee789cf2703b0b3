"""Inference Endpoint lifecycle operators: create, update, pause, resume, scale to zero, delete.

Each operator acts once and, when asked, waits for the status its action leads to with the same wait
logic as :class:`~airflow_provider_hub.sensors.endpoints.HfInferenceEndpointSensor` (in the worker, or
deferred to :class:`~airflow_provider_hub.triggers.endpoints.HfInferenceEndpointTrigger`). Every operator
returns the Endpoint's summary ``{"name", "namespace", "status", "url", "message", "repository", "revision",
...}`` through XCom.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, conf
from airflow.sdk.exceptions import AirflowException

from airflow_provider_hub.exceptions import (
    HfHubConflictError,
    HfHubError,
    HfHubNotFoundError,
    HfHubTerminalStateError,
)
from airflow_provider_hub.hooks.states import EndpointState, Verdict
from airflow_provider_hub.links import HfInferenceEndpointLink
from airflow_provider_hub.operators._secrets import check_secrets_argument, rendered_secrets
from airflow_provider_hub.operators.base import HfHubBaseOperator, hub_template_fields
from airflow_provider_hub.triggers._base import configured_poll_interval
from airflow_provider_hub.triggers.endpoints import HfInferenceEndpointTrigger
from airflow_provider_hub.utils.checks import check_whole_number

if TYPE_CHECKING:
    from airflow.sdk import BaseOperatorLink, Context

    from airflow_provider_hub.hooks.hub import HfHubHook

IF_EXISTS_POLICIES = ("fail", "reuse", "update")
#: What an update can change: the arguments of :class:`HfUpdateInferenceEndpointOperator`, and what
#: :class:`HfCreateInferenceEndpointOperator` applies to an existing Endpoint with ``if_exists="update"``.
UPDATABLE_SETTINGS = (
    "repository",
    "revision",
    "task",
    "framework",
    "accelerator",
    "instance_type",
    "instance_size",
    "min_replica",
    "max_replica",
    "scale_to_zero_timeout",
    "env",
    "secrets",
    "custom_image",
    "tags",
)


def endpoint_failure(summary: Mapping[str, Any]) -> HfHubTerminalStateError:
    """The no-retry error for an Endpoint that reports ``failed`` / ``updateFailed``, with its own message."""
    reason = EndpointState.from_summary(summary).failure_reason()
    return HfHubTerminalStateError(f"Inference Endpoint {summary['namespace']}/{summary['name']} {reason}")


def check_endpoint_name(task_id: str, name: Any) -> None:
    # The name becomes a URL path segment: a '/' or a space would address another resource or fail obscurely.
    if not isinstance(name, str) or not name.strip() or "/" in name or any(c.isspace() for c in name):
        raise ValueError(
            f"{task_id}: name must be a non-empty Endpoint name without spaces or '/'; got {name!r}"
        )


def _check_replicas(min_replica: Any, max_replica: Any) -> tuple[int | None, int | None]:
    """The rendered replica bounds as ints (a template renders a number as a string); ``None`` stays unset."""
    low = check_whole_number(min_replica, "min_replica", minimum=0, optional=True)
    high = check_whole_number(max_replica, "max_replica", minimum=1, optional=True)
    if low is not None and high is not None and high < low:
        raise ValueError(f"max_replica must be >= min_replica; got max_replica={high!r}, min_replica={low!r}")
    return low, high


def _updatable_settings(operator: BaseOperator) -> dict[str, Any]:
    """The operator's settings an update sends, validated (no network)."""
    settings = {setting: getattr(operator, setting) for setting in UPDATABLE_SETTINGS}
    settings["min_replica"], settings["max_replica"] = _check_replicas(
        settings["min_replica"], settings["max_replica"]
    )
    return settings


class _EndpointOperator(HfHubBaseOperator):
    """Shared arguments and the wait logic of the lifecycle operators."""

    template_fields: Sequence[str] = hub_template_fields("name", "namespace")
    operator_extra_links: Collection[BaseOperatorLink] = (HfInferenceEndpointLink(),)
    #: Statuses :meth:`wait_for_status` waits for after this operator's action.
    target_statuses: tuple[str, ...] = ("running",)
    #: Whether this operator chooses the model the Endpoint serves: its lineage then reads that repo.
    deploys_model = False

    def __init__(
        self,
        *,
        name: str,
        namespace: str | None = None,
        wait: bool = True,
        poll_interval: float | None = None,
        wait_timeout: float | None = 3600.0,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if poll_interval is None:
            poll_interval = configured_poll_interval()
        if poll_interval <= 0:
            raise ValueError(f"{self.task_id}: poll_interval must be > 0; got {poll_interval!r}")
        if wait_timeout is not None and wait_timeout <= 0:
            raise ValueError(f"{self.task_id}: wait_timeout must be > 0 or None; got {wait_timeout!r}")
        self.name = name
        self.namespace = namespace
        self.wait = wait
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.deferrable = deferrable

    def wait_for_status(self, context: Context, summary: dict[str, Any]) -> dict[str, Any]:
        """Poll until the Endpoint reaches :attr:`target_statuses` (or defer); fail at once on ``failed``."""
        HfInferenceEndpointLink.persist(context, summary.get("page_url"))
        deadline = time.monotonic() + self.wait_timeout if self.wait_timeout is not None else None
        while True:
            verdict = EndpointState.from_summary(summary).verdict(self.target_statuses)
            if verdict is Verdict.DONE:
                return summary
            if verdict is Verdict.FAILED:
                raise endpoint_failure(summary)
            if self.deferrable:
                self.defer(
                    trigger=HfInferenceEndpointTrigger(
                        name=summary["name"],
                        namespace=summary["namespace"],
                        target_statuses=list(self.target_statuses),
                        hf_conn_id=self.hf_conn_id,
                        poll_interval=self.poll_interval,
                        end_time=time.time() + self.wait_timeout if self.wait_timeout is not None else None,
                    ),
                    method_name="execute_complete",
                )
            if deadline is not None and time.monotonic() >= deadline:
                raise HfHubError(
                    f"Inference Endpoint {summary['namespace']}/{summary['name']} is still {summary['status']} "
                    f"after {self.wait_timeout:g} s; waited for {', '.join(self.target_statuses)}"
                )
            self.log.info(
                "Endpoint %s/%s is %s; waiting for %s",
                summary["namespace"],
                summary["name"],
                summary["status"],
                ", ".join(self.target_statuses),
            )
            delay = (
                self.poll_interval
                if deadline is None
                else max(0.0, min(self.poll_interval, deadline - time.monotonic()))
            )
            time.sleep(delay)
            summary = self.hook.get_inference_endpoint(summary["name"], summary["namespace"])

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        return self._served(summary_after_event(self.hook, event))

    def finish(self, context: Context, summary: dict[str, Any], *, wait: bool) -> dict[str, Any]:
        HfInferenceEndpointLink.persist(context, summary.get("page_url"))
        return self._served(self.wait_for_status(context, summary) if wait else summary)

    def _served(self, summary: dict[str, Any]) -> dict[str, Any]:
        if self.deploys_model:
            self.lineage.read_repo(
                self.hook.endpoint, "model", summary["repository"], summary.get("revision")
            )
        return summary


def summary_after_event(hook: HfHubHook, event: Mapping[str, Any]) -> dict[str, Any]:
    """The Endpoint's summary after a trigger event; raise for ``failed``, ``timeout`` and ``error``."""
    if event["status"] == "error":
        raise AirflowException(
            f"Inference Endpoint {event['namespace']}/{event['name']}: {event.get('message')}"
        )
    if event["status"] == "timeout":
        raise HfHubError(
            f"Inference Endpoint {event['namespace']}/{event['name']} is still {event.get('endpoint_status')}: "
            f"{event.get('message')}"
        )
    summary = hook.get_inference_endpoint(event["name"], event["namespace"])
    # Judge what the trigger saw: the Endpoint may have moved on since.
    summary.update(status=event["endpoint_status"], url=event.get("url") or summary["url"])
    if event["status"] == "failed":
        raise endpoint_failure({**summary, "message": event.get("message") or summary["message"]})
    return summary


class HfCreateInferenceEndpointOperator(_EndpointOperator):
    """Create an Inference Endpoint serving ``repository`` and (by default) wait until it runs.

    ``if_exists`` decides what happens when an Endpoint of that name already exists: ``"fail"``
    (:class:`~airflow_provider_hub.exceptions.HfHubConflictError`), ``"reuse"`` (leave it as it is and wait
    for it) or ``"update"`` (apply this operator's model, compute and env settings to it, then wait).
    An Endpoint reporting ``failed`` fails the task at once, without retries, with the Endpoint's message.
    On a retry, an existing Endpoint that matches every setting given here is taken for the one an earlier
    try created (its answer lost) and waited for, whatever ``if_exists`` says: a retry never fails on, nor
    duplicates, its own Endpoint.

    Example::

        HfCreateInferenceEndpointOperator(
            task_id="deploy",
            name="support-bot",
            repository="acme/support-llm",
            revision="{{ ti.xcom_pull('publish')['commit_oid'] }}",
            accelerator="gpu", instance_type="nvidia-l4", instance_size="x1",
            if_exists="update",
        )

    :param name: the Endpoint's name. (templated)
    :param repository: the model repo to serve. (templated)
    :param revision: the model revision (commit, branch or tag); ``None``: the default branch. (templated)
    :param task: the pipeline task, e.g. ``text-generation``. (templated)
    :param framework: the model framework. (templated)
    :param accelerator: ``cpu`` or ``gpu``. (templated)
    :param instance_type: e.g. ``intel-icl``, ``nvidia-l4``. (templated)
    :param instance_size: e.g. ``x1``, ``x2``. (templated)
    :param region: cloud region. (templated)
    :param vendor: cloud vendor. (templated)
    :param min_replica: minimum replicas (``0`` allows scale to zero). (templated)
    :param max_replica: maximum replicas. (templated)
    :param scale_to_zero_timeout: idle minutes before scaling to zero. (templated)
    :param env: environment variables of the model server. (templated)
    :param secrets: secret environment variables; masked in logs, redacted when rendered, never returned. (templated)
    :param custom_image: a custom container image (``{"url": ..., "health_route": ...}``). (templated)
    :param endpoint_type: ``public``, ``protected`` or ``private``; ``None``: the client's default. (templated)
    :param tags: Endpoint tags. (templated)
    :param if_exists: ``"fail"``, ``"reuse"`` or ``"update"``. (templated)
    :param namespace: user or org owning the Endpoint; default: the connection's namespace, else the token's user. (templated)
    :param wait_for_running: wait until the Endpoint runs (and serves its URL).
    :param poll_interval: seconds between status reads while waiting; default
        ``[huggingface_hub] default_poll_interval`` (30).
    :param wait_timeout: give up waiting after this many seconds (``None``: never).
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields(
        "name",
        "repository",
        "revision",
        "task",
        "framework",
        "accelerator",
        "instance_type",
        "instance_size",
        "region",
        "vendor",
        "min_replica",
        "max_replica",
        "scale_to_zero_timeout",
        "env",
        # Safe to template: Airflow redacts every rendered field whose name contains "secret".
        "secrets",
        "custom_image",
        "endpoint_type",
        "tags",
        "if_exists",
        "namespace",
    )

    deploys_model = True

    def __init__(
        self,
        *,
        name: str,
        repository: str,
        revision: str | None = None,
        task: str | None = None,
        framework: str = "pytorch",
        accelerator: str = "cpu",
        instance_type: str = "intel-icl",
        instance_size: str = "x2",
        region: str = "us-east-1",
        vendor: str = "aws",
        min_replica: int = 1,
        max_replica: int = 1,
        scale_to_zero_timeout: int | None = None,
        env: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
        custom_image: dict[str, Any] | None = None,
        endpoint_type: str | None = None,
        tags: list[str] | None = None,
        if_exists: str = "fail",
        wait_for_running: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, wait=wait_for_running, **kwargs)
        if if_exists not in IF_EXISTS_POLICIES and "{{" not in str(if_exists):
            raise ValueError(
                f"{self.task_id}: if_exists must be one of {', '.join(IF_EXISTS_POLICIES)}; got {if_exists!r}"
            )
        check_secrets_argument(secrets, owner=self.task_id)
        self.repository = repository
        self.revision = revision
        self.task = task
        self.framework = framework
        self.accelerator = accelerator
        self.instance_type = instance_type
        self.instance_size = instance_size
        self.region = region
        self.vendor = vendor
        self.min_replica = min_replica
        self.max_replica = max_replica
        self.scale_to_zero_timeout = scale_to_zero_timeout
        self.env = env
        self.secrets = secrets
        self.custom_image = custom_image
        self.endpoint_type = endpoint_type
        self.tags = tags
        self.if_exists = if_exists
        self.wait_for_running = wait_for_running

    def execute(self, context: Context) -> dict[str, Any]:
        check_endpoint_name(self.task_id, self.name)
        if self.if_exists not in IF_EXISTS_POLICIES:
            raise ValueError(
                f"if_exists must be one of {', '.join(IF_EXISTS_POLICIES)}; got {self.if_exists!r}"
            )
        if (
            not isinstance(self.repository, str)
            or self.repository.count("/") > 1
            or not self.repository.strip()
        ):
            raise ValueError(f"repository must be a model repo id like 'owner/name'; got {self.repository!r}")
        min_replica, max_replica = _check_replicas(self.min_replica, self.max_replica)
        self.secrets = rendered_secrets(self.secrets, owner=self.task_id)
        optional = {
            "min_replica": min_replica,
            "max_replica": max_replica,
            "revision": self.revision,
            "task": self.task,
            "scale_to_zero_timeout": self.scale_to_zero_timeout,
            "env": self.env,
            "secrets": self.secrets,
            "custom_image": self.custom_image,
            "type": self.endpoint_type,
            "tags": self.tags,
        }
        try:
            summary = self.hook.create_inference_endpoint(
                self.name,
                repository=self.repository,
                namespace=self.namespace,
                framework=self.framework,
                accelerator=self.accelerator,
                instance_type=self.instance_type,
                instance_size=self.instance_size,
                region=self.region,
                vendor=self.vendor,
                **{key: value for key, value in optional.items() if value is not None},
            )
            self.log.info("Created Inference Endpoint %s/%s", summary["namespace"], self.name)
        except HfHubConflictError:
            earlier = self._created_by_an_earlier_try(context, min_replica, max_replica)
            if earlier is not None:
                summary = earlier
            elif self.if_exists == "fail":
                raise
            elif self.if_exists == "update":
                summary = self.hook.update_inference_endpoint(
                    self.name, self.namespace, **_updatable_settings(self)
                )
                self.log.info("Inference Endpoint %s/%s exists: updated it", summary["namespace"], self.name)
            else:
                summary = self.hook.get_inference_endpoint(self.name, self.namespace)
                self.log.info(
                    "Inference Endpoint %s/%s exists (%s): reusing it",
                    summary["namespace"],
                    self.name,
                    summary["status"],
                )
        return self.finish(context, summary, wait=self.wait_for_running)

    def _created_by_an_earlier_try(
        self, context: Context, min_replica: int | None, max_replica: int | None
    ) -> dict[str, Any] | None:
        """The existing Endpoint, if an earlier try of this task instance may have created it as requested.

        A create whose answer was lost (a dropped connection, a 5xx after the Endpoint was made) fails
        the try; on retry the name is taken by that very Endpoint. It is adopted when everything this
        operator asked for matches, so a retry neither fails on it nor creates a second one.
        """
        if context["ti"].try_number <= 1:
            return None
        existing = self.hook.get_inference_endpoint(self.name, self.namespace)
        requested = {
            "repository": self.repository,
            "framework": self.framework,
            "instance_type": self.instance_type,
            "instance_size": self.instance_size,
            "min_replica": min_replica,
            "max_replica": max_replica,
            "revision": self.revision,
            "task": self.task,
        }
        if any(existing[key] != value for key, value in requested.items() if value is not None):
            return None
        self.log.info(
            "Inference Endpoint %s/%s exists as this task requested it: an earlier try created it; waiting for it",
            existing["namespace"],
            self.name,
        )
        return existing


class HfUpdateInferenceEndpointOperator(_EndpointOperator):
    """Change an Inference Endpoint (new model revision, scaling, hardware, env) and wait until it runs again.

    Only the arguments given are changed.

    Example::

        HfUpdateInferenceEndpointOperator(
            task_id="roll_out", name="support-bot", revision="{{ ti.xcom_pull('publish')['commit_oid'] }}"
        )

    :param name: the Endpoint's name. (templated)
    :param repository: serve another model repo. (templated)
    :param revision: the model revision to serve. (templated)
    :param task: the pipeline task. (templated)
    :param framework: the model framework. (templated)
    :param accelerator: ``cpu`` or ``gpu``. (templated)
    :param instance_type: e.g. ``nvidia-l4``. (templated)
    :param instance_size: e.g. ``x1``. (templated)
    :param min_replica: minimum replicas. (templated)
    :param max_replica: maximum replicas. (templated)
    :param scale_to_zero_timeout: idle minutes before scaling to zero. (templated)
    :param env: environment variables of the model server (replace the current ones). (templated)
    :param secrets: secret environment variables; masked in logs, redacted when rendered, never returned. (templated)
    :param custom_image: a custom container image. (templated)
    :param tags: Endpoint tags. (templated)
    :param namespace: the Endpoint's namespace. (templated)
    :param wait_for_running: wait until the updated Endpoint runs.
    :param poll_interval: seconds between status reads while waiting; default
        ``[huggingface_hub] default_poll_interval`` (30).
    :param wait_timeout: give up waiting after this many seconds (``None``: never).
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("name", *UPDATABLE_SETTINGS, "namespace")

    deploys_model = True

    def __init__(
        self,
        *,
        name: str,
        repository: str | None = None,
        revision: str | None = None,
        task: str | None = None,
        framework: str | None = None,
        accelerator: str | None = None,
        instance_type: str | None = None,
        instance_size: str | None = None,
        min_replica: int | None = None,
        max_replica: int | None = None,
        scale_to_zero_timeout: int | None = None,
        env: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
        custom_image: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        wait_for_running: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, wait=wait_for_running, **kwargs)
        check_secrets_argument(secrets, owner=self.task_id)
        self.repository = repository
        self.revision = revision
        self.task = task
        self.framework = framework
        self.accelerator = accelerator
        self.instance_type = instance_type
        self.instance_size = instance_size
        self.min_replica = min_replica
        self.max_replica = max_replica
        self.scale_to_zero_timeout = scale_to_zero_timeout
        self.env = env
        self.secrets = secrets
        self.custom_image = custom_image
        self.tags = tags
        self.wait_for_running = wait_for_running

    def execute(self, context: Context) -> dict[str, Any]:
        check_endpoint_name(self.task_id, self.name)
        self.secrets = rendered_secrets(self.secrets, owner=self.task_id)
        changes = _updatable_settings(self)
        if all(value is None for value in changes.values()):
            raise ValueError(f"{self.task_id}: nothing to update: pass at least one of {', '.join(changes)}")
        summary = self.hook.update_inference_endpoint(self.name, self.namespace, **changes)
        changed = sorted(key for key, value in changes.items() if value is not None)
        self.log.info(
            "Updated Inference Endpoint %s/%s: %s", summary["namespace"], self.name, ", ".join(changed)
        )
        return self.finish(context, summary, wait=self.wait_for_running)


class HfPauseInferenceEndpointOperator(_EndpointOperator):
    """Pause an Inference Endpoint (it stops serving and costing until resumed).

    Example::

        HfPauseInferenceEndpointOperator(task_id="pause_for_the_night", name="support-bot")

    :param name: the Endpoint's name. (templated)
    :param namespace: the Endpoint's namespace. (templated)
    :param wait_for_completion: wait until the Endpoint reports ``paused``.
    :param poll_interval: seconds between status reads while waiting; default
        ``[huggingface_hub] default_poll_interval`` (30).
    :param wait_timeout: give up waiting after this many seconds (``None``: never).
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    target_statuses = ("paused",)

    def __init__(self, *, name: str, wait_for_completion: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name, wait=wait_for_completion, **kwargs)

    def execute(self, context: Context) -> dict[str, Any]:
        check_endpoint_name(self.task_id, self.name)
        summary = self.hook.pause_inference_endpoint(self.name, self.namespace)
        self.log.info("Paused Inference Endpoint %s/%s", summary["namespace"], self.name)
        return self.finish(context, summary, wait=self.wait)


class HfResumeInferenceEndpointOperator(_EndpointOperator):
    """Resume a paused or scaled-to-zero Inference Endpoint and (by default) wait until it runs.

    A running Endpoint is left as it is.

    Example::

        HfResumeInferenceEndpointOperator(task_id="wake_up", name="support-bot")

    :param name: the Endpoint's name. (templated)
    :param namespace: the Endpoint's namespace. (templated)
    :param wait_for_running: wait until the Endpoint runs.
    :param poll_interval: seconds between status reads while waiting; default
        ``[huggingface_hub] default_poll_interval`` (30).
    :param wait_timeout: give up waiting after this many seconds (``None``: never).
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    def __init__(self, *, name: str, wait_for_running: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name, wait=wait_for_running, **kwargs)

    def execute(self, context: Context) -> dict[str, Any]:
        check_endpoint_name(self.task_id, self.name)
        summary = self.hook.resume_inference_endpoint(self.name, self.namespace)
        self.log.info(
            "Resumed Inference Endpoint %s/%s (%s)", summary["namespace"], self.name, summary["status"]
        )
        return self.finish(context, summary, wait=self.wait)


class HfScaleToZeroInferenceEndpointOperator(_EndpointOperator):
    """Scale an Inference Endpoint to zero replicas; it wakes up again on its next request.

    Example::

        HfScaleToZeroInferenceEndpointOperator(task_id="scale_down", name="support-bot")

    :param name: the Endpoint's name. (templated)
    :param namespace: the Endpoint's namespace. (templated)
    :param wait_for_completion: wait until the Endpoint reports ``scaledToZero``.
    :param poll_interval: seconds between status reads while waiting; default
        ``[huggingface_hub] default_poll_interval`` (30).
    :param wait_timeout: give up waiting after this many seconds (``None``: never).
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    target_statuses = ("scaledToZero",)

    def __init__(self, *, name: str, wait_for_completion: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name, wait=wait_for_completion, **kwargs)

    def execute(self, context: Context) -> dict[str, Any]:
        check_endpoint_name(self.task_id, self.name)
        summary = self.hook.scale_to_zero_inference_endpoint(self.name, self.namespace)
        self.log.info("Scaled Inference Endpoint %s/%s to zero", summary["namespace"], self.name)
        return self.finish(context, summary, wait=self.wait)


class HfDeleteInferenceEndpointOperator(_EndpointOperator):
    """Delete an Inference Endpoint.

    Returns ``{"name", "namespace", "deleted"}``; ``deleted`` is false when it did not exist and
    ``missing_ok`` is true.

    Example::

        HfDeleteInferenceEndpointOperator(task_id="tear_down", name="pr-{{ params.pr }}-preview")

    :param name: the Endpoint's name. (templated)
    :param namespace: the Endpoint's namespace. (templated)
    :param missing_ok: succeed when the Endpoint does not exist.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    operator_extra_links = ()  # a deleted Endpoint has no page

    def __init__(self, *, name: str, missing_ok: bool = False, **kwargs: Any) -> None:
        super().__init__(name=name, wait=False, **kwargs)
        self.missing_ok = missing_ok

    def execute(self, context: Context) -> dict[str, Any]:
        check_endpoint_name(self.task_id, self.name)
        namespace = self.hook.endpoint_namespace(self.namespace)
        try:
            self.hook.delete_inference_endpoint(self.name, namespace)
        except HfHubNotFoundError:
            if not self.missing_ok:
                raise
            self.log.info("Inference Endpoint %s/%s does not exist: nothing to delete", namespace, self.name)
            return {"name": self.name, "namespace": namespace, "deleted": False}
        self.log.info("Deleted Inference Endpoint %s/%s", namespace, self.name)
        return {"name": self.name, "namespace": namespace, "deleted": True}
