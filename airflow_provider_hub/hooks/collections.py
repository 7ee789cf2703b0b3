"""``HfHubHook`` methods for collections: add (or update) an item, read a collection."""

from __future__ import annotations

from typing import Any

from airflow_provider_hub.hooks.host import HubArea


class CollectionsHookMixin(HubArea):
    """Collections (mixed into :class:`~airflow_provider_hub.hooks.hub.HfHubHook`).

    Example::

        hook.add_to_collection("acme/releases-64f9a55bb3115b4f513ec026", "acme/sentiment", note="v2")
    """

    def add_to_collection(
        self, collection_slug: str, item_id: str, *, item_type: str = "model", note: str | None = None
    ) -> dict[str, Any]:
        """Add ``item_id`` to the collection; an item already there gets ``note`` instead of a second entry.

        Returns ``{"collection_slug", "item_object_id", "item_id", "item_type", "note", "position"}``.
        """
        subject = f"collection {collection_slug}"
        collection = self.call(
            "add_collection_item",
            collection_slug,
            item_id,
            item_type,
            note=note,
            exists_ok=True,
            subject=subject,
        )
        item = next(i for i in collection.items if i.item_id == item_id and i.item_type == item_type)
        if note is not None and item.note != note:
            self.call(
                "update_collection_item", collection_slug, item.item_object_id, note=note, subject=subject
            )
        return {
            "collection_slug": collection.slug,
            "item_object_id": item.item_object_id,
            "item_id": item.item_id,
            "item_type": item.item_type,
            "note": note if note is not None else item.note,
            "position": item.position,
        }
