"""``HfAddToCollectionOperator``: put a release in a collection, once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.operators.base import HfHubBaseOperator, hub_template_fields
from airflow_provider_hub.utils.checks import check_repo_id

if TYPE_CHECKING:
    from airflow.sdk import Context

#: What a collection holds (``huggingface_hub``'s ``CollectionItemType_T``).
COLLECTION_ITEM_TYPES = ("model", "dataset", "space", "paper", "collection")


class HfAddToCollectionOperator(HfHubBaseOperator):
    """Add a repo (or paper, or collection) to a collection; an item already there gets the new ``note``
    instead of a second entry, so a retried task changes nothing more.

    Example::

        HfAddToCollectionOperator(
            task_id="feature", collection_slug="acme/releases-64f9a55bb3115b4f513ec026",
            item_id="acme/sentiment", note="Released {{ dag_run.run_after | ds }}",
        )

    :param collection_slug: the collection's slug (``owner/title-id``). (templated)
    :param item_id: the repo id (or paper id, or collection slug). (templated)
    :param item_type: ``model``, ``dataset``, ``space``, ``paper`` or ``collection``. (templated)
    :param note: the item's note in the collection. (templated)
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    :return: ``{"collection_slug", "item_object_id", "item_id", "item_type", "note", "position"}``.
    """

    template_fields: Sequence[str] = hub_template_fields("collection_slug", "item_id", "item_type", "note")

    def __init__(
        self,
        *,
        collection_slug: str,
        item_id: str,
        item_type: str = "model",
        note: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.collection_slug = collection_slug
        self.item_id = item_id
        self.item_type = item_type
        self.note = note

    def execute(self, context: Context) -> dict[str, Any]:
        if not isinstance(self.collection_slug, str) or self.collection_slug.count("/") != 1:
            raise ValueError(f"collection_slug must be 'owner/slug'; got {self.collection_slug!r}")
        if self.item_type not in COLLECTION_ITEM_TYPES:
            raise ValueError(
                f"item_type must be one of {', '.join(COLLECTION_ITEM_TYPES)}; got {self.item_type!r}"
            )
        if self.item_type in ("model", "dataset", "space"):
            check_repo_id(self.item_id, "item_id", require_namespace=True)
        if self.note is not None and not isinstance(self.note, str):
            raise ValueError(f"note must be a string; got {self.note!r}")
        added = self.hook.add_to_collection(
            self.collection_slug, self.item_id, item_type=self.item_type, note=self.note
        )
        self.log.info(
            "%s %s is item %s of %s",
            self.item_type,
            self.item_id,
            added["position"],
            added["collection_slug"],
        )
        return added
