"""Routes of the access area, as ``huggingface_hub`` 2.4 calls them.

- ``GET  /api/{models|datasets|spaces}/{ns}/{name}/user-access-request/{pending|accepted|rejected}``
  (paginated with an absolute ``Link``)
- ``POST .../user-access-request/handle`` ``{"user"|"requestId", "status", "rejectionReason"?}``
  (accept, reject, cancel = back to pending)
- ``POST .../user-access-request/grant`` ``{"user"}``
- ``GET  /api/users/{user}/overview`` (with ``orgs``), ``GET /api/organizations/{org}/overview``,
  ``GET /api/organizations/{org}/members`` (paginated)

Kernel repos have no access requests: ``huggingface_hub`` refuses the calls for them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from airflow_provider_hub.testing.http import (
    api_repo_type,
    json_body,
    next_link,
    offset,
    paginated,
    repo_route,
    state_of,
    with_param,
)

router = APIRouter()


@repo_route(router, "/user-access-request/handle", ["POST"], kernels=False)
async def handle_request(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    body = await json_body(request)
    hub.access.handle(
        principal,
        api_repo_type(request),
        f"{namespace}/{name}",
        user=body.get("user"),
        request_id=body.get("requestId"),
        status=body.get("status"),
        rejection_reason=body.get("rejectionReason"),
    )
    return {"status": body["status"]}


@repo_route(router, "/user-access-request/grant", ["POST"], kernels=False)
async def grant_access(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    user = (await json_body(request)).get("user")
    hub.access.grant(principal, api_repo_type(request), f"{namespace}/{name}", user)
    return {"user": user, "status": "accepted"}


@repo_route(router, "/user-access-request/{status}", ["GET"], kernels=False)
async def list_requests(request: Request, namespace: str, name: str, status: str) -> Response:
    hub = state_of(request)
    page, next_cursor = hub.access.listing(
        hub.principal(request), api_repo_type(request), f"{namespace}/{name}", status, cursor=offset(request)
    )
    headers = (
        {"Link": next_link(request, with_param(request, "cursor", next_cursor))}
        if next_cursor is not None
        else {}
    )
    return JSONResponse(page, headers=headers)


@router.get("/api/users/{username}/overview")
async def user_overview(request: Request, username: str) -> dict[str, Any]:
    return state_of(request).access.user_overview(username)


@router.get("/api/organizations/{org}/overview")
async def organization_overview(request: Request, org: str) -> dict[str, Any]:
    return state_of(request).access.organization_overview(org)


@router.get("/api/organizations/{org}/members")
async def organization_members(request: Request, org: str) -> Response:
    access = state_of(request).access
    return paginated(request, access.organization_members(org), access.page_size)
