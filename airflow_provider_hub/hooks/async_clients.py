"""The async hook's HTTP clients: one ``httpx.AsyncClient`` per event loop and connection, shared by triggers.

A thousand triggers in one triggerer share a connection pool instead of opening a thousand, and queue here
(:func:`in_flight_limit`) rather than time out waiting for one of its connections.
"""

from __future__ import annotations

import asyncio
import weakref

import httpx

from airflow_provider_hub._offloop import new_async_client

#: Keyed weakly by the loop: a client is bound to the loop it first ran on, so a new loop (a new test, a
#: restarted triggerer) gets new clients.
_ASYNC_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
#: Requests in flight per event loop, kept below a client's connection pool (100): when a thousand triggers
#: poll at once, the surplus queues here without a deadline instead of timing out waiting for a connection.
_MAX_IN_FLIGHT = 64
_IN_FLIGHT: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
#: Held while a loop's client is built (on a worker thread), so concurrent first reads build one.
_CLIENT_BUILDS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def shared_client(conn_id: str) -> httpx.AsyncClient:
    """The shared client of the running loop and ``conn_id``; a new one is built on a worker thread.

    Example::

        client = await shared_client("huggingface_hub_default")
        async with in_flight_limit():
            response = await client.get(url)
    """
    # A client's open connections keep its loop alive, so the weak keys alone never let go of a
    # closed loop: drop those entries here (their sockets died with the loop).
    for closed_loop in [loop for loop in _ASYNC_CLIENTS if loop.is_closed()]:
        del _ASYNC_CLIENTS[closed_loop]
        _IN_FLIGHT.pop(closed_loop, None)
        _CLIENT_BUILDS.pop(closed_loop, None)
    loop = asyncio.get_running_loop()
    client = _ASYNC_CLIENTS.get(loop, {}).get(conn_id)
    if client is None or client.is_closed:
        # One build per loop at a time: a thousand triggers starting together share the first client.
        async with _CLIENT_BUILDS.setdefault(loop, asyncio.Lock()):
            clients = _ASYNC_CLIENTS.setdefault(loop, {})
            client = clients.get(conn_id)
            if client is None or client.is_closed:
                from airflow_provider_hub import __version__

                client = clients[conn_id] = await new_async_client(
                    follow_redirects=True,
                    headers={"user-agent": f"airflow-provider-hub/{__version__}; httpx/{httpx.__version__}"},
                )
    return client


def in_flight_limit() -> asyncio.Semaphore:
    """The running loop's cap on requests in flight, to hold while a request is sent."""
    return _IN_FLIGHT.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(_MAX_IN_FLIGHT))


async def aclose_loop_clients() -> None:
    """Close the shared clients of the running event loop (a triggerer shutting down, a test ending)."""
    loop = asyncio.get_running_loop()
    _IN_FLIGHT.pop(loop, None)
    _CLIENT_BUILDS.pop(loop, None)
    for client in _ASYNC_CLIENTS.pop(loop, {}).values():
        await client.aclose()
