"""``HfRunJobOperator``: run a Hugging Face Job, follow its logs, and recover it across task retries."""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import conf
from airflow.sdk.log import redact

from airflow_provider_hub.exceptions import HfHubError
from airflow_provider_hub.hooks.jobs import job_url
from airflow_provider_hub.hooks.states import JobState
from airflow_provider_hub.links import HfJobLink
from airflow_provider_hub.operators._secrets import check_secrets_argument, rendered_secrets
from airflow_provider_hub.operators.base import HfHubBaseOperator, hub_template_fields, task_instance_key
from airflow_provider_hub.triggers._base import configured_poll_interval
from airflow_provider_hub.triggers.jobs import HfJobTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hub.hooks.hub import HfHubHook

#: The image ``huggingface_hub.run_uv_job`` uses; also used for inline scripts.
UV_IMAGE = "ghcr.io/astral-sh/uv:python3.12-bookworm"
#: Inline script source travels inside the Job's command, and Linux caps one argument at 128 KiB.
INLINE_SCRIPT_MAX_BYTES = 100_000
#: Log lines kept for failure messages and for reading a marked result line.
LOG_TAIL_LINES = 200
#: Log lines quoted in a failure message.
FAILURE_LOG_LINES = 20
#: Label carrying the hash of the task instance identity; the one used to find a task's own Jobs.
TI_LABEL = "airflow-ti"
_LABEL_VALUE_MAX = 63
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
#: The shape of the Hub's hardware flavor names (``cpu-basic``, ``a10g-largex2``...); the Hub has the list.
_FLAVOR_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def label_value(value: str) -> str:
    """``value`` as a Job label value: letters, digits, ``.``, ``_``, ``-``, at most 63 characters.

    Anything changed or cut gets a short hash suffix so different values stay different labels.
    """
    safe = _LABEL_UNSAFE.sub("-", value)
    if safe == value and len(value) <= _LABEL_VALUE_MAX:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{safe[: _LABEL_VALUE_MAX - 9]}-{digest}"


def task_instance_labels(ti: Any) -> dict[str, str]:
    """Labels naming the task instance a Job belongs to (dag, task, run, map index, and their hash)."""
    map_index = getattr(ti, "map_index", -1)
    return {
        "airflow-dag": label_value(ti.dag_id),
        "airflow-task": label_value(ti.task_id),
        "airflow-run": label_value(ti.run_id),
        "airflow-map-index": str(-1 if map_index is None else int(map_index)),
        TI_LABEL: task_instance_key(ti),
    }


