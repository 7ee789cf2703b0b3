"""The access area's backend: gated-repo access requests, and the user / organization overviews they rely on.

Managing requests needs a write token on the repo's namespace, as on the Hub. The repos area asks
:meth:`AccessBackend.has_access` whether a user may download from a gated repo.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.testing._core import Principal
from airflow_provider_hub.testing.errors import BadRequest, Forbidden, NotFound, RepoNotFound, Unauthorized

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState

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


class AccessBackend:
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
    def _check_manager(self, principal: Principal | None, repo_type: str, repo_id: str) -> None:
        """Check that ``repo_id`` is a gated repo ``principal`` may manage; the Hub's errors otherwise."""
        hub = self.hub
        namespace = repo_id.split("/", 1)[0]
        repo = hub.repos.get(repo_type, repo_id)
        if repo is None or (repo.private and not hub.can_read_namespace(principal, namespace)):
            raise RepoNotFound()
        if principal is None:
            raise Unauthorized()
        if not hub.can_write_namespace(principal, namespace):
            raise Forbidden(
                f"You don't have the rights to manage access requests of this {repo_type} repo ({repo_id})."
            )
        if not repo.gated:
            raise BadRequest(f"The {repo_type} repo {repo_id} is not gated")

    def listing(
        self, principal: Principal | None, repo_type: str, repo_id: str, status: str, *, cursor: int = 0
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of the ``status`` list from position ``cursor`` on, and the next cursor (``None`` at the end)."""
        if status not in STATUSES:
            raise NotFound(f"Unknown access request list {status!r}; expected one of {', '.join(STATUSES)}")
        self._check_manager(principal, repo_type, repo_id)
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
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        *,
        user: str | None,
        request_id: str | None,
        status: Any,
        rejection_reason: Any,
    ) -> None:
        """Move the request of ``user`` (or with ``request_id``: exactly one of them) to the ``status`` list."""
        self._check_manager(principal, repo_type, repo_id)
        if status not in STATUSES:
            raise BadRequest(f"Invalid status {status!r}; expected one of {', '.join(STATUSES)}")
        if (user is None) == (request_id is None):
            raise BadRequest("Exactly one of 'user' or 'requestId' must be given")
        if rejection_reason is not None:
            if status != "rejected":
                raise BadRequest("'rejectionReason' can only be given when rejecting a request")
            if not isinstance(rejection_reason, str) or len(rejection_reason) > MAX_REJECTION_REASON:
                raise BadRequest(
                    f"'rejectionReason' must be a string of at most {MAX_REJECTION_REASON} characters"
                )
        with self.hub.lock:
            queue = self.requests.get((repo_type, repo_id), {})
            if user is not None:
                if user not in self.hub.users:
                    raise NotFound(f"User {user} not found")
                request = queue.get(user)
            else:
                request = next((r for r in queue.values() if r.request_id == request_id), None)
            who = user if user is not None else f"with id {request_id}"
            if request is None:
                raise NotFound(f"Access request of user {who} not found on {repo_id}")
            if request.status == status:
                raise NotFound(f"Access request of user {who} is already in the {status} list")
            request.status = status
            request.rejection_reason = rejection_reason if status == "rejected" else None

    def grant(self, principal: Principal | None, repo_type: str, repo_id: str, user: Any) -> None:
        self._check_manager(principal, repo_type, repo_id)
        if not isinstance(user, str) or not user:
            raise BadRequest("'user' is required")
        with self.hub.lock:
            if user not in self.hub.users:
                raise NotFound(f"User {user} not found")
            queue = self.requests.setdefault((repo_type, repo_id), {})
            request = queue.get(user)
            if request is not None and request.status == "accepted":
                raise BadRequest(f"User {user} already has access to {repo_id}")
            if request is None:
                # A granted user never filled the form: no e-mail is shared with the owner, no fields.
                queue[user] = AccessRequest(self._new_id(), user, None, None, _iso(None), status="accepted")
                self.order.setdefault((repo_type, repo_id), []).append(queue[user])
            else:
                request.status, request.rejection_reason = "accepted", None

    # -- user and organization overviews -----------------------------------------------------------
    def user_overview(self, username: str) -> dict[str, Any]:
        hub = self.hub
        with hub.lock:
            user = hub.users.get(username)
            if user is None:
                raise NotFound(f"User {username} not found")
            return {
                "_id": f"u-{user.name}",
                "user": user.name,
                "fullname": user.fullname,
                "avatarUrl": user.avatar_url or f"/avatars/{user.name}.svg",
                "type": "user",
                "isPro": False,
                "orgs": [_org_json(hub, org) for org in sorted(user.orgs)],
            }

    def organization_overview(self, org: str) -> dict[str, Any]:
        hub = self.hub
        with hub.lock:
            if org not in hub.orgs:
                raise NotFound(f"Organization {org} not found")
            return {**_org_json(hub, org), "numUsers": len(hub.orgs[org].members)}

    def organization_members(self, org: str) -> list[dict[str, Any]]:
        hub = self.hub
        with hub.lock:
            if org not in hub.orgs:
                raise NotFound(f"Organization {org} not found")
            return [
                {
                    "user": name,
                    "fullname": hub.users[name].fullname,
                    "avatarUrl": f"/avatars/{name}.svg",
                    "type": "user",
                }
                for name in sorted(hub.orgs[org].members)
            ]


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


def _org_json(hub: HubState, name: str) -> dict[str, Any]:
    org = hub.orgs[name]
    return {
        "name": org.name,
        "fullname": org.fullname,
        "avatarUrl": f"/avatars/{org.name}.svg",
        "type": "org",
    }


def attach(hub: HubState) -> None:
    """Create this area's backend on ``hub`` (``hub.access``)."""
    hub.access = AccessBackend(hub)
