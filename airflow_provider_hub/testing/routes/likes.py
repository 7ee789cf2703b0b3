"""Routes of the likes area, as ``huggingface_hub`` 2.4 calls them.

- ``DELETE /api/{models|datasets|spaces}/{ns}/{name}/like`` (``unlike``; there is no route to like)
- ``GET    /api/{models|datasets|spaces}/{ns}/{name}/likers`` (Link-paginated ``{"user", "fullname", "avatarUrl"}``)
- ``GET    /api/users/{user}/likes`` (Link-paginated ``{"createdAt", "repo": {"name", "type"}}``)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from airflow_provider_hub.testing.http import api_repo_type, paginated, repo_route, state_of

router = APIRouter()


@repo_route(router, "/like", ["DELETE"])
async def unlike(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    hub.likes.unlike(hub.require_principal(request), api_repo_type(request), f"{namespace}/{name}")
    return {}


@repo_route(router, "/likers", ["GET"])
async def list_likers(request: Request, namespace: str, name: str) -> Response:
    hub = state_of(request)
    likers = hub.likes.likers(hub.principal(request), api_repo_type(request), f"{namespace}/{name}")
    return paginated(request, likers, hub.likes.page_size)


@router.get("/api/users/{username}/likes")
async def list_liked_repos(request: Request, username: str) -> Response:
    hub = state_of(request)
    return paginated(request, hub.likes.liked_by(hub.principal(request), username), hub.likes.page_size)
