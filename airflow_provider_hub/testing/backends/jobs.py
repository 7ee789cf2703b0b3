"""The Jobs area's backend: Jobs and scheduled Jobs, how they run, their logs and the rules on them.

Two ways to run a Job (``hub.jobs_mode``):

- ``"simulate"``: nothing runs. Each Job follows the plan current when it was created
  (:meth:`JobBackend.set_plan`): its stage, status message and log lines are *derived from the time
  elapsed since creation*, so no background thread is needed and every read is consistent.
- ``"subprocess"``: the Job's command runs on this machine as a child process in its own process
  group (image ignored). ``python``/``python3`` and ``uv run [--with X] [--python P] target ...``
  run with the emulator's own interpreter (offline: dependencies must already be installed). Logs,
  exit code and outputs are real; cancel kills the process group; env and secrets reach the process
  environment, as does ``HF_ENDPOINT`` pointing at this emulator.

Each log line keeps the moment it was produced; the routes stamp its Server-Sent Event with it.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.testing._core import Principal
from airflow_provider_hub.testing.errors import BadRequest, Forbidden, NotFound

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState

TERMINAL_STAGES = frozenset({"COMPLETED", "CANCELED", "ERROR", "DELETED"})
ALL_STAGES = ("SCHEDULING", "RUNNING", *sorted(TERMINAL_STAGES))
DEFAULT_PLAN_STAGES = ("SCHEDULING", "RUNNING", "COMPLETED")
_TIMEOUT_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_TIMEOUT_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

HARDWARE: list[dict[str, Any]] = [
    {
        "name": "cpu-basic",
        "prettyName": "CPU basic",
        "cpu": "2 vCPU",
        "ram": "16 GB",
        "unitCostMicroUSD": 167,
        "unitCostUSD": 0.000167,
        "unitLabel": "minute",
    },
    {
        "name": "cpu-upgrade",
        "prettyName": "CPU upgrade",
        "cpu": "8 vCPU",
        "ram": "32 GB",
        "unitCostMicroUSD": 500,
        "unitCostUSD": 0.0005,
        "unitLabel": "minute",
    },
    {
        "name": "t4-small",
        "prettyName": "Nvidia T4 - small",
        "cpu": "4 vCPU",
        "ram": "15 GB",
        "accelerator": {
            "type": "gpu",
            "model": "T4",
            "quantity": "1",
            "vram": "16 GB",
            "manufacturer": "Nvidia",
        },
        "unitCostMicroUSD": 6667,
        "unitCostUSD": 0.006667,
        "unitLabel": "minute",
    },
    {
        "name": "a10g-small",
        "prettyName": "Nvidia A10G - small",
        "cpu": "4 vCPU",
        "ram": "15 GB",
        "accelerator": {
            "type": "gpu",
            "model": "A10G",
            "quantity": "1",
            "vram": "24 GB",
            "manufacturer": "Nvidia",
        },
        "unitCostMicroUSD": 16667,
        "unitCostUSD": 0.016667,
        "unitLabel": "minute",
    },
    {
        "name": "a100-large",
        "prettyName": "Nvidia A100 - large",
        "cpu": "12 vCPU",
        "ram": "142 GB",
        "accelerator": {
            "type": "gpu",
            "model": "A100",
            "quantity": "1",
            "vram": "80 GB",
            "manufacturer": "Nvidia",
        },
        "unitCostMicroUSD": 41667,
        "unitCostUSD": 0.041667,
        "unitLabel": "minute",
    },
]
FLAVORS = frozenset(
    {h["name"] for h in HARDWARE}
    | {
        "cpu-performance",
        "cpu-xl",
        "t4-medium",
        "l4x1",
        "l4x4",
        "l40sx1",
        "l40sx4",
        "l40sx8",
        "a10g-large",
        "a10g-largex2",
        "a10g-largex4",
        "a100x4",
        "a100x8",
        "h200",
        "h200x2",
        "h200x4",
        "h200x8",
        "rtx-pro-6000",
        "rtx-pro-6000x2",
        "rtx-pro-6000x4",
        "rtx-pro-6000x8",
    }
)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return (
        datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def parse_timeout(value: Any) -> float | None:
    """``timeoutSeconds`` as the client sends it: an int, or ``"30s"``/``"5m"``/``"2h"``/``"1d"``."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = _TIMEOUT_RE.match(str(value).strip())
    if not match:
        raise BadRequest(f"Invalid timeout {value!r}: use seconds or a duration like '30m'")
    return float(match.group(1)) * _TIMEOUT_UNITS[match.group(2)]


