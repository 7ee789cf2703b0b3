"""The likes area's backend: which users like which repos.

On the Hub likes are public: anyone may list a repo's likers (``list_repo_likers``) and a user's liked
repos (``list_liked_repos``), newest first; a private repo's likes show only to those who may read the
repo. A script cannot like a repo (``huggingface_hub`` 2.4 has no ``like``, to prevent spam), only
unlike one, so likes are seeded with :meth:`LikeBackend.add_like` (``HubEmulator.add_like``). A repo's
``likes`` count in its info is :meth:`LikeBackend.count`.

Likes belong to the repo: they follow it when it moves and go when it is deleted (the repos area's
change feed says so). They live in memory, like access requests: ``data_dir`` does not keep them.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.testing._core import Principal, RepoChange
from airflow_provider_hub.testing.backends.repo_model import iso
from airflow_provider_hub.testing.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState
    from airflow_provider_hub.testing.backends.repo_model import Repo


@dataclass(frozen=True)
class Like:
    """One user's like; ``order`` ranks likes made within the clock's resolution."""

    user: str
    liked_at: float
    order: int


class LikeBackend:
    """The likes of every repo, keyed by repo type and lowercased id (repo ids match in any case).

    ``page_size`` (tunable in tests) is the page size of both listings.
    """

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        self._likes: dict[tuple[str, str], dict[str, Like]] = {}
        self.page_size = 1000
        self._order = itertools.count()
        hub.subscribe(self._on_change)

    # -- seeding and the repos area ------------------------------------------------------------------
    def add_like(self, user: str, repo_id: str, *, repo_type: str = "model") -> None:
        """``user`` likes the repo (again: no change). A missing user is created; the repo must exist and
        be readable by the user (``RepoNotFound`` otherwise)."""
        hub = self.hub
        with hub.lock:
            if user not in hub.users:
                hub.add_user(user)
            repo = hub.repos.readable(repo_type, repo_id, Principal(user=user, role="read"))
            likes = self._likes.setdefault(_key(repo), {})
            if user not in likes:
                likes[user] = Like(user, time.time(), next(self._order))

    def count(self, repo_type: str, repo_id: str) -> int:
        """The repo's number of likes (its info's ``likes``)."""
        with self.hub.lock:
            return len(self._likes.get((repo_type, repo_id.lower()), {}))

    def has_liked(self, user: str, repo_type: str, repo_id: str) -> bool:
        with self.hub.lock:
            return user in self._likes.get((repo_type, repo_id.lower()), {})

    # -- operations behind the routes ----------------------------------------------------------------
    def unlike(self, principal: Principal, repo_type: str, repo_id: str) -> None:
        """Remove the caller's like; a repo they did not like is left as it is. A missing repo (or a private
        one the caller cannot read) is ``RepoNotFound``; a read token changes nothing (403)."""
        with self.hub.lock:
            repo = self.hub.repos.readable(repo_type, repo_id, principal)
            if not principal.can_write:
                raise Forbidden("You need a write token to unlike a repo")
            self._likes.get(_key(repo), {}).pop(principal.user, None)

    def likers(self, principal: Principal | None, repo_type: str, repo_id: str) -> list[dict[str, Any]]:
        """The repo's likers, newest like first, as ``list_repo_likers`` reads them (all three keys required)."""
        hub = self.hub
        with hub.lock:
            repo = hub.repos.readable(repo_type, repo_id, principal)
            return [
                {
                    "user": like.user,
                    "fullname": hub.users[like.user].fullname,
                    "avatarUrl": hub.users[like.user].avatar_url or f"/avatars/{like.user}.svg",
                    "type": "user",
                }
                for like in _newest_first(self._likes.get(_key(repo), {}).values())
            ]

    def liked_by(self, principal: Principal | None, user: str) -> list[dict[str, Any]]:
        """The repos ``user`` likes, newest like first, that the caller may read: ``{"createdAt", "repo":
        {"name", "type"}}`` items, as ``list_liked_repos`` groups them by type."""
        hub = self.hub
        with hub.lock:
            if user not in hub.users:
                raise NotFound(f"User {user} not found")
            liked: list[tuple[Like, Repo]] = []
            for (repo_type, repo_id), likes in self._likes.items():
                repo = hub.repos.get(repo_type, repo_id)
                if user not in likes or repo is None:
                    continue
                if repo.private and not hub.can_read_namespace(principal, repo.namespace):
                    continue
                liked.append((likes[user], repo))
            liked.sort(key=lambda pair: pair[0].order, reverse=True)
            return [
                {"createdAt": iso(like.liked_at), "repo": {"name": repo.repo_id, "type": repo.repo_type}}
                for like, repo in liked
            ]

    # -- the repos area's changes --------------------------------------------------------------------
    def _on_change(self, change: RepoChange) -> None:
        if change.scope != "repo" or change.action not in ("delete", "move"):
            return
        with self.hub.lock:
            likes = self._likes.pop((change.repo_type, change.repo_id.lower()), None)
            if likes is not None and change.action == "move" and change.moved_to:
                self._likes[(change.repo_type, change.moved_to.lower())] = likes


def _key(repo: Repo) -> tuple[str, str]:
    return repo.repo_type, repo.repo_id.lower()


def _newest_first(likes: Iterable[Like]) -> list[Like]:
    return sorted(likes, key=lambda like: like.order, reverse=True)


def attach(hub: HubState) -> None:
    """Create this area's backend on ``hub`` (``hub.likes``)."""
    hub.likes = LikeBackend(hub)
