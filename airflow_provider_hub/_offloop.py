"""Keep slow imports off a triggerer's event loop.

The triggerer imports a trigger's class on its event loop, then runs the trigger there: whatever the trigger
imports on the way (our hooks, the parts of httpx and Airflow loaded on first use) stops every other trigger
of the process meanwhile, and Airflow logs "Triggerer's async thread was blocked". So trigger modules import
nothing heavy at their top, and a trigger gets its hook from :func:`async_hook`, which imports it on a worker
thread first. :func:`aget_connection` and :func:`new_async_client` do the same for what Airflow's connection
lookup and httpx load on first use. This module imports only the standard library at its top.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Connection

    from airflow_provider_hub.hooks.hub import HfHubAsyncHook

#: What a trigger's ``run()`` imports: the hooks and the errors it catches.
HOOK_MODULES = ("airflow_provider_hub.exceptions", "airflow_provider_hub.hooks.hub")
#: What Airflow's async connection lookup imports on its first call: the hook base, the connection model,
#: the secrets cache, asgiref.
CONNECTION_LOOKUP_MODULES = (
    "airflow.sdk.bases.hook",
    "airflow.sdk.definitions.connection",
    "airflow.sdk.execution_time.cache",
    "asgiref.sync",
)
#: What httpx's async transport imports on its first request (anyio loads its asyncio backend lazily).
HTTPX_TRANSPORT_MODULES = ("anyio._backends._asyncio", "httpcore._backends.anyio")

#: Modules :func:`import_off_loop` has imported in this process: asking for them again costs no thread.
_imported: set[str] = set()


def import_modules(modules: Iterable[str] = (), *, optional: Iterable[str] = ()) -> None:
    """Import ``modules``, then ``optional`` skipping any that does not exist (blocking: call it off the loop)."""
    for name in modules:
        importlib.import_module(name)
    for name in optional:
        # A module another version of a dependency lacks: that version loads what it needs its own way.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


async def import_off_loop(modules: Iterable[str] = (), *, optional: Iterable[str] = ()) -> None:
    """Import ``modules`` (and ``optional``, skipping any that does not exist) on a worker thread.

    Returns at once for modules already imported this way. A task that arrives while another thread is
    still importing one waits on its own thread, never on the loop, so a module is always complete here.
    """
    required = [name for name in modules if name not in _imported]
    optional = [name for name in optional if name not in _imported]
    if not required and not optional:
        return
    await asyncio.to_thread(import_modules, required, optional=optional)
    _imported.update(required, optional)


async def async_hook(hf_conn_id: str) -> HfHubAsyncHook:
    """An :class:`~airflow_provider_hub.hooks.hub.HfHubAsyncHook`, its module imported off the loop."""
    await import_off_loop(HOOK_MODULES)
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook

    return HfHubAsyncHook(hf_conn_id=hf_conn_id)


async def aget_connection(conn_id: str) -> Connection:
    """The connection ``conn_id``, read without blocking the loop.

    ``BaseHook.aget_connection`` (through the triggerer; it masks the secrets), after importing on a worker
    thread what its first call imports. Where Airflow has no async path (3.2 outside a triggerer or task), the
    sync lookup on a worker thread.
    """
    await import_off_loop(optional=CONNECTION_LOOKUP_MODULES)
    from airflow.sdk import BaseHook

    try:
        return await BaseHook.aget_connection(conn_id)
    except (AttributeError, NotImplementedError, RuntimeError):
        return await asyncio.to_thread(BaseHook.get_connection, conn_id)


def build_async_client(**options: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient(**options)``. Blocking: its SSL context loads the CA bundle (50-200 ms), and the
    modules its transport would import on its first request are imported here. Call it off the loop."""
    import httpx

    import_modules(optional=HTTPX_TRANSPORT_MODULES)
    return httpx.AsyncClient(**options)


async def new_async_client(**options: Any) -> httpx.AsyncClient:
    """:func:`build_async_client` on a worker thread: the client is ready to send without blocking the loop."""
    return await asyncio.to_thread(lambda: build_async_client(**options))


async def amask_secret(secret: str) -> None:
    """Mask ``secret`` in this process's logs and the supervisor's, from a coroutine.

    Airflow's ``mask_secret`` tells the supervisor with a blocking send: in a triggerer it stops the loop until
    the supervisor answers (up to a second when it is busy with the database). ``amask_secret`` (3.3+) awaits
    the answer instead; 3.2 has only the blocking form.
    """
    try:
        from airflow.sdk.log import amask_secret as mask
    except ImportError:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)
    else:
        await mask(secret)
