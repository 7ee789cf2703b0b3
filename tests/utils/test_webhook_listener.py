"""Fuzz the webhook listener with random requests over raw sockets: it answers or closes, never dies."""

from __future__ import annotations

import asyncio
import socket
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_hub.utils.webhook_listener import subscribe, unsubscribe
from tests.support.webhooks import _payload, free_port

SECRET = "fuzz-secret"
HEADER_NAMES = st.sampled_from(
    [
        "Content-Length",
        "X-Webhook-Secret",
        "Transfer-Encoding",
        "Connection",
        "Content-Type",
        "Host",
        "X-Other",
    ]
)
HEADER_VALUES = st.one_of(
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(-5, 10**7).map(lambda n: str(n).encode()),
    st.just(SECRET.encode()),
    st.binary(max_size=40),
)
REQUEST_LINES = st.one_of(
    st.binary(max_size=60),
    st.builds(
        lambda m, p, v: m + b" " + p + b" " + v,
        st.sampled_from([b"POST", b"GET", b"PUT", b"", b"P\x00ST"]),
        st.sampled_from([b"/hf-webhook", b"/", b"/hf-webhook?x=1", b"*", b"http://x/"]),
        st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b""]),
    ),
)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=20,
    ).map(lambda v: repr(v).encode()),
    st.just(b'{"event": {"scope": 1, "action": []}, "repo": {}}'),
)


class ListenerThread:
    """The listener in its own event loop, as in the triggerer."""

    def __init__(self) -> None:
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.subscriber = self._run(subscribe("127.0.0.1", self.port, "/hf-webhook", SECRET))

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def close(self) -> None:
        self._run(unsubscribe("127.0.0.1", self.port, "/hf-webhook", self.subscriber))
        self.loop.call_soon_threadsafe(self.loop.stop)


def exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_random_requests_never_break_the_listener():
    listener = ListenerThread()
    statuses: set[bytes] = set()

    @settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        line=REQUEST_LINES,
        headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=6),
        body=BODIES,
        declare_length=st.booleans(),
    )
    def fuzz(line: bytes, headers: list[tuple[str, bytes]], body: bytes, declare_length: bool) -> None:
        head = (
            line
            + b"\r\n"
            + b"".join(n.encode() + b": " + v.replace(b"\r\n", b"") + b"\r\n" for n, v in headers)
        )
        if declare_length:
            head += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        reply = exchange(listener.port, head + b"\r\n" + body)
        if reply:
            assert reply.startswith(b"HTTP/1.1 "), reply[:80]
            statuses.add(reply[9:12])

    try:
        fuzz()
        assert b"500" not in statuses
        # still serving: a valid delivery is accepted and queued
        body = __import__("json").dumps(_payload()).encode()
        reply = exchange(
            listener.port,
            b"POST /hf-webhook HTTP/1.1\r\nX-Webhook-Secret: "
            + SECRET.encode()
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body,
        )
        assert reply.startswith(b"HTTP/1.1 200")
        assert listener.subscriber.queue.qsize() >= 1
        assert {b"400", b"401"} <= statuses
    finally:
        listener.close()
