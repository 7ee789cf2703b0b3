"""Emulator area: gated-repo access requests, and the user / organization overviews they rely on.

Routes (as ``huggingface_hub`` 2.4 calls them):

- ``GET  /api/{models|datasets|spaces}/{ns}/{name}/user-access-request/{pending|accepted|rejected}``
  (paginated with an absolute ``Link``)
- ``POST .../user-access-request/handle`` ``{"user"|"requestId", "status", "rejectionReason"?}``
  (accept, reject, cancel = back to pending)
- ``POST .../user-access-request/grant`` ``{"user"}``
- ``GET  /api/users/{user}/overview`` (with ``orgs``), ``GET /api/organizations/{org}/overview``,
  ``GET /api/organizations/{org}/members`` (paginated)

Managing requests needs a write token on the repo's namespace, as on the Hub.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from airflow_provider_hub.testing._core import HubError, HubState, Principal, not_found, state_of
from airflow_provider_hub.testing._repos import PLURALS, _json_body, _next_link, _page

STATUSES = ("pending", "accepted", "rejected")
#: The Hub's limit on ``rejectionReason``.
MAX_REJECTION_REASON = 200


@dataclass
class AccessRequest:
    """One user's request on one gated repo (at most one per user and repo, as on the Hub)."""

    request_id: str
    user: str
    email: str | None
    fields: dict[str, Any] | None
    timestamp: str
    status: str = "pending"
    rejection_reason: str | None = None


