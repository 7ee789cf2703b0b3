"""Routes of the Jobs area: ``/api/jobs/...`` and ``/api/scheduled-jobs/...``.

Logs and metrics are Server-Sent Events (``data: {json}\\n\\n``). Every connection replays the full log
from the start (the client de-duplicates by event index) and then streams new lines until the Job
ends, as the Hub does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from airflow_provider_hub.testing._core import Principal
from airflow_provider_hub.testing.backends.jobs import HARDWARE, TERMINAL_STAGES, JobBackend, iso
from airflow_provider_hub.testing.errors import NotAcceptable, NotFound
from airflow_provider_hub.testing.http import json_body, sse, state_of

PAGE_SIZE = 50
SSE_POLL_SECONDS = 0.05

router = APIRouter()


def _caller(request: Request, namespace: str, *, write: bool) -> tuple[JobBackend, Principal]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    hub.jobs.authorize(principal, namespace, write=write)
    return hub.jobs, principal


@router.get("/api/jobs/hardware")
async def list_hardware() -> list[dict[str, Any]]:
    return HARDWARE


@router.post("/api/jobs/{namespace}")
async def run_job(namespace: str, request: Request) -> dict[str, Any]:
    jobs, principal = _caller(request, namespace, write=True)
    spec = await json_body(request, required=True, not_object="The body must be a JobSpec object")
    job = await asyncio.to_thread(jobs.create, namespace, principal, spec)
    return jobs.job_json(job)


@router.get("/api/jobs/{namespace}")
async def list_jobs(namespace: str, request: Request) -> JSONResponse:
    jobs, _ = _caller(request, namespace, write=False)
    params = request.query_params
    labels: list[tuple[str, str | None]] = []
    for label in params.getlist("label"):
        key, sep, value = label.partition("=")
        labels.append((key, value if sep else None))
    cursor = int(params.get("cursor") or 0)
    limit = int(params.get("limit") or PAGE_SIZE)
    page, total = jobs.list_jobs(
        namespace,
        stages={s.upper() for s in params.getlist("stage")},
        labels=labels,
        start=cursor,
        limit=limit,
    )
    headers = {}
    if cursor + limit < total:
        query = [(k, v) for k, v in params.multi_items() if k not in ("cursor", "limit")]
        query += [("cursor", str(cursor + limit)), ("limit", str(limit))]
        headers["Link"] = f'<{jobs.hub.base_url}/api/jobs/{namespace}?{urlencode(query)}>; rel="next"'
    return JSONResponse(page, headers=headers)


@router.get("/api/jobs/{namespace}/{job_id}")
async def inspect_job(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    jobs, _ = _caller(request, namespace, write=False)
    return jobs.job_json(jobs.get(namespace, job_id))


@router.post("/api/jobs/{namespace}/{job_id}/cancel")
async def cancel_job(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    jobs, _ = _caller(request, namespace, write=True)
    job = jobs.get(namespace, job_id)
    await asyncio.to_thread(jobs.cancel, job)
    return jobs.job_json(job)


@router.post("/api/jobs/{namespace}/{job_id}/duplicate")
async def duplicate_job(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    jobs, principal = _caller(request, namespace, write=True)
    original = jobs.get(namespace, job_id)
    job = await asyncio.to_thread(jobs.create, namespace, principal, dict(original.spec))
    return jobs.job_json(job)


@router.put("/api/jobs/{namespace}/{job_id}/labels")
async def update_job_labels(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    jobs, _ = _caller(request, namespace, write=True)
    job = jobs.get(namespace, job_id)
    jobs.set_labels(job, (await json_body(request, required=True)).get("labels"))
    return jobs.job_json(job)


@router.put("/api/jobs/{namespace}/{job_id}/expose")
async def update_job_expose(namespace: str, job_id: str, request: Request) -> dict[str, Any]:
    jobs, _ = _caller(request, namespace, write=True)
    job = jobs.get(namespace, job_id)
    body = await json_body(request, required=True)
    jobs.expose(job, body.get("ports") or [], body.get("portsPublic") or [])
    return jobs.job_json(job)


@router.get("/api/jobs/{namespace}/{job_id}/logs")
async def job_logs(namespace: str, job_id: str, request: Request) -> StreamingResponse:
    """Replay the whole log, then follow it until the Job ends (``?follow=false``: replay only)."""
    jobs, _ = _caller(request, namespace, write=False)
    job = jobs.get(namespace, job_id)
    tail = request.query_params.get("tail")
    follow = request.query_params.get("follow", "true").lower() not in ("0", "false", "no")

    async def events() -> AsyncIterator[bytes]:
        sent = 0
        first = True
        while True:
            lines, stage = jobs.logs(job)
            if first and tail is not None:
                sent = max(0, len(lines) - int(tail))
            first = False
            for ts, line in lines[sent:]:
                yield sse({"data": line, "timestamp": iso(ts)})
            sent = len(lines)
            if stage in TERMINAL_STAGES or not follow:
                return
            await asyncio.sleep(SSE_POLL_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/api/jobs/{namespace}/{job_id}/metrics")
async def job_metrics(namespace: str, job_id: str, request: Request) -> Response:
    """One sample now and one every half second while the Job runs; 406 once it has finished, as the Hub."""
    jobs, _ = _caller(request, namespace, write=False)
    job = jobs.get(namespace, job_id)
    if jobs.stage(job) in TERMINAL_STAGES:
        raise NotAcceptable(f"Job {job_id} has finished: no metrics")

    async def samples() -> AsyncIterator[bytes]:
        while True:
            stage = jobs.stage(job)
            if stage in TERMINAL_STAGES:
                return
            yield b"event: metric\n" + sse(
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
    jobs, _ = _caller(request, namespace, write=True)
    body = await json_body(
        request, required=True, not_object="The body must be an object with jobSpec and schedule"
    )
    return jobs.create_scheduled(namespace, body).to_json()


@router.get("/api/scheduled-jobs/{namespace}")
async def list_scheduled_jobs(namespace: str, request: Request) -> list[dict[str, Any]]:
    jobs, _ = _caller(request, namespace, write=False)
    return jobs.list_scheduled(
        namespace, [label.partition("=") for label in request.query_params.getlist("label")]
    )


@router.get("/api/scheduled-jobs/{namespace}/{scheduled_id}")
async def inspect_scheduled_job(namespace: str, scheduled_id: str, request: Request) -> dict[str, Any]:
    jobs, _ = _caller(request, namespace, write=False)
    return jobs.get_scheduled(namespace, scheduled_id).to_json()


@router.delete("/api/scheduled-jobs/{namespace}/{scheduled_id}")
async def delete_scheduled_job(namespace: str, scheduled_id: str, request: Request) -> Response:
    jobs, _ = _caller(request, namespace, write=True)
    jobs.delete_scheduled(namespace, scheduled_id)
    return Response(status_code=200)


@router.post("/api/scheduled-jobs/{namespace}/{scheduled_id}/{action}")
async def scheduled_job_action(
    namespace: str, scheduled_id: str, action: str, request: Request
) -> dict[str, Any]:
    jobs, principal = _caller(request, namespace, write=True)
    scheduled = jobs.get_scheduled(namespace, scheduled_id)
    if action in ("suspend", "resume"):
        jobs.suspend(scheduled, action == "suspend")
        return scheduled.to_json()
    if action == "schedule":
        jobs.reschedule(scheduled, (await json_body(request, required=True)).get("schedule"))
        return scheduled.to_json()
    if action == "run":
        job = await asyncio.to_thread(jobs.run_scheduled, scheduled, principal)
        return jobs.job_json(job)
    raise NotFound(f"Unknown scheduled Job action {action!r}")


@router.put("/api/scheduled-jobs/{namespace}/{scheduled_id}/labels")
async def update_scheduled_job_labels(namespace: str, scheduled_id: str, request: Request) -> dict[str, Any]:
    jobs, _ = _caller(request, namespace, write=True)
    scheduled = jobs.get_scheduled(namespace, scheduled_id)
    jobs.set_scheduled_labels(scheduled, (await json_body(request, required=True)).get("labels"))
    return scheduled.to_json()
