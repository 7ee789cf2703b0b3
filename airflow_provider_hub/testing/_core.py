"""Shared state of the Hub emulator: identity, errors, authentication and the change feed.

Each Hub area (repos, jobs, endpoints, ...) keeps its own store in its own module; they all
hang off one :class:`HubState`, which owns the single lock that serialises mutations.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from fastapi import Request
from fastapi.responses import JSONResponse

DEFAULT_USER = "alice"
DEFAULT_ORG = "acme"


class HubError(Exception):
    """An error answered the way the Hub answers it.

    ``code`` becomes ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``,
    ``GatedRepo``): over plain http the client relies on it to raise the right error class.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.body = body
        self.headers = headers or {}

    def to_response(self) -> JSONResponse:
        # Header values must be latin-1: a repo or user name outside it would otherwise turn the error into a 500.
        safe_message = self.message.replace("\n", " ").encode("latin-1", "backslashreplace").decode("latin-1")
        headers = {"X-Error-Message": safe_message, **self.headers}
        if self.code:
            headers["X-Error-Code"] = self.code
        return JSONResponse(
            {"error": self.message, **(self.body or {})}, status_code=self.status, headers=headers
        )


def not_found(kind: str, message: str) -> HubError:
    """404 with the Hub's error code (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``)."""
    return HubError(404, message, code=kind)


def unquote_segment(value: str) -> str:
    """Decode one path segment (revisions arrive as ONE segment: ``refs%2Fpr%2F1``)."""
    return unquote(value)


@dataclass
class User:
    name: str
    fullname: str
    email: str
    orgs: set[str] = field(default_factory=set)
    avatar_url: str = ""


@dataclass
class Org:
    name: str
    fullname: str
    members: set[str] = field(default_factory=set)


@dataclass
class Token:
    value: str
    user: str
    role: str  # "read" | "write"
    name: str = "emulator"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user and the role of the token used."""

    user: str
    role: str

    @property
    def can_write(self) -> bool:
        return self.role == "write"


@dataclass
class RepoChange:
    """One change to a repo, published to subscribers (webhook deliveries, tests).

    ``scope`` / ``action`` follow the Hub's webhook payload (``repo.content`` + ``update``,
    ``repo`` + ``create|delete|move|update``, ``discussion`` + ``create``, ...).
    """

    repo_type: str  # "model" | "dataset" | "space"
    repo_id: str
    scope: str
    action: str
    private: bool = False
    head_sha: str | None = None
    updated_refs: list[dict[str, Any]] = field(default_factory=list)
    discussion: dict[str, Any] | None = None
    moved_to: str | None = None
    at: float = field(default_factory=time.time)


class HubState:
    """Everything the emulator knows. Area stores attach themselves as attributes."""

    # Set by each area's ``attach`` (typed loosely: the area modules import this one).
    repos: Any
    access: Any
    webhooks: Any
    jobs: Any
    endpoints: Any
    providers: Any

    def __init__(self, *, seed: int = 0, data_dir: str | None = None, jobs_mode: str = "simulate") -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.data_dir = data_dir
        self.jobs_mode = jobs_mode
        self.base_url = "http://127.0.0.1"
        self.users: dict[str, User] = {}
        self.orgs: dict[str, Org] = {}
        self.tokens: dict[str, Token] = {}
        self._change_listeners: list[Callable[[RepoChange], None]] = []
        self._closers: list[Callable[[], None]] = []

    # -- identity -----------------------------------------------------------------------------------
    def add_user(
        self,
        name: str,
        *,
        fullname: str | None = None,
        email: str | None = None,
        token: str | None = None,
        orgs: tuple[str, ...] | list[str] = (),
    ) -> str:
        with self.lock:
            user = self.users.get(name)
            if user is None:
                user = User(
                    name=name, fullname=fullname or name.title(), email=email or f"{name}@example.com"
                )
                self.users[name] = user
            else:
                user.fullname = fullname or user.fullname
                user.email = email or user.email
            for org in orgs:
                self.add_org(org, members=(name,))
            return self.add_token(name, token=token)

    def add_org(
        self, name: str, *, fullname: str | None = None, members: tuple[str, ...] | list[str] = ()
    ) -> None:
        with self.lock:
            org = self.orgs.setdefault(name, Org(name=name, fullname=fullname or name.title()))
            if fullname:
                org.fullname = fullname
            for member in members:
                if member not in self.users:
                    self.add_user(member)
                org.members.add(member)
                self.users[member].orgs.add(name)

    def add_token(self, user: str, *, role: str = "write", token: str | None = None) -> str:
        if role not in ("read", "write"):
            raise ValueError(f"role must be 'read' or 'write', got {role!r}")
        with self.lock:
            if user not in self.users:
                self.add_user(user)
                # add_user minted a token of its own; the caller asked for this one.
            value = token or f"hf_emu_{secrets.token_hex(12)}"
            self.tokens[value] = Token(value=value, user=user, role=role)
            return value

    def namespace_exists(self, namespace: str) -> bool:
        return namespace in self.users or namespace in self.orgs

    def can_write_namespace(self, principal: Principal | None, namespace: str) -> bool:
        if principal is None or not principal.can_write:
            return False
        if principal.user == namespace:
            return True
        org = self.orgs.get(namespace)
        return org is not None and principal.user in org.members

    def can_read_namespace(self, principal: Principal | None, namespace: str) -> bool:
        if principal is None:
            return False
        if principal.user == namespace:
            return True
        org = self.orgs.get(namespace)
        return org is not None and principal.user in org.members

    def principal(self, request: Request) -> Principal | None:
        """The caller, from ``Authorization: Bearer``; ``None`` when anonymous.

        An unknown token is a 401 with the Hub's message, as on the Hub.
        """
        header = request.headers.get("authorization", "")
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        return Principal(user=token.user, role=token.role)

    def require_principal(self, request: Request) -> Principal:
        principal = self.principal(request)
        if principal is None:
            raise HubError(401, "You must be authenticated to access this resource. Please provide a token.")
        return principal

    def whoami(self, principal: Principal) -> dict[str, Any]:
        user = self.users[principal.user]
        return {
            "type": "user",
            "id": f"u-{user.name}",
            "name": user.name,
            "fullname": user.fullname,
            "email": user.email,
            "emailVerified": True,
            "isPro": False,
            "avatarUrl": user.avatar_url or f"/avatars/{user.name}.svg",
            "orgs": [
                {"type": "org", "name": org, "fullname": self.orgs[org].fullname, "roleInOrg": "write"}
                for org in sorted(user.orgs)
            ],
            "auth": {
                "type": "access_token",
                "accessToken": {"displayName": "emulator", "role": principal.role},
            },
        }

    def close(self) -> None:
        """Stop background work of every area (Job processes, webhook deliveries)."""
        for closer in list(self._closers):
            closer()

    def on_close(self, closer: Callable[[], None]) -> None:
        self._closers.append(closer)

    # -- change feed --------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[RepoChange], None]) -> None:
        self._change_listeners.append(listener)

    def publish(self, change: RepoChange) -> None:
        """Tell subscribers (webhooks, ...) about a repo change. Called after the change is visible."""
        for listener in list(self._change_listeners):
            listener(change)


def state_of(request: Request) -> HubState:
    return request.app.state.hub
