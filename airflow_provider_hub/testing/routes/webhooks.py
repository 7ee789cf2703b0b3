"""Routes of the webhooks area: CRUD under ``/api/settings/webhooks`` (each user sees only their own)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from airflow_provider_hub.testing._core import Principal
from airflow_provider_hub.testing.backends.webhooks import WebhookBackend
from airflow_provider_hub.testing.http import json_body, state_of

router = APIRouter()


def _caller(request: Request) -> tuple[WebhookBackend, Principal]:
    hub = state_of(request)
    return hub.webhooks, hub.require_principal(request)


@router.get("/api/settings/webhooks")
async def list_webhooks(request: Request) -> list[dict[str, Any]]:
    webhooks, principal = _caller(request)
    return webhooks.list_for(principal)


@router.post("/api/settings/webhooks")
async def create_webhook(request: Request) -> dict[str, Any]:
    webhooks, principal = _caller(request)
    body = await json_body(request, required=True)
    return {"webhook": webhooks.public_view(webhooks.create(principal, body))}


@router.get("/api/settings/webhooks/{webhook_id}")
async def get_webhook(webhook_id: str, request: Request) -> dict[str, Any]:
    webhooks, principal = _caller(request)
    return {"webhook": webhooks.public_view(webhooks.get(principal, webhook_id))}


@router.post("/api/settings/webhooks/{webhook_id}")
async def update_webhook(webhook_id: str, request: Request) -> dict[str, Any]:
    webhooks, principal = _caller(request)
    body = await json_body(request, required=True)
    return {"webhook": webhooks.public_view(webhooks.update(principal, webhook_id, body))}


@router.post("/api/settings/webhooks/{webhook_id}/enable")
async def enable_webhook(webhook_id: str, request: Request) -> dict[str, Any]:
    webhooks, principal = _caller(request)
    return {"webhook": webhooks.public_view(webhooks.set_disabled(principal, webhook_id, False))}


@router.post("/api/settings/webhooks/{webhook_id}/disable")
async def disable_webhook(webhook_id: str, request: Request) -> dict[str, Any]:
    webhooks, principal = _caller(request)
    return {"webhook": webhooks.public_view(webhooks.set_disabled(principal, webhook_id, True))}


@router.delete("/api/settings/webhooks/{webhook_id}")
async def delete_webhook(webhook_id: str, request: Request) -> dict[str, Any]:
    webhooks, principal = _caller(request)
    webhooks.delete(principal, webhook_id)
    return {}