@dataclass(frozen=True)
class JobPlan:
    """How a simulated Job runs: its stages in order, how long each non-final stage lasts, its logs."""

    stages: tuple[str, ...] = DEFAULT_PLAN_STAGES
    durations: tuple[float, ...] = (0.5, 1.0)
    logs: tuple[str, ...] = ()
    message: str | None = None

    def __post_init__(self) -> None:
        unknown = [s for s in self.stages if s not in ALL_STAGES]
        if unknown or not self.stages:
            raise ValueError(f"stages must be a non-empty sequence of {ALL_STAGES}, got {self.stages!r}")
        if self.stages[-1] not in TERMINAL_STAGES and len(self.durations) >= len(self.stages):
            raise ValueError("the last stage of a plan that never ends must have no duration")
        if len(self.durations) < len(self.stages) - 1:
            raise ValueError(
                f"durations needs one value per stage but the last: {len(self.stages) - 1} expected"
            )


@dataclass
class Job:
    id: str
    namespace: str
    owner_type: str
    initiator: str
    spec: dict[str, Any]
    created: float
    plan: JobPlan | None  # None in subprocess mode
    timeout: float | None
    canceled_at: float | None = None
    # subprocess mode
    process: subprocess.Popen[bytes] | None = None
    lines: list[tuple[float, str]] = field(default_factory=list)
    started: float | None = None
    finished: float | None = None
    exit_stage: str | None = None
    exit_message: str | None = None

    # -- simulate mode: everything is a function of the clock ---------------------------------------
    def _boundaries(self) -> list[tuple[str, float, float | None]]:
        """``(stage, start, end)`` of each planned stage, ``end`` None for the last."""
        assert self.plan is not None
        out: list[tuple[str, float, float | None]] = []
        start = self.created
        for index, stage in enumerate(self.plan.stages):
            duration = self.plan.durations[index] if index < len(self.plan.durations) else None
            end = start + duration if duration is not None and index < len(self.plan.stages) - 1 else None
            out.append((stage, start, end))
            if end is None:
                break
            start = end
        return out

    def _simulated(self, now: float) -> tuple[str, float | None, float | None, str | None]:
        """(stage, started, finished, message) at ``now`` from the plan, before cancel/timeout."""
        assert self.plan is not None
        started = finished = None
        stage = self.plan.stages[0]
        for name, start, end in self._boundaries():
            if start > now:
                break
            stage = name
            if name == "RUNNING" and started is None:
                started = start
            if name in TERMINAL_STAGES:
                finished = start
                break
            if end is None:
                break
        message = self.plan.message if stage in TERMINAL_STAGES or stage == self.plan.stages[-1] else None
        return stage, started, finished, message

    def _running_window(self) -> tuple[float, float] | None:
        for name, start, end in self._boundaries():
            if name == "RUNNING":
                return start, end if end is not None else start + 1.0
        terminal = [start for name, start, _ in self._boundaries() if name in TERMINAL_STAGES]
        return (terminal[0], terminal[0]) if terminal else None

    def status(self, now: float) -> tuple[str, float | None, float | None, str | None]:
        """(stage, startedAt, finishedAt, message) at ``now``."""
        if self.plan is None:
            stage = self.exit_stage or ("RUNNING" if self.started is not None else "SCHEDULING")
            result = (stage, self.started, self.finished, self.exit_message)
        else:
            result = self._simulated(now)
            stage, started, _, _ = result
            timed_out = self.timeout is not None and started is not None and now >= started + self.timeout
            if stage not in TERMINAL_STAGES and timed_out:
                assert started is not None and self.timeout is not None
                result = ("ERROR", started, started + self.timeout, "Job timeout exceeded")
            if self.canceled_at is not None and (result[2] is None or result[2] > self.canceled_at):
                result = ("CANCELED", result[1], self.canceled_at, "Job canceled by user")
        return result

    def log_lines(self, now: float) -> list[tuple[float, str]]:
        """Every log line produced up to ``now``, oldest first, with the time it was produced."""
        if self.plan is None:
            return list(self.lines)
        window = self._running_window()
        if window is None:
            return []
        start, end = window
        planned = [(start, f"===== Job started at {iso(start)} =====")]
        count = len(self.plan.logs)
        planned += [
            (start + (end - start) * (i + 1) / (count + 1), line) for i, line in enumerate(self.plan.logs)
        ]
        _, _, finished, _ = self.status(now)
        cutoff = min(now, finished) if finished is not None else now
        return [(ts, line) for ts, line in planned if ts <= cutoff]

    def to_json(self, hub: HubState, now: float) -> dict[str, Any]:
        stage, started, finished, message = self.status(now)
        spec = self.spec
        end = finished if finished is not None else now
        scheduling_end = started if started is not None else end
        return {
            "id": self.id,
            "createdAt": iso(self.created),
            "startedAt": iso(started),
            "finishedAt": iso(finished),
            "dockerImage": spec.get("dockerImage"),
            "spaceId": spec.get("spaceId"),
            "command": spec.get("command") or [],
            "arguments": spec.get("arguments") or [],
            "environment": spec.get("environment") or {},
            # The Hub never gives secret values back.
            "secrets": {key: "******" for key in (spec.get("secrets") or {})},
            "flavor": spec.get("flavor") or "cpu-basic",
            "labels": spec.get("labels") or {},
            "volumes": spec.get("volumes"),
            "owner": {
                "id": f"{self.owner_type[0]}-{self.namespace}",
                "name": self.namespace,
                "type": self.owner_type,
            },
            "initiator": {"type": "user", "id": f"u-{self.initiator}", "name": self.initiator},
            "status": {"stage": stage, "message": message},
            "durations": {
                "schedulingSecs": round(max(0.0, scheduling_end - self.created)),
                "runningSecs": round(max(0.0, end - started)) if started is not None else 0,
                "totalSecs": round(max(0.0, end - self.created)),
            },
        }


