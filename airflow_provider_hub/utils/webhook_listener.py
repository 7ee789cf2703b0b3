"""The opt-in HTTP listener of ``HfWebhookTrigger(port=...)``, inside a single triggerer's event loop.

For a deployment with one triggerer and no api-server reachable by the Hub. Everywhere else the api-server
receives deliveries (:mod:`airflow_provider_hub.plugins.webhook_receiver`): a port bound in one triggerer
moves with every restart or redistribution, and a second triggerer cannot bind it.

A minimal asyncio HTTP/1.1 server (keep-alive, ``Content-Length`` bodies). One listener per ``(host,
port)`` is shared by every trigger of the process that uses it; requests are routed by path.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_hub.utils.webhook_payloads import event_from_body

#: Largest request body the listener reads; the Hub's payloads are a few KiB.
MAX_BODY_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024
#: Seconds a client may take to send one request before the connection is closed.
REQUEST_TIMEOUT = 10.0


@dataclass(eq=False)
class Subscriber:
    secret: bytes
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)


class WebhookListener:
    """A minimal asyncio HTTP/1.1 server (keep-alive, ``Content-Length`` bodies) for Hub deliveries.

    Answers: 200 accepted, 401 missing or wrong ``X-Webhook-Secret``, 413 body too large, 400 malformed
    request or payload, 404 unknown path, 405 not a POST. Each connection is independent, so a bad request
    never stops the listener.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.routes: dict[str, list[Subscriber]] = {}
        self.server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(
            self._serve, self.host, self.port, reuse_address=True, limit=MAX_HEADER_BYTES
        )

    async def close(self) -> None:
        """Stop listening and end the open (keep-alive) connections."""
        if self.server is not None:
            self.server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            while True:
                keep_alive = await asyncio.wait_for(self._one_request(reader, writer), REQUEST_TIMEOUT)
                if not keep_alive:
                    break
        except (
            asyncio.TimeoutError,
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ):
            pass
        except asyncio.CancelledError:
            pass  # the listener is closing: end this connection quietly
        except Exception:  # a listener bug must cost one connection, never the listener
            pass
        finally:
            self._connections.discard(task)  # type: ignore[arg-type]
            writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                await _respond(writer, 400, "malformed request", keep_alive=False)
            return False
        except asyncio.LimitOverrunError:
            await _respond(writer, 431, "request headers too large", keep_alive=False)
            return False
        try:
            method, target, headers = _parse_head(head)
            length = int(headers.get("content-length", "0"))
            if length < 0:
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            await _respond(writer, 400, "malformed request", keep_alive=False)
            return False
        if "chunked" in headers.get("transfer-encoding", "").lower():
            await _respond(writer, 411, "Content-Length required", keep_alive=False)
            return False
        keep_alive = headers.get("connection", "").lower() != "close"
        if length > MAX_BODY_BYTES:
            await _respond(writer, 413, f"body larger than {MAX_BODY_BYTES} bytes", keep_alive=False)
            return False
        body = await reader.readexactly(length)
        path = target.split("?", 1)[0]
        subscribers = self.routes.get(path)
        if not subscribers:
            await _respond(writer, 404, "unknown path", keep_alive=keep_alive)
            return keep_alive
        if method != "POST":
            await _respond(writer, 405, "only POST is accepted", keep_alive=keep_alive)
            return keep_alive
        given = headers.get("x-webhook-secret", "").encode("utf-8", "surrogateescape")
        # Compare against every subscriber so timing does not depend on which (if any) matched.
        allowed = [s for s in subscribers if hmac.compare_digest(given, s.secret)]
        if not given or not allowed:
            await _respond(writer, 401, "missing or invalid X-Webhook-Secret", keep_alive=keep_alive)
            return keep_alive
        event = event_from_body(body)
        if event is None:
            await _respond(writer, 400, "body is not a Hub webhook payload", keep_alive=keep_alive)
            return keep_alive
        event["received_at"] = time.time()
        for subscriber in allowed:
            subscriber.queue.put_nowait(event)
        await _respond(writer, 200, "accepted", keep_alive=keep_alive)
        return keep_alive


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ")
    if not version.startswith("HTTP/1.") or not target.startswith("/"):
        raise ValueError
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError
        headers[name.strip().lower()] = value.strip()
    return method, target, headers


async def _respond(writer: asyncio.StreamWriter, status: int, message: str, *, keep_alive: bool) -> None:
    reasons = {
        200: "OK",
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
        405: "Method Not Allowed",
        411: "Length Required",
        413: "Content Too Large",
        431: "Request Header Fields Too Large",
    }
    body = json.dumps({"status": "accepted"} if status == 200 else {"error": message}).encode()
    writer.write(
        f"HTTP/1.1 {status} {reasons[status]}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode()
        + body
    )
    await writer.drain()


#: The process's listeners, by (event loop, host, port); shared by the triggers using them.
_LISTENERS: dict[tuple[int, str, int], WebhookListener] = {}
#: One lock per event loop (an asyncio.Lock belongs to one loop): two triggers starting together must not
#: both bind the port.
_LOCKS: dict[int, asyncio.Lock] = {}


async def subscribe(host: str, port: int, path: str, secret: str) -> Subscriber:
    """Route ``path`` of the ``(host, port)`` listener to a new queue, starting the listener if needed."""
    loop_id = id(asyncio.get_running_loop())
    key = (loop_id, host, port)
    async with _LOCKS.setdefault(loop_id, asyncio.Lock()):
        listener = _LISTENERS.get(key)
        if listener is None:
            listener = WebhookListener(host, port)
            await listener.start()
            _LISTENERS[key] = listener
        subscriber = Subscriber(secret=secret.encode("utf-8", "surrogateescape"))
        listener.routes.setdefault(path, []).append(subscriber)
        return subscriber


async def unsubscribe(host: str, port: int, path: str, subscriber: Subscriber) -> None:
    """Remove the route; the listener is closed when no trigger uses it any more."""
    key = (id(asyncio.get_running_loop()), host, port)
    listener = _LISTENERS.get(key)
    if listener is None:
        return
    subscribers = listener.routes.get(path, [])
    if subscriber in subscribers:
        subscribers.remove(subscriber)
    if not subscribers:
        listener.routes.pop(path, None)
    if not listener.routes:
        _LISTENERS.pop(key, None)
        if not any(k[0] == key[0] for k in _LISTENERS):
            _LOCKS.pop(key[0], None)
        await listener.close()
