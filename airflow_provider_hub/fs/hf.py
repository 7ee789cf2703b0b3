"""``hf://`` object storage: ``ObjectStoragePath("hf://datasets/acme/reviews/data.parquet", conn_id=...)``.

Registered under ``filesystems`` in the provider info. Paths are ``hf://<models|datasets|spaces>/<ns>/<name>/<file>``
(a revision goes after the name: ``hf://datasets/acme/reviews@v1/data.parquet``), served by
``huggingface_hub.HfFileSystem`` with the connection's token and endpoint, read as the hook reads them. Each write through the
filesystem is one commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

schemes = ["hf"]


def get_fs(conn_id: str | None, storage_options: dict[str, Any] | None = None) -> AbstractFileSystem:
    """An ``HfFileSystem`` for the Hugging Face Hub connection ``conn_id`` (default ``huggingface_hub_default``).

    ``storage_options`` are passed to ``HfFileSystem`` and win over the connection (e.g. ``block_size``).
    """
    from huggingface_hub import HfFileSystem

    from airflow_provider_hub.hooks.hub import HfHubHook

    hook = HfHubHook(hf_conn_id=conn_id or HfHubHook.default_conn_name)
    options: dict[str, Any] = hook.settings.client_credentials()
    options.update(storage_options or {})
    # fsspec caches instances by their arguments; skip it so a rotated token is picked up.
    options.setdefault("skip_instance_cache", True)
    return HfFileSystem(**options)
