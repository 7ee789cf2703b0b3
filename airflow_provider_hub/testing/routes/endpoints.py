"""Routes of the Inference Endpoints area: ``/v2/endpoint/...`` as ``HfApi`` calls it, and the stand-in
model server each running Endpoint advertises at ``status.url`` (``/_endpoints/{ns}/{name}``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_provider_hub.testing._core import Principal
from airflow_provider_hub.testing.backends.endpoints import VENDORS, EndpointBackend
from airflow_provider_hub.testing.http import json_body, state_of

router = APIRouter()


def _caller(request: Request, namespace: str, *, write: bool) -> tuple[EndpointBackend, Principal]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    hub.endpoints.authorize(principal, namespace, write=write)
    return hub.endpoints, principal


async def _body(request: Request) -> dict[str, Any]:
    return await json_body(request, required=True, not_object="Request body must be a JSON object")


@router.get("/v2/endpoint/{namespace}")
async def list_endpoints(request: Request, namespace: str) -> dict[str, Any]:
    endpoints, _ = _caller(request, namespace, write=False)
    return {"items": endpoints.list_json(namespace)}


@router.post("/v2/endpoint/{namespace}")
async def create_endpoint(request: Request, namespace: str) -> dict[str, Any]:
    endpoints, principal = _caller(request, namespace, write=True)
    return endpoints.create(principal, namespace, await _body(request))


@router.get("/v2/endpoint/{namespace}/{name}")
async def get_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    endpoints, _ = _caller(request, namespace, write=False)
    return endpoints.get_json(namespace, name)


@router.put("/v2/endpoint/{namespace}/{name}")
async def update_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    endpoints, _ = _caller(request, namespace, write=True)
    return endpoints.update(namespace, name, await _body(request))


@router.delete("/v2/endpoint/{namespace}/{name}")
async def delete_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    endpoints, _ = _caller(request, namespace, write=True)
    endpoints.delete(namespace, name)
    return {}


@router.post("/v2/endpoint/{namespace}/{name}/pause")
async def pause_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    endpoints, _ = _caller(request, namespace, write=True)
    return endpoints.pause(namespace, name)


@router.post("/v2/endpoint/{namespace}/{name}/scale-to-zero")
async def scale_to_zero_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    endpoints, _ = _caller(request, namespace, write=True)
    return endpoints.scale_to_zero(namespace, name)


@router.post("/v2/endpoint/{namespace}/{name}/resume")
async def resume_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    endpoints, _ = _caller(request, namespace, write=True)
    return endpoints.resume(namespace, name)


@router.get("/v2/provider/{namespace}")
async def list_hardware(request: Request, namespace: str) -> dict[str, Any]:
    _caller(request, namespace, write=False)
    return {"vendors": VENDORS}


# -- the stand-in model server: not the Hub, so its errors are plain 503s ---------------------------
@router.get("/_endpoints/{namespace}/{name}/health")
async def endpoint_health(request: Request, namespace: str, name: str) -> JSONResponse:
    state = state_of(request).endpoints.serving_status(namespace, name)
    if state != "running":
        return JSONResponse({"error": f"Endpoint is {state or 'missing'}"}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.post("/_endpoints/{namespace}/{name}")
async def endpoint_inference(request: Request, namespace: str, name: str) -> JSONResponse:
    """Echoes the request's ``inputs`` while the Endpoint runs."""
    state = state_of(request).endpoints.serving_status(namespace, name)
    if state != "running":
        return JSONResponse({"error": f"Endpoint is {state or 'missing'}"}, status_code=503)
    body = await request.body()
    return JSONResponse({"endpoint": f"{namespace}/{name}", "echo": body.decode("utf-8", "replace")})
