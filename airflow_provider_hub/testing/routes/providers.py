"""Routes of the Inference Providers router (``/v1/models``); the Hub side is served by the repos routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from airflow_provider_hub.testing.http import state_of

router = APIRouter()


@router.get("/v1/models")
async def router_models(request: Request) -> dict[str, Any]:
    hub = state_of(request)
    hub.principal(request)  # a bad token is a 401, as on the router
    return {"object": "list", "data": hub.providers.router_models()}


@router.get("/v1/models/{owner}/{name}")
async def router_model(request: Request, owner: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    hub.principal(request)
    return hub.providers.router_model(f"{owner}/{name}")
