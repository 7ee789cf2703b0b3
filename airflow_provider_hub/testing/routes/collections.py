"""Routes of the collections area, as ``huggingface_hub`` 2.4 calls them.

- ``GET  /api/collections?owner=&item=&sort=&limit=`` (repeated ``owner``/``item``; Link-paginated)
- ``POST /api/collections`` ``{"title", "namespace", "private", "description"?, "resourceGroupId"?}``
- ``GET|PATCH|DELETE /api/collections/{owner}/{slug}`` (``PATCH`` answers ``{"data": collection}``)
- ``POST /api/collections/{owner}/{slug}/items`` ``{"item": {"id", "type"}, "note"?}``
- ``PATCH|DELETE /api/collections/{owner}/{slug}/items/{item_object_id}`` (the client reads no answer)
- ``POST /api/collections/{owner}/{slug}/resource-group`` ``{"resourceGroupId": id | null}``

A slug has one ``/``, so its two halves are two path segments here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from airflow_provider_hub.testing.http import json_body, paginated, state_of

router = APIRouter()


@router.get("/api/collections")
async def list_collections(request: Request) -> Response:
    hub = state_of(request)
    params = request.query_params
    found = hub.collections.listing(
        hub.principal(request),
        owners=params.getlist("owner"),
        items=params.getlist("item"),
        sort=params.get("sort"),
    )
    page_size = hub.collections.page_size
    if params.get("limit", "").isdigit():
        page_size = max(1, min(int(params["limit"]), page_size))
    return paginated(request, found, page_size)


@router.post("/api/collections")
async def create_collection(request: Request) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    body = await json_body(request, required=True)
    collection = hub.collections.create(
        principal,
        title=body.get("title"),
        namespace=body.get("namespace"),
        description=body.get("description"),
        private=body.get("private", False),
        resource_group_id=body.get("resourceGroupId"),
    )
    return hub.collections.render(collection, principal)


@router.get("/api/collections/{owner}/{slug}")
async def get_collection(request: Request, owner: str, slug: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    return hub.collections.render(hub.collections.readable(principal, f"{owner}/{slug}"), principal)


@router.patch("/api/collections/{owner}/{slug}")
async def update_collection(request: Request, owner: str, slug: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    changes = await json_body(request)
    collection = hub.collections.update(principal, f"{owner}/{slug}", changes)
    return {"data": hub.collections.render(collection, principal)}


@router.delete("/api/collections/{owner}/{slug}")
async def delete_collection(request: Request, owner: str, slug: str) -> dict[str, Any]:
    hub = state_of(request)
    hub.collections.delete(hub.require_principal(request), f"{owner}/{slug}")
    return {}


@router.post("/api/collections/{owner}/{slug}/resource-group")
async def update_resource_group(request: Request, owner: str, slug: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    body = await json_body(request)
    hub.collections.set_resource_group(principal, f"{owner}/{slug}", body.get("resourceGroupId"))
    return {}


@router.post("/api/collections/{owner}/{slug}/items")
async def add_item(request: Request, owner: str, slug: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    body = await json_body(request, required=True)
    collection = hub.collections.add_item(principal, f"{owner}/{slug}", body.get("item"), body.get("note"))
    return hub.collections.render(collection, principal)


@router.patch("/api/collections/{owner}/{slug}/items/{item_object_id}")
async def update_item(request: Request, owner: str, slug: str, item_object_id: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    changes = await json_body(request)
    collection = hub.collections.update_item(principal, f"{owner}/{slug}", item_object_id, changes)
    return hub.collections.render(collection, principal)


@router.delete("/api/collections/{owner}/{slug}/items/{item_object_id}")
async def delete_item(request: Request, owner: str, slug: str, item_object_id: str) -> dict[str, Any]:
    hub = state_of(request)
    hub.collections.delete_item(hub.require_principal(request), f"{owner}/{slug}", item_object_id)
    return {}
