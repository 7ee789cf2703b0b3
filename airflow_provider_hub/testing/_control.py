"""``/_emulator/...``: the seeding and fault API of :class:`HubEmulator`, over HTTP.

``POST /_emulator/<method>`` with the keyword arguments as a JSON object calls the method of the
same name and answers ``{"result": ...}``; e.g. ``POST /_emulator/add_user {"name": "bob"}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from airflow_provider_hub.testing.errors import BadRequest, NotFound

CONTROL_METHODS = frozenset(
    {
        "add_user",
        "add_org",
        "add_token",
        "add_repo",
        "add_like",
        "add_access_requests",
        "set_job_plan",
        "set_endpoint_plan",
        "set_space_plan",
        "set_inference_providers",
        "inject_fault",
        "remove_fault",
        "clear_faults",
        "request_count",
        "reset_counts",
        "bytes_received",
        "set_commit_limits",
        "webhook_deliveries",
        "reset",
    }
)

router = APIRouter(prefix="/_emulator")


@router.get("/{method}")
@router.post("/{method}")
async def control(method: str, request: Request) -> dict[str, Any]:
    if method not in CONTROL_METHODS:
        raise NotFound(f"Unknown emulator control {method!r}; known: {', '.join(sorted(CONTROL_METHODS))}")
    kwargs: dict[str, Any] = dict(request.query_params)
    if request.method == "POST" and await request.body():
        body = await request.json()
        if not isinstance(body, dict):
            raise BadRequest(
                "The body of an emulator control call must be a JSON object of keyword arguments"
            )
        kwargs.update(body)
    emulator = request.app.state.control
    try:
        return {"result": getattr(emulator, method)(**kwargs)}
    except (TypeError, ValueError, KeyError) as exc:
        raise BadRequest(f"{method}: {exc}") from exc