@dataclass
class ScheduledJob:
    id: str
    namespace: str
    owner_type: str
    spec: dict[str, Any]
    schedule: str
    suspend: bool
    concurrency: bool
    created: float
    last_job: tuple[str, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": iso(self.created),
            "owner": {
                "id": f"{self.owner_type[0]}-{self.namespace}",
                "name": self.namespace,
                "type": self.owner_type,
            },
            "jobSpec": {**self.spec, "secrets": {key: "******" for key in (self.spec.get("secrets") or {})}},
            "schedule": self.schedule,
            "suspend": self.suspend,
            "concurrency": self.concurrency,
            "status": {
                "lastJob": {"id": self.last_job[0], "at": iso(self.last_job[1])} if self.last_job else None,
                "nextJobRunAt": None if self.suspend else iso(time.time() + 3600),
            },
        }


class JobBackend:
    """The Jobs of every namespace. Mutations hold ``hub.lock``."""

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        self.jobs: dict[str, Job] = {}
        self.scheduled: dict[str, ScheduledJob] = {}
        self.plan = JobPlan()
        self._rng = random.Random(f"{hub.seed}:jobs")
        self._workdirs: list[tempfile.TemporaryDirectory[str]] = []
        hub.on_close(self.close)

    # -- control ------------------------------------------------------------------------------------
    def set_plan(
        self,
        *,
        stages: tuple[str, ...] = DEFAULT_PLAN_STAGES,
        durations: tuple[float, ...] = (0.5, 1.0),
        logs: tuple[str, ...] = (),
        message: str | None = None,
    ) -> None:
        """How the Jobs created from now on run in simulate mode."""
        plan = JobPlan(
            stages=tuple(s.upper() for s in stages),
            durations=tuple(float(d) for d in durations),
            logs=tuple(logs),
            message=message,
        )
        with self.hub.lock:
            self.plan = plan

    def close(self) -> None:
        """Kill every Job process still running (emulator stop or reset)."""
        with self.hub.lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            if job.process is not None and job.process.poll() is None:
                _kill_group(job.process)
        for workdir in self._workdirs:
            workdir.cleanup()
        self._workdirs.clear()

    # -- permissions --------------------------------------------------------------------------------
    def authorize(self, principal: Principal, namespace: str, *, write: bool) -> None:
        hub = self.hub
        if not hub.namespace_exists(namespace):
            raise NotFound(f"Namespace {namespace} not found")
        allowed = (
            hub.can_write_namespace(principal, namespace)
            if write
            else hub.can_read_namespace(principal, namespace)
        )
        if not allowed:
            verb = "run or change" if write else "see"
            raise Forbidden(f"You don't have the rights to {verb} Jobs in namespace {namespace}")

    # -- Jobs ---------------------------------------------------------------------------------------
    def new_id(self) -> str:
        return f"{self._rng.getrandbits(96):024x}"

    def owner_type(self, namespace: str) -> str:
        return "org" if namespace in self.hub.orgs else "user"

    def create(self, namespace: str, principal: Principal, spec: dict[str, Any]) -> Job:
        command = spec.get("command")
        if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
            raise BadRequest("command must be a non-empty list of strings")
        if not spec.get("dockerImage") and not spec.get("spaceId"):
            raise BadRequest("A Job needs a dockerImage or a spaceId")
        flavor = spec.get("flavor") or "cpu-basic"
        if flavor not in FLAVORS:
            raise BadRequest(f"Invalid flavor {flavor!r}")
        for key in ("environment", "secrets", "labels"):
            value = spec.get(key)
            if value is not None and (
                not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
            ):
                raise BadRequest(f"{key} must be an object of string values")
        timeout = parse_timeout(spec.get("timeoutSeconds"))
        with self.hub.lock:
            job = Job(
                id=self.new_id(),
                namespace=namespace,
                owner_type=self.owner_type(namespace),
                initiator=principal.user,
                spec=dict(spec),
                created=time.time(),
                plan=self.plan if self.hub.jobs_mode == "simulate" else None,
                timeout=timeout,
            )
            self.jobs[job.id] = job
        if job.plan is None:
            self._start_process(job)
        return job

    def get(self, namespace: str, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.namespace != namespace:
            raise NotFound(f"Job {job_id} not found in namespace {namespace}")
        return job

    def cancel(self, job: Job) -> None:
        with self.hub.lock:
            stage, *_ = job.status(time.time())
            if stage in TERMINAL_STAGES:
                return
            job.canceled_at = time.time()
        if job.process is not None:
            with self.hub.lock:
                if job.exit_stage is None:
                    job.exit_stage, job.exit_message = "CANCELED", "Job canceled by user"
                    job.finished = job.canceled_at
            _kill_group(job.process)

    # -- subprocess mode ----------------------------------------------------------------------------
    def _start_process(self, job: Job) -> None:
        argv = local_argv([*job.spec["command"], *(job.spec.get("arguments") or [])])
        env = dict(os.environ)
        env.update({"HF_ENDPOINT": self.hub.base_url, "PYTHONUNBUFFERED": "1"})
        env.update(job.spec.get("environment") or {})
        env.update(job.spec.get("secrets") or {})
        workdir = tempfile.TemporaryDirectory(prefix=f"hub-job-{job.id}-")
        self._workdirs.append(workdir)
        started = time.time()
        job.lines.append((started, f"===== Job started at {iso(started)} ====="))
        try:
            process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=workdir.name,
                start_new_session=True,
            )
        except OSError as exc:
            with self.hub.lock:
                job.started = job.finished = started
                job.lines.append((time.time(), f"failed to start {argv[0]!r}: {exc}"))
                job.exit_stage, job.exit_message = "ERROR", f"Failed to start the command: {exc}"
            return
        with self.hub.lock:
            job.process, job.started = process, started
        threading.Thread(
            target=self._pump, args=(job, process), name=f"hub-job-{job.id}", daemon=True
        ).start()
        if job.timeout is not None:
            timer = threading.Timer(job.timeout, self._time_out, args=(job,))
            timer.daemon = True
            timer.start()

    def _pump(self, job: Job, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            with self.hub.lock:
                job.lines.append((time.time(), line))
        code = process.wait()
        with self.hub.lock:
            if job.exit_stage is None:
                job.finished = time.time()
                if code == 0:
                    job.exit_stage = "COMPLETED"
                else:
                    job.exit_stage, job.exit_message = "ERROR", f"Job failed with exit code: {code}"

    def _time_out(self, job: Job) -> None:
        with self.hub.lock:
            if job.exit_stage is not None:
                return
            job.exit_stage, job.exit_message, job.finished = "ERROR", "Job timeout exceeded", time.time()
        if job.process is not None:
            _kill_group(job.process)

    # -- scheduled Jobs -----------------------------------------------------------------------------
    def create_scheduled(self, namespace: str, body: dict[str, Any]) -> ScheduledJob:
        spec = body.get("jobSpec")
        if not isinstance(spec, dict) or not spec.get("command"):
            raise BadRequest("jobSpec with a command is required")
        schedule = body.get("schedule")
        if not isinstance(schedule, str) or not schedule.strip():
            raise BadRequest("schedule is required (a cron expression or @hourly, @daily, ...)")
        with self.hub.lock:
            scheduled = ScheduledJob(
                id=self.new_id(),
                namespace=namespace,
                owner_type=self.owner_type(namespace),
                spec=dict(spec),
                schedule=schedule,
                suspend=bool(body.get("suspend") or False),
                concurrency=bool(body.get("concurrency") or False),
                created=time.time(),
            )
            self.scheduled[scheduled.id] = scheduled
        return scheduled

    def get_scheduled(self, namespace: str, scheduled_id: str) -> ScheduledJob:
        scheduled = self.scheduled.get(scheduled_id)
        if scheduled is None or scheduled.namespace != namespace:
            raise NotFound(f"Scheduled Job {scheduled_id} not found in namespace {namespace}")
        return scheduled

    def job_json(self, job: Job) -> dict[str, Any]:
        with self.hub.lock:
            return job.to_json(self.hub, time.time())

    def list_jobs(
        self,
        namespace: str,
        *,
        stages: set[str],
        labels: list[tuple[str, str | None]],
        start: int = 0,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the namespace's Jobs, newest first, in one of ``stages`` (all when empty) and with every
        label ``(key, value)`` (``value`` ``None``: any value): the ``limit`` from ``start`` (all when ``None``),
        and how many match in all.

        Only the page is rendered: a listing of thousands of Jobs is asked for page by page, and rendering
        every Job for each page would cost the square of the listing.
        """
        now = time.time()
        with self.hub.lock:
            matching = [
                job
                for job in self.jobs.values()
                if job.namespace == namespace
                and (not stages or job.status(now)[0] in stages)
                and all(
                    key in (job.spec.get("labels") or {})
                    and (value is None or job.spec["labels"][key] == value)
                    for key, value in labels
                )
            ]
            matching.sort(key=lambda job: job.created, reverse=True)
            end = len(matching) if limit is None else start + limit
            return [job.to_json(self.hub, now) for job in matching[start:end]], len(matching)

    def set_labels(self, job: Job, labels: Any) -> None:
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise BadRequest("labels must be an object of string values")
        with self.hub.lock:
            job.spec["labels"] = dict(labels)

    def expose(self, job: Job, ports: list[Any], public: list[Any]) -> None:
        if not set(public) <= set(ports):
            raise BadRequest("portsPublic must be a subset of ports")
        with self.hub.lock:
            job.spec["expose"] = {"ports": ports, "portsPublic": public}

    def logs(self, job: Job) -> tuple[list[tuple[float, str]], str]:
        """The Job's log lines so far (with the time each was produced) and its stage, read together."""
        now = time.time()
        with self.hub.lock:
            return job.log_lines(now), job.status(now)[0]

    def stage(self, job: Job) -> str:
        with self.hub.lock:
            return job.status(time.time())[0]

    # -- scheduled Jobs: operations behind the routes -------------------------------------------------
    def list_scheduled(self, namespace: str, labels: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        """The namespace's scheduled Jobs with every label of ``labels`` (``key``, ``=`` or ``""``, ``value``)."""
        with self.hub.lock:
            rows = [s.to_json() for s in self.scheduled.values() if s.namespace == namespace]
        return [
            row
            for row in rows
            if all(
                key in (row["jobSpec"].get("labels") or {})
                and (not sep or row["jobSpec"]["labels"][key] == value)
                for key, sep, value in labels
            )
        ]

    def delete_scheduled(self, namespace: str, scheduled_id: str) -> None:
        with self.hub.lock:
            self.scheduled.pop(self.get_scheduled(namespace, scheduled_id).id)

    def suspend(self, scheduled: ScheduledJob, suspend: bool) -> None:
        with self.hub.lock:
            scheduled.suspend = suspend

    def reschedule(self, scheduled: ScheduledJob, schedule: Any) -> None:
        if not isinstance(schedule, str) or not schedule.strip():
            raise BadRequest("schedule is required")
        with self.hub.lock:
            scheduled.schedule = schedule

    def run_scheduled(self, scheduled: ScheduledJob, principal: Principal) -> Job:
        """Run the scheduled Job now (a new Job from its spec)."""
        job = self.create(scheduled.namespace, principal, dict(scheduled.spec))
        with self.hub.lock:
            scheduled.last_job = (job.id, job.created)
        return job

    def set_scheduled_labels(self, scheduled: ScheduledJob, labels: Any) -> None:
        if not isinstance(labels, dict):
            raise BadRequest("labels must be an object of string values")
        with self.hub.lock:
            scheduled.spec["labels"] = dict(labels)


def local_argv(command: list[str]) -> list[str]:
    """The command to run on this machine for a Job command.

    ``python``/``python3`` becomes this interpreter (so the emulator's venv is used); ``uv run`` is
    not available offline, so ``uv run [--with D]* [--python P] target args`` runs ``target`` with this
    interpreter too (``target`` may be ``python``, as in ``uv run python -c SOURCE``).
    """
    if command[0] in ("python", "python3"):
        return [sys.executable, *command[1:]]
    if command[:2] == ["uv", "run"]:
        rest = command[2:]
        while rest and rest[0] in ("--with", "--python", "-p", "--with-requirements"):
            rest = rest[2:]
        if not rest:
            return command
        if rest[0] in ("python", "python3"):
            return [sys.executable, *rest[1:]]
        return [sys.executable, *rest]
    return command


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def attach(hub: HubState) -> None:
    """Create this area's backend on ``hub`` (``hub.jobs``)."""
    hub.jobs = JobBackend(hub)