def _iso(value: Any) -> str:
    """A request timestamp as the Hub writes it (``2026-11-22T10:00:00.000Z``)."""
    if value is None:
        value = time.time()
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise ValueError(f"timestamp must be an ISO string, a datetime or epoch seconds; got {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class AccessStore:
    """Access requests of every gated repo, keyed by ``(repo_type, repo_id)`` then user.

    ``page_size`` (tunable in tests) is the listing page size.
    """

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        self.requests: dict[tuple[str, str], dict[str, AccessRequest]] = {}
        # Every request of a repo in arrival order: listing cursors are positions in it, so they stay
        # valid while requests move between lists (a client deciding while it paginates misses none).
        self.order: dict[tuple[str, str], list[AccessRequest]] = {}
        self.page_size = 1000
        self._ids = itertools.count(1)

    # -- Python API (seeding, the repos area's gate) -------------------------------------------------
    def add_requests(
        self, repo_id: str, requests: Sequence[Mapping[str, Any]], *, repo_type: str = "model"
    ) -> None:
        """Queue pending requests (``user``, optional ``email``, ``fields``, ``timestamp``).

        Missing users are created. A repo that does not exist is created gated ``"manual"``; an existing
        repo that is not gated becomes gated ``"manual"`` (requests only exist on gated repos).
        """
        parsed = []
        for request in requests:
            if not isinstance(request, Mapping) or not isinstance(request.get("user"), str):
                raise ValueError(f"each access request needs a 'user' name; got {request!r}")
            fields = request.get("fields")
            if fields is not None and not isinstance(fields, Mapping):
                raise ValueError(f"'fields' of {request['user']!r} must be a mapping; got {fields!r}")
            parsed.append((request["user"], request.get("email"), fields, _iso(request.get("timestamp"))))
        hub = self.hub
        with hub.lock:
            repo = hub.repos.get(repo_type, repo_id)
            if repo is None:
                hub.repos.ensure(repo_type, repo_id, gated="manual")
            elif not repo.gated:
                repo.gated = "manual"
                hub.repos.save()
            queue = self.requests.setdefault((repo_type, repo_id), {})
            order = self.order.setdefault((repo_type, repo_id), [])
            for user, email, fields, timestamp in parsed:
                if user not in hub.users:
                    hub.add_user(user, email=email)
                new = AccessRequest(
                    request_id=self._new_id(),
                    user=user,
                    email=email or hub.users[user].email,
                    fields=dict(fields) if fields is not None else None,
                    timestamp=timestamp,
                )
                if user in queue:  # asking again replaces the old request, in its place
                    order[order.index(queue[user])] = new
                else:
                    order.append(new)
                queue[user] = new

    def has_access(self, repo_type: str, repo_id: str, user: str) -> bool:
        """Whether ``user`` may read the gated repo: a member of its namespace, or an accepted requester."""
        with self.hub.lock:
            if self.hub.can_read_namespace(Principal(user=user, role="read"), repo_id.split("/", 1)[0]):
                return True
            request = self.requests.get((repo_type, repo_id), {}).get(user)
            return request is not None and request.status == "accepted"

    def status_of(self, repo_type: str, repo_id: str, user: str) -> str | None:
        """The status of ``user``'s request (``None`` without one), for tests."""
        with self.hub.lock:
            request = self.requests.get((repo_type, repo_id), {}).get(user)
            return request.status if request else None

    def _new_id(self) -> str:
        return f"{next(self._ids):08x}{secrets.token_hex(8)}"

    # -- operations behind the routes ----------------------------------------------------------------
    def listing(
        self, repo_type: str, repo_id: str, status: str, *, cursor: int = 0
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of the ``status`` list from position ``cursor`` on, and the next cursor (``None`` at the end)."""
        with self.hub.lock:
            order = self.order.get((repo_type, repo_id), [])
            page: list[dict[str, Any]] = []
            position = cursor
            while position < len(order) and len(page) < self.page_size:
                if order[position].status == status:
                    page.append(_request_json(self.hub, order[position]))
                position += 1
            more = any(r.status == status for r in order[position:])
            return page, position if more else None

    def handle(
        self,
        repo_type: str,
        repo_id: str,
        *,
        user: str | None,
        request_id: str | None,
        status: str,
        rejection_reason: str | None,
    ) -> None:
        with self.hub.lock:
            queue = self.requests.get((repo_type, repo_id), {})
            if user is not None:
                if user not in self.hub.users:
                    raise HubError(404, f"User {user} not found")
                request = queue.get(user)
            else:
                request = next((r for r in queue.values() if r.request_id == request_id), None)
            who = user if user is not None else f"with id {request_id}"
            if request is None:
                raise HubError(404, f"Access request of user {who} not found on {repo_id}")
            if request.status == status:
                raise HubError(404, f"Access request of user {who} is already in the {status} list")
            request.status = status
            request.rejection_reason = rejection_reason if status == "rejected" else None

    def grant(self, repo_type: str, repo_id: str, user: str) -> None:
        with self.hub.lock:
            if user not in self.hub.users:
                raise HubError(404, f"User {user} not found")
            queue = self.requests.setdefault((repo_type, repo_id), {})
            request = queue.get(user)
            if request is not None and request.status == "accepted":
                raise HubError(400, f"User {user} already has access to {repo_id}")
            if request is None:
                # A granted user never filled the form: no e-mail is shared with the owner, no fields.
                queue[user] = AccessRequest(self._new_id(), user, None, None, _iso(None), status="accepted")
                self.order.setdefault((repo_type, repo_id), []).append(queue[user])
            else:
                request.status, request.rejection_reason = "accepted", None


def _request_json(hub: HubState, request: AccessRequest) -> dict[str, Any]:
    account = hub.users.get(request.user)
    user: dict[str, Any] = {
        "user": request.user,
        "fullname": account.fullname if account else request.user,
        "avatarUrl": f"/avatars/{request.user}.svg",
        "type": "user",
    }
    if request.email is not None:
        user["email"] = request.email
    body: dict[str, Any] = {
        "user": user,
        "requestId": request.request_id,
        "status": request.status,
        "timestamp": request.timestamp,
    }
    if request.fields is not None:
        body["fields"] = request.fields
    if request.rejection_reason is not None:
        body["rejectionReason"] = request.rejection_reason
    return body


def attach(hub: HubState) -> None:
    """Create this area's store on ``hub`` (``hub.access``)."""
    hub.access = AccessStore(hub)


# -- routes -----------------------------------------------------------------------------------------
router = APIRouter()


def _managed_repo(request: Request, namespace: str, name: str) -> tuple[AccessStore, str, str]:
    """The store, repo type and id of a gated repo the caller may manage; the Hub's errors otherwise."""
    hub = state_of(request)
    repo_type = PLURALS[request.scope["path"].split("/")[2]]
    repo_id = f"{namespace}/{name}"
    principal = hub.principal(request)
    repo = hub.repos.get(repo_type, repo_id)
    if repo is None or (repo.private and not hub.can_read_namespace(principal, namespace)):
        raise not_found("RepoNotFound", "Repository not found")
    if principal is None:
        raise HubError(401, "You must be authenticated to access this resource. Please provide a token.")
    if not hub.can_write_namespace(principal, namespace):
        raise HubError(
            403, f"You don't have the rights to manage access requests of this {repo_type} repo ({repo_id})."
        )
    if not repo.gated:
        raise HubError(400, f"The {repo_type} repo {repo_id} is not gated")
    return hub.access, repo_type, repo_id


async def list_requests(request: Request, namespace: str, name: str, status: str) -> Response:
    if status not in STATUSES:
        raise HubError(404, f"Unknown access request list {status!r}; expected one of {', '.join(STATUSES)}")
    store, repo_type, repo_id = _managed_repo(request, namespace, name)
    try:
        cursor = max(int(request.query_params.get("cursor", "0")), 0)
    except ValueError as exc:
        raise HubError(400, "Invalid cursor") from exc
    page, next_cursor = store.listing(repo_type, repo_id, status, cursor=cursor)
    headers = {"Link": _next_link(request, "cursor", next_cursor)} if next_cursor is not None else {}
    return JSONResponse(page, headers=headers)


async def handle_request(request: Request, namespace: str, name: str) -> dict[str, Any]:
    store, repo_type, repo_id = _managed_repo(request, namespace, name)
    body = await _json_body(request)
    status = body.get("status")
    if status not in STATUSES:
        raise HubError(400, f"Invalid status {status!r}; expected one of {', '.join(STATUSES)}")
    user, request_id = body.get("user"), body.get("requestId")
    if (user is None) == (request_id is None):
        raise HubError(400, "Exactly one of 'user' or 'requestId' must be given")
    reason = body.get("rejectionReason")
    if reason is not None:
        if status != "rejected":
            raise HubError(400, "'rejectionReason' can only be given when rejecting a request")
        if not isinstance(reason, str) or len(reason) > MAX_REJECTION_REASON:
            raise HubError(
                400, f"'rejectionReason' must be a string of at most {MAX_REJECTION_REASON} characters"
            )
    store.handle(repo_type, repo_id, user=user, request_id=request_id, status=status, rejection_reason=reason)
    return {"status": status}


async def grant_access(request: Request, namespace: str, name: str) -> dict[str, Any]:
    store, repo_type, repo_id = _managed_repo(request, namespace, name)
    body = await _json_body(request)
    user = body.get("user")
    if not isinstance(user, str) or not user:
        raise HubError(400, "'user' is required")
    store.grant(repo_type, repo_id, user)
    return {"user": user, "status": "accepted"}


for _plural in PLURALS:
    _base = f"/api/{_plural}/{{namespace}}/{{name}}/user-access-request"
    router.add_api_route(f"{_base}/handle", handle_request, methods=["POST"])
    router.add_api_route(f"{_base}/grant", grant_access, methods=["POST"])
    router.add_api_route(f"{_base}/{{status}}", list_requests, methods=["GET"])


def _org_json(hub: HubState, name: str) -> dict[str, Any]:
    org = hub.orgs[name]
    return {
        "name": org.name,
        "fullname": org.fullname,
        "avatarUrl": f"/avatars/{org.name}.svg",
        "type": "org",
    }


@router.get("/api/users/{username}/overview")
async def user_overview(request: Request, username: str) -> dict[str, Any]:
    hub = state_of(request)
    with hub.lock:
        user = hub.users.get(username)
        if user is None:
            raise HubError(404, f"User {username} not found")
        return {
            "_id": f"u-{user.name}",
            "user": user.name,
            "fullname": user.fullname,
            "avatarUrl": user.avatar_url or f"/avatars/{user.name}.svg",
            "type": "user",
            "isPro": False,
            "orgs": [_org_json(hub, org) for org in sorted(user.orgs)],
        }


@router.get("/api/organizations/{org}/overview")
async def organization_overview(request: Request, org: str) -> dict[str, Any]:
    hub = state_of(request)
    with hub.lock:
        if org not in hub.orgs:
            raise HubError(404, f"Organization {org} not found")
        return {**_org_json(hub, org), "numUsers": len(hub.orgs[org].members)}


@router.get("/api/organizations/{org}/members")
async def organization_members(request: Request, org: str) -> Response:
    hub = state_of(request)
    with hub.lock:
        if org not in hub.orgs:
            raise HubError(404, f"Organization {org} not found")
        members = [
            {
                "user": name,
                "fullname": hub.users[name].fullname,
                "avatarUrl": f"/avatars/{name}.svg",
                "type": "user",
            }
            for name in sorted(hub.orgs[org].members)
        ]
    page, headers = _page(request, members, hub.access.page_size)
    return JSONResponse(page, headers=headers)
