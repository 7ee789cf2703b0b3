"""Emulator area: Jobs and scheduled Jobs.

Two ways to run a Job (``hub.jobs_mode``):

- ``"simulate"``: nothing runs. Each Job follows the plan current when it was created
  (:meth:`JobStore.set_plan`): its stage, status message and log lines are *derived from the time
  elapsed since creation*, so no background thread is needed and every read is consistent.
- ``"subprocess"``: the Job's command runs on this machine as a child process in its own process
  group (image ignored). ``python``/``python3`` and ``uv run [--with X] [--python P] target ...``
  run with the emulator's own interpreter (offline: dependencies must already be installed). Logs,
  exit code and outputs are real; cancel kills the process group; env and secrets reach the process
  environment, as does ``HF_ENDPOINT`` pointing at this emulator.

Logs and metrics are Server-Sent Events (``data: {json}\\n\\n``). Every connection replays the full log
from the start (the client de-duplicates by event index) and then streams new lines until the Job
ends, as the Hub does. Event timestamps are the moment a line was produced, never later than the
response's ``Date`` header (set by the middleware), which the client uses to cut no-follow replays.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from airflow_provider_hub.testing._core import HubError, HubState, Principal, state_of

TERMINAL_STAGES = frozenset({"COMPLETED", "CANCELED", "ERROR", "DELETED"})
ALL_STAGES = ("SCHEDULING", "RUNNING", *sorted(TERMINAL_STAGES))
DEFAULT_PLAN_STAGES = ("SCHEDULING", "RUNNING", "COMPLETED")
PAGE_SIZE = 50
SSE_POLL_SECONDS = 0.05
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


def _iso(ts: float | None) -> str | None:
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
        raise HubError(400, f"Invalid timeout {value!r}: use seconds or a duration like '30m'")
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
        planned = [(start, f"===== Job started at {_iso(start)} =====")]
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
            "createdAt": _iso(self.created),
            "startedAt": _iso(started),
            "finishedAt": _iso(finished),
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
            "createdAt": _iso(self.created),
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
                "lastJob": {"id": self.last_job[0], "at": _iso(self.last_job[1])} if self.last_job else None,
                "nextJobRunAt": None if self.suspend else _iso(time.time() + 3600),
            },
        }


class JobStore:
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

    # -- Jobs ---------------------------------------------------------------------------------------
    def new_id(self) -> str:
        return f"{self._rng.getrandbits(96):024x}"

    def owner_type(self, namespace: str) -> str:
        return "org" if namespace in self.hub.orgs else "user"

    def create(self, namespace: str, principal: Principal, spec: dict[str, Any]) -> Job:
        command = spec.get("command")
        if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
            raise HubError(400, "command must be a non-empty list of strings")
        if not spec.get("dockerImage") and not spec.get("spaceId"):
            raise HubError(400, "A Job needs a dockerImage or a spaceId")
        flavor = spec.get("flavor") or "cpu-basic"
        if flavor not in FLAVORS:
            raise HubError(400, f"Invalid flavor {flavor!r}")
        for key in ("environment", "secrets", "labels"):
            value = spec.get(key)
            if value is not None and (
                not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
            ):
                raise HubError(400, f"{key} must be an object of string values")
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
            raise HubError(404, f"Job {job_id} not found in namespace {namespace}")
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
        job.lines.append((started, f"===== Job started at {_iso(started)} ====="))
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
            raise HubError(400, "jobSpec with a command is required")
        schedule = body.get("schedule")
        if not isinstance(schedule, str) or not schedule.strip():
            raise HubError(400, "schedule is required (a cron expression or @hourly, @daily, ...)")
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
            raise HubError(404, f"Scheduled Job {scheduled_id} not found in namespace {namespace}")
        return scheduled


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
    """Create this area's store on ``hub`` (``hub.jobs``)."""
    hub.jobs = JobStore(hub)  # type: ignore[attr-defined]


# -- routes -----------------------------------------------------------------------------------------
router = APIRouter()


def _store(request: Request) -> tuple[HubState, JobStore]:
    hub = state_of(request)
    return hub, hub.jobs  # type: ignore[attr-defined]


def _check_namespace(hub: HubState, request: Request, namespace: str, *, write: bool) -> Principal:
    principal = hub.require_principal(request)
    if not hub.namespace_exists(namespace):
        raise HubError(404, f"Namespace {namespace} not found")
    allowed = (
        hub.can_write_namespace(principal, namespace)
        if write
        else hub.can_read_namespace(principal, namespace)
    )
    if not allowed:
        verb = "run or change" if write else "see"
        raise HubError(403, f"You don't have the rights to {verb} Jobs in namespace {namespace}")
    return principal


