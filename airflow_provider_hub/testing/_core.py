"""Shared state of the Hub emulator: identity, authentication and the change feed.

Each Hub area (repos, Spaces, jobs, endpoints, ...) keeps its state and rules in its own backend
(:mod:`airflow_provider_hub.testing.backends`); they all hang off one :class:`HubState`, which owns
the single lock that serialises mutations.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

from airflow_provider_hub.testing.errors import Unauthorized

if TYPE_CHECKING:
    from airflow_provider_hub.testing.backends.access import AccessBackend
    from airflow_provider_hub.testing.backends.collections import CollectionBackend
    from airflow_provider_hub.testing.backends.endpoints import EndpointBackend
    from airflow_provider_hub.testing.backends.jobs import JobBackend
    from airflow_provider_hub.testing.backends.likes import LikeBackend
    from airflow_provider_hub.testing.backends.providers import ProviderBackend
    from airflow_provider_hub.testing.backends.repos import RepoBackend
    from airflow_provider_hub.testing.backends.spaces import SpaceBackend
    from airflow_provider_hub.testing.backends.webhooks import WebhookBackend

DEFAULT_USER = "alice"
DEFAULT_ORG = "acme"


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

    repo_type: str  # "model" | "dataset" | "space" | "kernel"
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
    """Everything the emulator knows. Each area's backend attaches itself as an attribute."""

    # Set by each backend's ``attach``.
    repos: RepoBackend
    likes: LikeBackend
    collections: CollectionBackend
    access: AccessBackend
    webhooks: WebhookBackend
    jobs: JobBackend
    endpoints: EndpointBackend
    providers: ProviderBackend
    spaces: SpaceBackend

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
            raise Unauthorized("Invalid credentials in Authorization header")
        return Principal(user=token.user, role=token.role)

    def require_principal(self, request: Request) -> Principal:
        principal = self.principal(request)
        if principal is None:
            raise Unauthorized()
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
