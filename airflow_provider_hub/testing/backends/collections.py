"""The collections area's backend: users' and organizations' collections of repos and other collections.

The Hub's rules, as ``huggingface_hub`` 2.4 and its tests against the Hub see them:

- A collection's **slug** is ``{owner}/{slugified title}-{24-hex id}`` ("My cool stuff X" gives
  ``alice/my-cool-stuff-x-<id>``). Renaming changes the slug but keeps the id, and the collection is found
  by the id: the old slug still answers, with the new slug in the answer.
- A title is unique in its owner's namespace: creating a second collection with it is a 409 whose body
  carries the existing ``slug`` (``create_collection(exists_ok=True)`` reads it and fetches that one).
- **Positions** are 0-based ranks: items are appended at the end, moving one shifts the others, deleting
  one closes the gap; an owner's collections are ranked the same way (``position`` of the collection).
- A **private** collection exists only for members of its owner's namespace (404 for everyone else);
  only writers of the namespace change a collection (403 for other readers). Items that point at what the
  caller may not read (a private repo, a private collection) are left out of what they are shown.
- An added item must exist (404 otherwise) and be in the collection once (409). A missing collection or
  item is a 404 with ``X-Error-Message`` only (no ``X-Error-Code``), which ``missing_ok`` tolerates.
- Every answer carries the collection's ``position``, except listings: ``list_collections`` numbers the
  collections itself (a ``position`` key there is a ``TypeError`` in the client) and shows at most 4 items
  of each.

Items follow what they point at: a moved repo keeps its items (under the new id), a deleted repo or
collection leaves every collection (the repos area's change feed says so). Collections live in memory,
like access requests and likes: ``data_dir`` does not keep them.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.testing._core import Principal, RepoChange
from airflow_provider_hub.testing.backends.repo_model import REPO_TYPES, iso
from airflow_provider_hub.testing.errors import BadRequest, Conflict, Forbidden, NotFound, RepoNotFound, shown

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState

THEMES = ("orange", "blue", "green", "purple", "pink", "indigo")
ITEM_TYPES = ("model", "dataset", "space", "paper", "collection", "bucket")
SORTS = ("lastModified", "trending", "upvotes")
#: The Hub's limits (``huggingface_hub`` docstrings).
MAX_DESCRIPTION = 150
MAX_NOTE = 500
#: Items shown per collection in a listing.
LISTED_ITEMS = 4
_SLUG_ID = re.compile(r"(?:^|-)([0-9a-f]{24})$")


@dataclass
class CollectionItem:
    """One item; ``target`` is the repo id for repo items, the collection id for collection items."""

    item_object_id: str
    item_type: str
    target: str
    note: str | None = None


@dataclass
class Collection:
    collection_id: str
    owner: str
    title: str
    description: str | None
    private: bool
    position: int
    theme: str = THEMES[0]
    items: list[CollectionItem] = field(default_factory=list)
    last_updated: float = field(default_factory=time.time)

    @property
    def slug(self) -> str:
        title = slugify(self.title)
        return f"{self.owner}/{title}-{self.collection_id}" if title else f"{self.owner}/{self.collection_id}"


def slugify(title: str) -> str:
    """The title part of a slug: lowercase ASCII letters and digits, other runs of characters as one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class CollectionBackend:
    """Every collection, keyed by its id. ``page_size`` (tunable in tests) is the listing's page size."""

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        self._collections: dict[str, Collection] = {}
        self.page_size = 100
        hub.subscribe(self._on_change)

    # -- finding and rights ---------------------------------------------------------------------------
    def _find(self, slug: str) -> Collection | None:
        owner, _, rest = slug.partition("/")
        # Ids are the Hub's ObjectIds, hex in any case; the title part is not looked at (renames).
        match = _SLUG_ID.search(rest.lower())
        collection = self._collections.get(match.group(1)) if match else None
        if collection is None or collection.owner.lower() != owner.lower():
            return None
        return collection

    def _can_read(self, principal: Principal | None, collection: Collection) -> bool:
        return not collection.private or self.hub.can_read_namespace(principal, collection.owner)

    def readable(self, principal: Principal | None, slug: str) -> Collection:
        collection = self._find(slug)
        if collection is None or not self._can_read(principal, collection):
            raise NotFound(f"Collection {shown(slug)} not found")
        return collection

    def _writable(self, principal: Principal, slug: str) -> Collection:
        collection = self.readable(principal, slug)
        if not self.hub.can_write_namespace(principal, collection.owner):
            raise Forbidden(f"You don't have the rights to edit the collection {shown(collection.slug)}")
        return collection

    def _owned(self, owner: str) -> list[Collection]:
        """The owner's collections by position."""
        return sorted((c for c in self._collections.values() if c.owner == owner), key=lambda c: c.position)

    # -- collections ----------------------------------------------------------------------------------
    def create(
        self,
        principal: Principal,
        *,
        title: Any,
        namespace: Any,
        description: Any = None,
        private: Any = False,
        resource_group_id: Any = None,
    ) -> Collection:
        """A new collection at the end of the namespace's collections; 409 (with its ``slug``) when the
        namespace already has one with this title."""
        _check_title(title)
        _check_description(description)
        if not isinstance(namespace, str) or not namespace:
            raise BadRequest("A collection needs a 'namespace'")
        if not isinstance(private, bool):
            raise BadRequest("'private' must be a boolean")
        hub = self.hub
        with hub.lock:
            if not hub.can_write_namespace(principal, namespace):
                raise Forbidden(
                    f'You don\'t have the rights to create a collection under the namespace "{shown(namespace)}"'
                )
            owner = namespace  # a writer's namespace is their own name or one of their orgs', as spelled
            self._check_resource_group(owner, resource_group_id)
            existing = next((c for c in self._owned(owner) if c.title == title), None)
            if existing is not None:
                raise Conflict(
                    f"You already have a collection titled {shown(repr(title))}", body={"slug": existing.slug}
                )
            collection = Collection(
                collection_id=secrets.token_hex(12),
                owner=owner,
                title=title,
                description=description,
                private=private,
                position=len(self._owned(owner)),
            )
            self._collections[collection.collection_id] = collection
            return collection

    def update(self, principal: Principal, slug: str, changes: Mapping[str, Any]) -> Collection:
        """Apply ``title`` (a new slug, same id), ``description``, ``private``, ``theme`` and ``position``
        (a rank among the owner's collections, moving the others)."""
        if "title" in changes:
            _check_title(changes["title"])
        if "description" in changes:
            _check_description(changes["description"])
        if "private" in changes and not isinstance(changes["private"], bool):
            raise BadRequest("'private' must be a boolean")
        if "theme" in changes and changes["theme"] not in THEMES:
            raise BadRequest(
                f"Invalid theme {shown(repr(changes['theme']))}; expected one of {', '.join(THEMES)}"
            )
        if "position" in changes:
            _check_position(changes["position"])
        with self.hub.lock:
            collection = self._writable(principal, slug)
            for key in ("title", "description", "private", "theme"):
                if key in changes:
                    setattr(collection, key, changes[key])
            if "position" in changes:
                ranked = [c for c in self._owned(collection.owner) if c is not collection]
                ranked.insert(changes["position"], collection)
                for rank, each in enumerate(ranked):
                    each.position = rank
            collection.last_updated = time.time()
            return collection

    def delete(self, principal: Principal, slug: str) -> None:
        """Delete the collection; it also leaves every collection it was an item of."""
        with self.hub.lock:
            collection = self._writable(principal, slug)
            del self._collections[collection.collection_id]
            for rank, each in enumerate(self._owned(collection.owner)):
                each.position = rank
            self._drop_items("collection", collection.collection_id)

    def set_resource_group(self, principal: Principal, slug: str, resource_group_id: Any) -> None:
        """Assign the collection to a resource group (``None``: to none)."""
        with self.hub.lock:
            collection = self._writable(principal, slug)
            self._check_resource_group(collection.owner, resource_group_id)

    def _check_resource_group(self, owner: str, resource_group_id: Any) -> None:
        """Resource groups belong to organizations; the emulator has none, so any id names a missing one."""
        if resource_group_id is None:
            return
        if owner not in self.hub.orgs:
            raise BadRequest("Resource groups are only available for collections of an organization")
        raise NotFound(f"Resource group {shown(str(resource_group_id))} not found in {owner}")

    def listing(
        self, principal: Principal | None, *, owners: list[str], items: list[str], sort: str | None
    ) -> list[dict[str, Any]]:
        """The collections the caller may read, rendered for a listing: by owner (any of ``owners``), by a
        contained item (any of ``items``, as ``{type}s/{id}``: ``models/ns/name``, ``collections/<slug>``),
        most recently updated first (``trending`` and ``upvotes`` rank by upvotes first: none here)."""
        if sort is not None and sort not in SORTS:
            raise BadRequest(f"Invalid sort {shown(repr(sort))}; expected one of {', '.join(SORTS)}")
        wanted_items = [_item_filter(value) for value in items]
        wanted_owners = {owner.lower() for owner in owners}
        with self.hub.lock:
            found = [
                c
                for c in self._collections.values()
                if self._can_read(principal, c)
                and (not wanted_owners or c.owner.lower() in wanted_owners)
                and (not wanted_items or any(self._contains(c, *wanted) for wanted in wanted_items))
            ]
            found.sort(key=lambda c: c.last_updated, reverse=True)
            return [self.render(c, principal, listed=True) for c in found]

    def _contains(self, collection: Collection, item_type: str, item_id: str) -> bool:
        if item_type == "collection":
            target = self._find(item_id)
            item_id = target.collection_id if target else ""
        return any(
            item.item_type == item_type and item.target.lower() == item_id.lower()
            for item in collection.items
        )

    # -- items ----------------------------------------------------------------------------------------
    def add_item(self, principal: Principal, slug: str, item: Any, note: Any = None) -> Collection:
        """Append ``item`` (``{"id", "type"}``) with an optional note; 404 when it does not exist (papers and
        buckets never do here), 409 when it is in the collection already."""
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or not item["id"]:
            raise BadRequest("'item' must be an object with an 'id' and a 'type'")
        item_type, item_id = item.get("type"), item["id"]
        if item_type not in ITEM_TYPES:
            raise BadRequest(
                f"Invalid item type {shown(repr(item_type))}; expected one of {', '.join(ITEM_TYPES)}"
            )
        _check_note(note)
        with self.hub.lock:
            collection = self._writable(principal, slug)
            target = self._target(principal, collection, item_type, item_id)
            if any(i.item_type == item_type and i.target.lower() == target.lower() for i in collection.items):
                raise Conflict(f"The {item_type} {shown(item_id)} is already in the collection")
            collection.items.append(CollectionItem(secrets.token_hex(12), item_type, target, note))
            collection.last_updated = time.time()
            return collection

    def _target(self, principal: Principal, collection: Collection, item_type: str, item_id: str) -> str:
        """What an added item points at (the repo id as created, the collection id), if the caller may read it."""
        if item_type in REPO_TYPES:
            try:
                return self.hub.repos.readable(item_type, item_id, principal).repo_id
            except RepoNotFound:
                raise NotFound(f"The {item_type} {shown(item_id)} does not exist") from None
        if item_type == "collection":
            target = self.readable(principal, item_id)
            if target is collection:
                raise BadRequest("A collection cannot contain itself")
            return target.collection_id
        raise NotFound(f"The {item_type} {shown(item_id)} does not exist")

    def _item(self, collection: Collection, item_object_id: str) -> CollectionItem:
        # An item id is an ObjectId too: hex in any case.
        item = next((i for i in collection.items if i.item_object_id == item_object_id.lower()), None)
        if item is None:
            raise NotFound(
                f"Item {shown(item_object_id)} not found in the collection {shown(collection.slug)}"
            )
        return item

    def update_item(
        self, principal: Principal, slug: str, item_object_id: str, changes: Mapping[str, Any]
    ) -> Collection:
        """Apply ``note`` and ``position`` (moving the other items) to an item."""
        if "note" in changes:
            _check_note(changes["note"])
        if "position" in changes:
            _check_position(changes["position"])
        with self.hub.lock:
            collection = self._writable(principal, slug)
            item = self._item(collection, item_object_id)
            if "note" in changes:
                item.note = changes["note"]
            if "position" in changes:
                collection.items.remove(item)
                collection.items.insert(changes["position"], item)
            collection.last_updated = time.time()
            return collection

    def delete_item(self, principal: Principal, slug: str, item_object_id: str) -> None:
        with self.hub.lock:
            collection = self._writable(principal, slug)
            collection.items.remove(self._item(collection, item_object_id))
            collection.last_updated = time.time()

    def _drop_items(self, item_type: str, target: str) -> None:
        for collection in self._collections.values():
            collection.items = [
                i
                for i in collection.items
                if not (i.item_type == item_type and i.target.lower() == target.lower())
            ]

    def _on_change(self, change: RepoChange) -> None:
        if change.scope != "repo":
            return
        with self.hub.lock:
            if change.action == "delete":
                self._drop_items(change.repo_type, change.repo_id)
            elif change.action == "move" and change.moved_to:
                for collection in self._collections.values():
                    for item in collection.items:
                        if (
                            item.item_type == change.repo_type
                            and item.target.lower() == change.repo_id.lower()
                        ):
                            item.target = change.moved_to

    # -- JSON -----------------------------------------------------------------------------------------
    def render(
        self, collection: Collection, principal: Principal | None, *, listed: bool = False
    ) -> dict[str, Any]:
        """The Hub's collection object as ``principal`` sees it; a listing's has no ``position`` and 4 items."""
        items = [
            shown_item
            for item in collection.items
            if (shown_item := self._item_json(collection, item, principal)) is not None
        ]
        body: dict[str, Any] = {
            "slug": collection.slug,
            "title": collection.title,
            "owner": self._owner_json(collection.owner),
            "items": items[:LISTED_ITEMS] if listed else items,
            "lastUpdated": iso(collection.last_updated),
            "private": collection.private,
            "theme": collection.theme,
            "upvotes": 0,
            "isUpvotedByUser": False,
            "gating": False,
        }
        if collection.description is not None:
            body["description"] = collection.description
        if not listed:
            body["position"] = collection.position
        return body

    def _item_json(
        self, collection: Collection, item: CollectionItem, principal: Principal | None
    ) -> dict[str, Any] | None:
        """The item as the caller sees it; ``None`` when it points at something they may not read."""
        hub = self.hub
        body: dict[str, Any] = {
            "_id": item.item_object_id,
            "type": item.item_type,
            "position": collection.items.index(item),
        }
        if item.item_type == "collection":
            target = self._collections.get(item.target)
            if target is None or not self._can_read(principal, target):
                return None
            body.update(
                id=target.collection_id,
                slug=target.slug,
                title=target.title,
                owner=self._owner_json(target.owner),
                theme=target.theme,
                lastUpdated=iso(target.last_updated),
                upvotes=0,
                isUpvotedByUser=False,
                numberItems=len(target.items),
                shareUrl=f"{hub.base_url}/collections/{target.slug}",
            )
            if target.description is not None:
                body["description"] = target.description
        else:
            repo = hub.repos.get(item.item_type, item.target)
            if repo is None or (repo.private and not hub.can_read_namespace(principal, repo.namespace)):
                return None
            body.update(
                id=repo.repo_id,
                repoType=repo.repo_type,
                author=repo.namespace,
                private=repo.private,
                gated=repo.gated,
                downloads=0,
                likes=hub.likes.count(repo.repo_type, repo.repo_id),
                isLikedByUser=principal is not None
                and hub.likes.has_liked(principal.user, repo.repo_type, repo.repo_id),
                lastModified=iso(repo.last_modified),
            )
        if item.note is not None:
            body["note"] = {"text": item.note, "html": html.escape(item.note)}
        return body

    def _owner_json(self, name: str) -> dict[str, Any]:
        """The owner as the Hub describes an author: a user or an organization."""
        hub = self.hub
        flags = {"isHf": False, "isHfAdmin": False, "isMod": False}
        if name in hub.orgs:
            org = hub.orgs[name]
            return {
                "name": org.name,
                "fullname": org.fullname,
                "avatarUrl": f"/avatars/{org.name}.svg",
                "type": "org",
                **flags,
            }
        user = hub.users[name]
        return {
            "_id": f"u-{user.name}",
            "name": user.name,
            "fullname": user.fullname,
            "avatarUrl": user.avatar_url or f"/avatars/{user.name}.svg",
            "type": "user",
            "isPro": False,
            **flags,
        }


def _check_title(title: Any) -> None:
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("A collection needs a 'title'")


def _check_description(description: Any) -> None:
    if description is None:
        return
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise BadRequest(f"'description' must be a string of at most {MAX_DESCRIPTION} characters")


def _check_note(note: Any) -> None:
    if note is None:
        return
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise BadRequest(f"'note' must be a string of at most {MAX_NOTE} characters")


def _check_position(position: Any) -> None:
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise BadRequest(f"'position' must be a non-negative integer, got {shown(repr(position))}")


def _item_filter(value: str) -> tuple[str, str]:
    """``models/ns/name`` as ``("model", "ns/name")``; ``papers/<id>``, ``collections/<slug>`` likewise."""
    plural, _, item_id = value.partition("/")
    item_type = plural[:-1] if plural.endswith("s") else ""
    if item_type not in ITEM_TYPES or not item_id:
        raise BadRequest(
            f"Invalid item filter {shown(repr(value))}; expected e.g. 'models/<namespace>/<name>'"
        )
    return item_type, item_id


def attach(hub: HubState) -> None:
    """Create this area's backend on ``hub`` (``hub.collections``)."""
    hub.collections = CollectionBackend(hub)