def _job_json(hub: HubState, job: Job) -> dict[str, Any]:
    with hub.lock:
        return job.to_json(hub, time.time())


@router.get("/api/jobs/hardware")
async def list_hardware() -> list[dict[str, Any]]:
    return HARDWARE


@router.post("/api/jobs/{namespace}")
async def run_job(namespace: str, request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    principal = _check_namespace(hub, request, namespace, write=True)
    spec = await request.json()
    if not isinstance(spec, dict):
        raise HubError(400, "The body must be a JobSpec object")
    job = await asyncio.to_thread(store.create, namespace, principal, spec)
    return _job_json(hub, job)


@router.get("/api/jobs/{namespace}")
async def list_jobs(namespace: str, request: Request) -> JSONResponse:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=False)
    stages = {s.upper() for s in request.query_params.getlist("stage")}
    wanted: list[tuple[str, str | None]] = []
    for label in request.query_params.getlist("label"):
        key, sep, value = label.partition("=")
        wanted.append((key, value if sep else None))
    now = time.time()
    with hub.lock:
        rows = [job.to_json(hub, now) for job in store.jobs.values() if job.namespace == namespace]
    rows.sort(key=lambda row: row["createdAt"], reverse=True)
    rows = [
        row
        for row in rows
        if (not stages or row["status"]["stage"] in stages)
        and all(
            key in row["labels"] and (value is None or row["labels"][key] == value) for key, value in wanted
        )
    ]
    cursor = int(request.query_params.get("cursor") or 0)
    limit = int(request.query_params.get("limit") or PAGE_SIZE)
    page = rows[cursor : cursor + limit]
    headers = {}
    if cursor + limit < len(rows):
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit")]
        params += [("cursor", str(cursor + limit)), ("limit", str(limit))]
        headers["Link"] = f'<{hub.base_url}/api/jobs/{namespace}?{urlencode(params)}>; rel="next"'
    return JSONResponse(page, headers=headers)


@router.get("/api/jobs/{namespace}/{job_id}")
async def inspect_job(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=False)
    return _job_json(hub, store.get(namespace, job_id))


@router.post("/api/jobs/{namespace}/{job_id}/cancel")
async def cancel_job(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=True)
    job = store.get(namespace, job_id)
    await asyncio.to_thread(store.cancel, job)
    return _job_json(hub, job)


@router.post("/api/jobs/{namespace}/{job_id}/duplicate")
async def duplicate_job(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    principal = _check_namespace(hub, request, namespace, write=True)
    original = store.get(namespace, job_id)
    job = await asyncio.to_thread(store.create, namespace, principal, dict(original.spec))
    return _job_json(hub, job)


@router.put("/api/jobs/{namespace}/{job_id}/labels")
async def update_job_labels(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=True)
    job = store.get(namespace, job_id)
    labels = (await request.json()).get("labels")
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise HubError(400, "labels must be an object of string values")
    with hub.lock:
        job.spec["labels"] = dict(labels)
    return _job_json(hub, job)


@router.put("/api/jobs/{namespace}/{job_id}/expose")
async def update_job_expose(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=True)
    job = store.get(namespace, job_id)
    body = await request.json()
    ports, public = body.get("ports") or [], body.get("portsPublic") or []
    if not set(public) <= set(ports):
        raise HubError(400, "portsPublic must be a subset of ports")
    with hub.lock:
        job.spec["expose"] = {"ports": ports, "portsPublic": public}
    return _job_json(hub, job)


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


@router.get("/api/jobs/{namespace}/{job_id}/logs")
async def job_logs(namespace: str, job_id: str, request: Request) -> StreamingResponse:
    """Replay the whole log, then follow it until the Job ends (``?follow=false``: replay only)."""
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=False)
    job = store.get(namespace, job_id)
    tail = request.query_params.get("tail")
    follow = request.query_params.get("follow", "true").lower() not in ("0", "false", "no")

    async def events() -> AsyncIterator[bytes]:
        sent = 0
        first = True
        while True:
            now = time.time()
            with hub.lock:
                lines = job.log_lines(now)
                stage, *_ = job.status(now)
            if first and tail is not None:
                sent = max(0, len(lines) - int(tail))
            first = False
            for ts, line in lines[sent:]:
                yield _sse({"data": line, "timestamp": _iso(ts)})
            sent = len(lines)
            if stage in TERMINAL_STAGES or not follow:
                return
            await asyncio.sleep(SSE_POLL_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/api/jobs/{namespace}/{job_id}/metrics")
async def job_metrics(namespace: str, job_id: str, request: Request) -> Response:
    """One sample now and one every half second while the Job runs; 406 once it has finished, as the Hub."""
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=False)
    job = store.get(namespace, job_id)
    with hub.lock:
        stage, *_ = job.status(time.time())
    if stage in TERMINAL_STAGES:
        raise HubError(406, f"Job {job_id} has finished: no metrics")

    async def samples() -> AsyncIterator[bytes]:
        while True:
            with hub.lock:
                stage, *_ = job.status(time.time())
            if stage in TERMINAL_STAGES:
                return
            yield b"event: metric\n" + _sse(
                {
                    "cpu_usage_pct": 12 if stage == "RUNNING" else 0,
                    "cpu_millicores": 2000,
                    "memory_used_bytes": 256 * 1024 * 1024,
                    "memory_total_bytes": 16 * 1024**3,
                    "rx_bps": 0,
                    "tx_bps": 0,
                    "gpus": {},
                    "replica": job.id[:5],
                }
            )
            await asyncio.sleep(0.5)

    return StreamingResponse(samples(), media_type="text/event-stream")