def duration_seconds(value: Any, field_name: str = "timeout") -> float | None:
    """Seconds from an int/float or a ``"30s"``/``"5m"``/``"2h"``/``"1d"`` string (the Hub's format)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = _DURATION_RE.match(str(value).strip()) if isinstance(value, str) else None
    if not match or float(match.group(1)) <= 0:
        raise ValueError(
            f"{field_name} must be positive seconds or a duration like '30m', '2h'; got {value!r}"
        )
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def _is_url(script: str) -> bool:
    return script.startswith(("https://", "http://"))


class JobLogFollower:
    """Writes a Job's log lines to ``emit`` as they come, each exactly once and in order.

    A thread follows the log stream (``fetch_job_logs(follow=True)``); :meth:`finish` stops it and
    reads the full log once more, writing only the lines past those already written. Lines are
    counted by position: the Hub replays the whole log on every read.

    :param already_emitted: lines written by an earlier part of this task attempt.
    """

    def __init__(
        self,
        hook: HfHubHook,
        job_id: str,
        namespace: str,
        emit: Callable[[str], None],
        already_emitted: int = 0,
    ):
        self._hook = hook
        self._job_id = job_id
        self._namespace = namespace
        self._emit = emit
        self._lock = threading.Lock()
        self._stopped = False
        self.emitted = already_emitted
        self.tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self.stream_ended = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._follow, name=f"hf-job-logs-{self._job_id}", daemon=True)
        self._thread.start()

    def _take(self, lines: Iterable[str]) -> None:
        for index, line in enumerate(lines):
            with self._lock:
                if self._stopped:
                    return
                if index >= self.emitted:
                    self._emit(line)
                    self.tail.append(line)
                    self.emitted = index + 1

    def _follow(self) -> None:
        try:
            self._take(self._hook.job_log_lines(self._job_id, self._namespace, follow=True))
        except Exception as exc:  # the final catch-up read in finish() covers what the stream missed
            with self._lock:
                stopped = self._stopped
            if not stopped:
                self._emit(f"(log stream interrupted: {exc}; the rest follows when the Job ends)")
        finally:
            self.stream_ended.set()

    def finish(self, wait: float = 5.0) -> None:
        """Stop following (after up to ``wait`` s for the stream to end) and write the lines not yet written."""
        if self._thread is not None:
            self.stream_ended.wait(wait)
            with self._lock:
                self._stopped = True
        lines = list(self._hook.job_log_lines(self._job_id, self._namespace, follow=False))
        with self._lock:
            for line in lines[self.emitted :]:
                self._emit(line)
                self.tail.append(line)
            self.emitted = max(self.emitted, len(lines))


class HfRunJobOperator(HfHubBaseOperator):
    """Run a Hugging Face Job: a Docker ``image`` + ``command``, or a uv ``script``; wait for it and return its outcome.

    The Job carries labels naming its task instance (``airflow-dag``, ``airflow-task``, ``airflow-run``,
    ``airflow-map-index``, ``airflow-ti``). When the task runs again for the same task instance (a
    retry after a worker crash, say), it looks for its own Job first: one still SCHEDULING or RUNNING
    is waited on instead of starting a second one, and one that COMPLETED is returned without running
    again; after a failed Job a new one starts. Set ``reattach=False`` to always start a new Job (a
    task cleared on purpose to run again would otherwise get its COMPLETED Job back).

    Logs: without deferral the Job's log is followed live into the task log; deferrable, it is written
    to the task log when the task resumes. Either way every line appears once, in order.

    Returns ``{"job_id", "namespace", "url", "stage", "message", "flavor", "labels", "reattached"}``;
    COMPLETED succeeds, ERROR / CANCELED / DELETED fail the task with the stage, the Job URL and the last
    log lines.

    Example::

        HfRunJobOperator(
            task_id="train",
            image="python:3.12",
            command=["python", "-c", "print('hello from the Hub')"],
            flavor="cpu-basic",
            secrets={"WANDB_API_KEY": wandb_key},
            timeout="2h",
        )
        HfRunJobOperator(
            task_id="score",
            script="import sys; print(sum(map(int, sys.argv[1:])))",
            script_args=["1", "2"],
            dependencies=["numpy"],
        )

    :param image: Docker image (or ``hf.co/spaces/...``) running ``command``; with ``script``, the image
        running uv (default ``ghcr.io/astral-sh/uv:python3.12-bookworm``). (templated)
    :param command: the command, a list of strings. (templated)
    :param script: a uv script: an ``https://`` URL (run with ``uv run``), a local ``.py`` file path
        or inline Python source. Local files and inline source travel inside the Job's command (at most
        100,000 bytes), never through ``huggingface_hub``'s Xet upload. (templated)
    :param script_args: arguments of the script. (templated)
    :param dependencies: pip requirements for the script (``uv run --with``). (templated)
    :param python: Python version for the script (``uv run --python``). (templated)
    :param flavor: hardware flavor, e.g. ``cpu-basic``, ``a10g-small``. (templated)
    :param env: environment variables of the Job. (templated)
    :param secrets: secret environment variables, e.g. ``{"HF_TOKEN": "{{ conn.hf_write.password }}"}``.
        Sent only as the Job's ``secrets``; each value is masked in Airflow's logs, the rendered field is
        redacted (its name contains "secret"), and they are never returned. (templated)
    :param timeout: the Job's maximum duration: seconds or ``"30m"``, ``"2h"``... The Hub stops the Job
        past it, and the task cancels the Job and fails once it has waited that long. (templated)
    :param namespace: user or org running the Job; default: the connection's namespace, else the token's user. (templated)
    :param labels: extra Job labels. (templated)
    :param wait_for_completion: wait for the Job to end; ``False`` returns once it started.
    :param deferrable: wait in the triggerer (:class:`~airflow_provider_hub.triggers.jobs.HfJobTrigger`).
    :param poll_interval: seconds between status reads; default ``[huggingface_hub] default_poll_interval`` (30).
    :param stream_logs: write the Job's log lines to the task log.
    :param cancel_on_kill: cancel the Job when the task is killed (``on_kill``, execution timeout, and in
        deferrable mode the trigger's ``on_kill`` on Airflow 3.3+).
    :param reattach: reuse this task instance's own Job on retry instead of starting another.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields(
        "image",
        "command",
        "script",
        "script_args",
        "dependencies",
        "python",
        "flavor",
        "env",
        # Safe to template: Airflow redacts every rendered field whose name contains "secret".
        "secrets",
        "timeout",
        "namespace",
        "labels",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "command": "json",
        "script": "py",
        "script_args": "json",
        "env": "json",
        "labels": "json",
    }
    operator_extra_links = (HfJobLink(),)

    def __init__(
        self,
        *,
        image: str | None = None,
        command: list[str] | None = None,
        script: str | None = None,
        script_args: list[str] | None = None,
        dependencies: list[str] | None = None,
        python: str | None = None,
        flavor: str = "cpu-basic",
        env: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
        timeout: int | float | str | None = None,
        namespace: str | None = None,
        labels: dict[str, str] | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float | None = None,
        stream_logs: bool = True,
        cancel_on_kill: bool = True,
        reattach: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if script is not None and command is not None:
            raise ValueError(f"{self.task_id}: give either command (with image) or script, not both")
        if script is None and command is None and not self._builds_own_script():
            raise ValueError(f"{self.task_id}: give a command (with image) or a script")
        if command is not None and image is None:
            raise ValueError(f"{self.task_id}: image is required with command; got image=None")
        check_secrets_argument(secrets, owner=self.task_id)
        if poll_interval is None:
            poll_interval = configured_poll_interval()
        if not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
            raise ValueError(
                f"{self.task_id}: poll_interval must be a positive number of seconds; got {poll_interval!r}"
            )
        self.image = image
        self.command = command
        self.script = script
        self.script_args = script_args
        self.dependencies = dependencies
        self.python = python
        self.flavor = flavor
        self.env = env
        self.secrets = secrets
        self.timeout = timeout
        self.namespace = namespace
        self.labels = labels
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = float(poll_interval)
        self.stream_logs = stream_logs
        self.cancel_on_kill = cancel_on_kill
        self.reattach = reattach
        self.job_id: str | None = None
        self.job_namespace: str | None = None
        self._script_source = ""

    def _builds_own_script(self) -> bool:
        """Subclasses that generate ``script`` at run time (``@task.hf_job``) say so here."""
        return False

    # -- input --------------------------------------------------------------------------------------
    def _check_rendered(self) -> None:
        """Validate the rendered arguments before any network call."""
        if self.command is not None and not (
            isinstance(self.command, list) and self.command and all(isinstance(c, str) for c in self.command)
        ):
            raise ValueError(f"command must be a non-empty list of strings; got {self.command!r}")
        for name in ("script_args", "dependencies"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ValueError(f"{name} must be a list of strings; got {value!r}")
        for name in ("env", "labels"):
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, Mapping)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
            ):
                raise ValueError(f"{name} must be a dict of str to str; got {value!r}")
        self.secrets = rendered_secrets(self.secrets) or None
        if self.labels and any(key.startswith("airflow-") for key in self.labels):
            raise ValueError(
                f"labels starting with 'airflow-' are reserved for the task identity; got {sorted(self.labels)}"
            )
        if self.script is not None and not (isinstance(self.script, str) and self.script.strip()):
            raise ValueError(f"script must be a URL, a .py path or Python source; got {self.script!r}")
        if self.flavor is not None and not (
            isinstance(self.flavor, str) and _FLAVOR_RE.fullmatch(self.flavor)
        ):
            raise ValueError(
                f"flavor must be a hardware flavor like 'cpu-basic' or 'a10g-small'; got {self.flavor!r}"
            )
        duration_seconds(self.timeout)
        if self.script is not None and not _is_url(self.script):
            self._script_source = self._inline_source()

    def _inline_source(self) -> str:
        """The script's source when it is not a URL (a local ``.py`` file is read), size-checked."""
        assert self.script is not None
        source = self.script
        if "\n" not in source and source.strip().endswith(".py"):
            if not os.path.isfile(source.strip()):
                raise ValueError(f"script looks like a file path but {source.strip()!r} does not exist")
            with open(source.strip(), encoding="utf-8") as handle:
                source = handle.read()
        size = len(source.encode("utf-8"))
        if size > INLINE_SCRIPT_MAX_BYTES:
            raise ValueError(
                f"script is {size} bytes; inline and local scripts travel inside the Job's command and are "
                f"limited to {INLINE_SCRIPT_MAX_BYTES} bytes. Host the script at an https:// URL instead."
            )
        return source

    def _start_job(self, labels: dict[str, str], namespace: str) -> Any:
        common: dict[str, Any] = {
            "env": dict(self.env) if self.env else None,
            "secrets": self.secrets,
            "flavor": self.flavor,
            "timeout": math.ceil(seconds) if (seconds := duration_seconds(self.timeout)) else None,
            "labels": labels,
            "namespace": namespace,
        }
        if self.script is None:
            return self.hook.run_job(image=str(self.image), command=list(self.command or []), **common)
        if _is_url(self.script):
            return self.hook.run_uv_job(
                script=self.script,
                script_args=self.script_args,
                dependencies=self.dependencies,
                python=self.python,
                image=self.image,
                **common,
            )
        # `uv run python -c SOURCE` honours --with/--python and needs no upload of a local file.
        command = ["uv", "run"]
        for dependency in self.dependencies or []:
            command += ["--with", dependency]
        if self.python:
            command += ["--python", self.python]
        command += ["python", "-c", self._script_source, *(self.script_args or [])]
        common["env"] = {"PYTHONUNBUFFERED": "1", **(common["env"] or {})}
        return self.hook.run_job(image=self.image or UV_IMAGE, command=command, **common)

    # -- execution ----------------------------------------------------------------------------------
    def _emit(self, line: str) -> None:
        self.log.info("[job] %s", line)

    def _find_own_job(self, ti_hash: str, namespace: str) -> Any:
        """This task instance's Job from an earlier try that is running or completed, if any."""
        jobs = self.hook.find_jobs(labels={TI_LABEL: ti_hash}, namespace=namespace)
        for job in jobs:
            state = JobState.from_summary(self.hook.job_summary(job))
            if state.active or state.succeeded:
                return job
        if jobs:
            self.log.info("Earlier Jobs of this task instance failed (%s); starting a new one", jobs[0].id)
        return None

    def execute(self, context: Context) -> Any:
        self._check_rendered()
        ti = context["ti"]
        identity = task_instance_labels(ti)
        namespace = self.hook.job_namespace(self.namespace)
        job = self._find_own_job(identity[TI_LABEL], namespace) if self.reattach else None
        reattached = job is not None
        if job is None:
            labels = {**(self.labels or {}), **identity}
            job = self._start_job(labels, namespace)
            self.log.info("Started Job %s", job.id)
        else:
            self.log.info("Reattached to this task instance's Job %s", job.id)
        summary = {**self.hook.job_summary(job), "reattached": reattached}
        self.job_id, self.job_namespace = summary["job_id"], summary["namespace"]
        self.lineage.ran_job(self.job_id, summary["url"])
        HfJobLink.persist(context, summary["url"])
        ti.xcom_push(key="job_id", value=self.job_id)
        self.log.info("Job page: %s", summary["url"])
        created = job.created_at.timestamp() if getattr(job, "created_at", None) else time.time()

        if JobState.from_summary(summary).succeeded:
            follower = self._follower()
            follower.finish(wait=0)
            return self._finish(summary, list(follower.tail))
        if not self.wait_for_completion:
            return summary
        if self.deferrable:
            self.defer(
                trigger=HfJobTrigger(
                    job_id=self.job_id,
                    namespace=self.job_namespace,
                    hf_conn_id=self.hf_conn_id,
                    poll_interval=self.poll_interval,
                    end_time=self._trigger_deadline(context, created),
                    cancel_on_kill=self.cancel_on_kill,
                    log_lines_emitted=0,
                ),
                method_name="execute_complete",
            )
        return self._wait(summary, created)

    def _deadline(self, created: float) -> float | None:
        seconds = duration_seconds(self.timeout)
        return created + seconds if seconds is not None else None

    def _trigger_deadline(self, context: Context, created: float) -> float | None:
        """When the trigger gives up: at ``timeout``, or just before ``execution_timeout`` ends.

        Airflow failing a deferred task on ``execution_timeout`` does not call any ``on_kill``; the
        trigger firing a little earlier lets ``execute_complete`` cancel the Job first.
        """
        deadlines = [d for d in (self._deadline(created),) if d is not None]
        started = getattr(context["ti"], "start_date", None)
        if self.execution_timeout is not None and started is not None:
            budget = self.execution_timeout.total_seconds()
            deadlines.append(started.timestamp() + budget - min(30.0, budget * 0.05))
        return min(deadlines) if deadlines else None

    def _follower(self, already_emitted: int = 0) -> JobLogFollower:
        assert self.job_id is not None and self.job_namespace is not None
        emit = self._emit if self.stream_logs else (lambda line: None)
        return JobLogFollower(self.hook, self.job_id, self.job_namespace, emit, already_emitted)

    def _wait(self, summary: dict[str, Any], created: float) -> Any:
        assert self.job_id is not None
        deadline = self._deadline(created)
        follower = self._follower()
        if self.stream_logs:
            follower.start()
        while not JobState.from_summary(summary).terminal:
            now = time.time()
            if deadline is not None and now >= deadline:
                self._cancel("its timeout passed")
                follower.finish(wait=2)
                raise HfHubError(
                    self._failure_message(
                        summary,
                        list(follower.tail),
                        f"did not finish within timeout={self.timeout!r}; cancelled it",
                    )
                )
            pause = self.poll_interval if deadline is None else min(self.poll_interval, deadline - now)
            if follower.stream_ended.is_set():
                time.sleep(max(0.0, pause))
            else:
                # The log stream ends when the Job does: poll at once then rather than after a full interval.
                follower.stream_ended.wait(max(0.0, pause))
            summary = {**summary, **self.hook.job_summary(self.hook.get_job(self.job_id, self.job_namespace))}
        follower.finish(wait=5)
        return self._finish(summary, list(follower.tail))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after :class:`HfJobTrigger`: write the Job's log to the task log, then conclude."""
        # A resumed task is a new process: the Job's log may print secrets that only execute() had masked.
        self.secrets = rendered_secrets(self.secrets)
        self.job_id, self.job_namespace = event["job_id"], event["namespace"]
        self.lineage.ran_job(self.job_id, job_url(self.hook.endpoint, self.job_namespace, self.job_id))
        follower = self._follower(already_emitted=int(event.get("log_lines_emitted") or 0))
        status = event["status"]
        if status == "timeout":
            self._cancel("its timeout passed")
        if status in ("timeout", "error"):
            follower.finish(wait=0)
            summary = self.hook.job_summary(self.hook.get_job(self.job_id, self.job_namespace))
            raise HfHubError(
                self._failure_message(summary, list(follower.tail), event.get("message") or status)
            )
        follower.finish(wait=0)
        summary = {
            **self.hook.job_summary(self.hook.get_job(self.job_id, self.job_namespace)),
            "reattached": False,
        }
        return self._finish(summary, list(follower.tail))

    def _cancel(self, why: str) -> None:
        if self.job_id is None or self.job_namespace is None:
            return
        self.log.info("Cancelling Job %s: %s", self.job_id, why)
        self.hook.cancel_job(self.job_id, self.job_namespace)

    def _failure_message(self, summary: dict[str, Any], tail: list[str], what: str | None = None) -> str:
        lines = tail[-FAILURE_LOG_LINES:]
        reason = JobState.from_summary(summary).failure_reason(what)
        message = f"Hub Job {summary['job_id']} {reason}: {summary['url']}"
        if lines:
            message += "\nLast log lines:\n" + "\n".join(lines)
        # A Job may print its secrets; exception messages are stored and shown outside the masked log.
        return str(redact(message))

    def _finish(self, summary: dict[str, Any], tail: list[str]) -> Any:
        """The task's return value for a COMPLETED Job; raise for any other terminal stage."""
        if not JobState.from_summary(summary).succeeded:
            raise HfHubError(self._failure_message(summary, tail))
        self.log.info("Job %s COMPLETED", summary["job_id"])
        # The Job's status message may quote a secret; XCom is shown outside the masked log.
        return {**summary, "message": redact(summary["message"])} if summary.get("message") else summary

    def on_kill(self) -> None:
        if self.cancel_on_kill:
            self._cancel("the task was killed")
