"""Routes of the repos area for discussions and pull requests: open, list, details, comment (edit, hide),
rename, status, merge.

The listing is not Link-paginated: ``?p=N`` pages of :data:`DISCUSSIONS_PAGE_SIZE` with a ``count``
the client pages against (a ``count`` that ignored the filters would make it loop forever).
Kernel repos have none: ``huggingface_hub`` refuses every discussion call for them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from airflow_provider_hub.testing.backends.repo_model import discussion_json, discussion_summary
from airflow_provider_hub.testing.backends.repos import DISCUSSIONS_PAGE_SIZE
from airflow_provider_hub.testing.http import api_repo_type, base_url, json_body, repo_route, state_of

router = APIRouter()


@repo_route(router, "/discussions", ["POST"], kernels=False)
async def create_discussion(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    body = await json_body(request)
    repo, discussion = hub.repos.create_discussion(
        principal,
        api_repo_type(request),
        f"{namespace}/{name}",
        title=str(body.get("title") or "").strip(),
        description=str(body.get("description") or ""),
        pull_request=bool(body.get("pullRequest")),
        base=base_url(request),
    )
    return {**discussion_json(repo, discussion, base_url(request)), "pullRequest": discussion.is_pull_request}


@repo_route(router, "/discussions", ["GET"], kernels=False)
async def list_discussions(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    params = request.query_params
    repo, discussions = hub.repos.discussions(
        hub.principal(request),
        api_repo_type(request),
        f"{namespace}/{name}",
        pull_requests={"pull_request": True, "discussion": False}.get(params.get("type", "all")),
        status=params.get("status", "all"),
        author=params.get("author"),
    )
    matching = [discussion_summary(repo, d) for d in discussions]
    start = int(params["p"]) * DISCUSSIONS_PAGE_SIZE if params.get("p", "").isdigit() else 0
    return {
        "discussions": matching[start : start + DISCUSSIONS_PAGE_SIZE],
        "count": len(matching),
        "start": start,
        "numClosedDiscussions": sum(1 for d in matching if d["status"] == "closed"),
    }


@repo_route(router, "/discussions/{num}", ["GET"], kernels=False)
async def discussion_details(request: Request, namespace: str, name: str, num: int) -> dict[str, Any]:
    hub = state_of(request)
    return hub.repos.discussion_details(
        hub.principal(request), api_repo_type(request), f"{namespace}/{name}", num
    )


@repo_route(router, "/discussions/{num}/comment", ["POST"], kernels=False)
async def comment_discussion(request: Request, namespace: str, name: str, num: int) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    comment = str((await json_body(request)).get("comment") or "").strip()
    event = hub.repos.comment(
        principal, api_repo_type(request), f"{namespace}/{name}", num, comment, base_url(request)
    )
    return {"newMessage": event}


@repo_route(router, "/discussions/{num}/comment/{comment_id}/edit", ["POST"], kernels=False)
async def edit_comment(
    request: Request, namespace: str, name: str, num: int, comment_id: str
) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    content = str((await json_body(request)).get("content") or "")
    comment = hub.repos.edit_comment(
        principal, api_repo_type(request), f"{namespace}/{name}", num, comment_id, content
    )
    return {"updatedComment": comment}


@repo_route(router, "/discussions/{num}/comment/{comment_id}/hide", ["POST"], kernels=False)
async def hide_comment(
    request: Request, namespace: str, name: str, num: int, comment_id: str
) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    comment = hub.repos.hide_comment(
        principal, api_repo_type(request), f"{namespace}/{name}", num, comment_id
    )
    return {"updatedComment": comment}


@repo_route(router, "/discussions/{num}/title", ["POST"], kernels=False)
async def rename_discussion(request: Request, namespace: str, name: str, num: int) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    title = str((await json_body(request)).get("title") or "")
    event = hub.repos.rename(
        principal, api_repo_type(request), f"{namespace}/{name}", num, title, base_url(request)
    )
    return {"newTitle": event}


@repo_route(router, "/discussions/{num}/status", ["POST"], kernels=False)
async def change_discussion_status(request: Request, namespace: str, name: str, num: int) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    body = await json_body(request)
    event = hub.repos.change_status(
        principal,
        api_repo_type(request),
        f"{namespace}/{name}",
        num,
        body.get("status"),
        str(body["comment"]) if body.get("comment") else None,
        base_url(request),
    )
    return {"newStatus": event}


@repo_route(router, "/discussions/{num}/merge", ["POST"], kernels=False)
async def merge_pull_request(request: Request, namespace: str, name: str, num: int) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    body = await json_body(request)
    hub.repos.merge(
        principal,
        api_repo_type(request),
        f"{namespace}/{name}",
        num,
        str(body["comment"]) if body.get("comment") else None,
        base_url(request),
    )
    return {}