# -- scheduled Jobs ---------------------------------------------------------------------------------
@router.post("/api/scheduled-jobs/{namespace}")
async def create_scheduled_job(namespace: str, request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=True)
    body = await request.json()
    if not isinstance(body, dict):
        raise HubError(400, "The body must be an object with jobSpec and schedule")
    return store.create_scheduled(namespace, body).to_json()


@router.get("/api/scheduled-jobs/{namespace}")
async def list_scheduled_jobs(namespace: str, request: Request) -> list[dict[str, Any]]:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=False)
    wanted = [label.partition("=") for label in request.query_params.getlist("label")]
    with hub.lock:
        rows = [s.to_json() for s in store.scheduled.values() if s.namespace == namespace]
    return [
        row
        for row in rows
        if all(
            key in (row["jobSpec"].get("labels") or {})
            and (not sep or row["jobSpec"]["labels"][key] == value)
            for key, sep, value in wanted
        )
    ]


@router.get("/api/scheduled-jobs/{namespace}/{scheduled_id}")
async def inspect_scheduled_job(namespace: str, scheduled_id: str, request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=False)
    return store.get_scheduled(namespace, scheduled_id).to_json()


@router.delete("/api/scheduled-jobs/{namespace}/{scheduled_id}")
async def delete_scheduled_job(namespace: str, scheduled_id: str, request: Request) -> Response:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=True)
    with hub.lock:
        store.scheduled.pop(store.get_scheduled(namespace, scheduled_id).id)
    return Response(status_code=200)


@router.post("/api/scheduled-jobs/{namespace}/{scheduled_id}/{action}")
async def scheduled_job_action(
    namespace: str, scheduled_id: str, action: str, request: Request
) -> dict[str, Any]:
    hub, store = _store(request)
    principal = _check_namespace(hub, request, namespace, write=True)
    scheduled = store.get_scheduled(namespace, scheduled_id)
    if action in ("suspend", "resume"):
        with hub.lock:
            scheduled.suspend = action == "suspend"
        return scheduled.to_json()
    if action == "schedule":
        schedule = (await request.json()).get("schedule")
        if not isinstance(schedule, str) or not schedule.strip():
            raise HubError(400, "schedule is required")
        with hub.lock:
            scheduled.schedule = schedule
        return scheduled.to_json()
    if action == "run":
        job = await asyncio.to_thread(store.create, namespace, principal, dict(scheduled.spec))
        with hub.lock:
            scheduled.last_job = (job.id, job.created)
        return _job_json(hub, job)
    raise HubError(404, f"Unknown scheduled Job action {action!r}")


@router.put("/api/scheduled-jobs/{namespace}/{scheduled_id}/labels")
async def update_scheduled_job_labels(namespace: str, scheduled_id: str, request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    _check_namespace(hub, request, namespace, write=True)
    scheduled = store.get_scheduled(namespace, scheduled_id)
    labels = (await request.json()).get("labels")
    if not isinstance(labels, dict):
        raise HubError(400, "labels must be an object of string values")
    with hub.lock:
        scheduled.spec["labels"] = dict(labels)
    return scheduled.to_json()
