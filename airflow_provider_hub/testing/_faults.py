"""Fault injection and request counters, as an ASGI middleware in front of every route.

Faults are deterministic for a given seed: each fault draws from its own ``random.Random``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote

from starlette.datastructures import Headers

from airflow_provider_hub.testing.http import request_id

Scope = dict[str, Any]


@dataclass
class Fault:
    id: int
    route: str
    status: int | None
    rate: float
    retry_after: float | None
    latency: float
    drop: bool
    after_apply: bool
    times: int | None
    method: str | None
    rng: random.Random = field(repr=False)
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return fnmatch.fnmatchcase(path, self.route)

    def draw(self) -> bool:
        """Whether this request is hit, counting it against ``times``."""
        if self.times is not None and self.fired >= self.times:
            return False
        if self.rng.random() >= self.rate:
            return False
        self.fired += 1
        return True

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "route": self.route,
            "status": self.status,
            "rate": self.rate,
            "retry_after": self.retry_after,
            "latency": self.latency,
            "drop": self.drop,
            "after_apply": self.after_apply,
            "times": self.times,
            "method": self.method,
            "fired": self.fired,
        }


class FaultInjector:
    """Holds the faults and the per-route request counters."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.faults: list[Fault] = []
        self.counts: Counter[tuple[str, str]] = Counter()

    def inject(
        self,
        route: str,
        *,
        status: int | None = None,
        rate: float = 1.0,
        retry_after: float | None = None,
        latency: float = 0.0,
        drop: bool = False,
        times: int | None = None,
        method: str | None = None,
        after_apply: bool = False,
    ) -> int:
        if after_apply and status is None and not drop:
            raise ValueError(
                "after_apply needs a status or drop=True: what the client sees once the route ran"
            )
        if status is None and not drop and not latency:
            raise ValueError("a fault needs a status, drop=True or a latency")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {rate!r}")
        with self._lock:
            fault_id = next(self._ids)
            self.faults.append(
                Fault(
                    id=fault_id,
                    route=route,
                    status=status,
                    rate=rate,
                    retry_after=retry_after,
                    latency=latency,
                    drop=drop,
                    after_apply=after_apply,
                    times=times,
                    method=method,
                    rng=random.Random(f"{self._seed}:{fault_id}"),
                )
            )
            return fault_id

    def remove(self, fault_id: int) -> None:
        with self._lock:
            self.faults = [f for f in self.faults if f.id != fault_id]

    def clear(self) -> None:
        with self._lock:
            self.faults = []

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()

    def count(self, route: str | None = None, method: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (m, path), n in self.counts.items()
                if (method is None or m == method.upper())
                and (route is None or fnmatch.fnmatchcase(path, route))
            )

    def _pick(self, method: str, path: str) -> list[Fault]:
        with self._lock:
            self.counts[(method, path)] += 1
            return [f for f in self.faults if f.matches(method, path) and f.draw()]


def _encoded_path(raw_path: bytes) -> str:
    """The request path with each segment decoded but a ``/`` inside a segment kept as ``%2F``.

    Starlette routes on the decoded path, which would split ``refs%2Fpr%2F1`` into three segments.
    """
    return "/".join(unquote(s).replace("/", "%2F") for s in raw_path.decode("latin-1").split("/"))


class EmulatorMiddleware:
    """Counts requests, injects faults, keeps ``%2F`` inside segments, sets an accurate ``Date``.

    ``Date`` matters: the client drops Job log events stamped later than ``Date`` + 1 s.
    """

    def __init__(self, app: Any, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        scope = dict(scope)
        scope["path"] = _encoded_path(raw_path.split(b"?", 1)[0])
        method = scope["method"]
        # Faults and counters match the decoded path, which is what a test author writes.
        faults = self.injector._pick(method, unquote(scope["path"]))
        for fault in faults:
            if fault.latency:
                await asyncio.sleep(fault.latency)
        drop = any(f.drop for f in faults)
        failing = next((f for f in faults if f.status is not None), None)
        if any(f.after_apply for f in faults):
            # The change happens on the Hub, but its answer is lost: the case a retry must recognise.
            await self.app(scope, receive, _discard)

        async def send_with_date(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", formatdate(usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        if drop:
            await _drop_connection(send)
            return
        if failing is not None:
            await _send_fault(failing, request_id(Headers(scope=scope)), send_with_date)
            return
        await self.app(scope, receive, send_with_date)


async def _discard(message: dict[str, Any]) -> None:
    return None


async def _send_fault(fault: Fault, trace_id: str, send: Any) -> None:
    """Answer ``fault.status`` as a Hub error (without ``X-Error-Code``: no Hub code applies)."""
    assert fault.status is not None
    message = f"Injected fault {fault.id} on {fault.route}"
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"x-error-message", message.encode()),
        (b"x-request-id", trace_id.encode("latin-1")),
    ]
    if fault.retry_after is not None:
        headers.append((b"retry-after", str(int(fault.retry_after)).encode()))
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop_connection(send: Any) -> None:
    """Promise a body, send part of it, then fail: the server closes the connection mid-body."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
    raise ConnectionAbortedError("emulator fault: connection dropped mid-body")
