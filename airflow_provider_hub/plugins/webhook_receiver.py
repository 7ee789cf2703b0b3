"""Hub webhook deliveries received by Airflow's api-server, so every replica behind the ingress takes them.

The plugin mounts a small FastAPI app under ``/hf-webhooks`` of each api-server. The Hub posts to
``{airflow base URL}/hf-webhooks/{path}``; the answer is

- 200 once the delivery is recorded in the metadata database (:class:`~.webhook_inbox.WebhookInbox`),
- 401 when ``X-Webhook-Secret`` is missing or is not the password of a connection a watcher of ``path``
  names (compared in constant time),
- 404 when no ``HfWebhookTrigger`` watches ``path``, 413 over :data:`MAX_BODY_BYTES`, 400 for what is not a
  Hub payload.

``HfWebhookTrigger`` reads the recorded deliveries back with ``GET /hf-webhooks/{path}/deliveries``, and
asks with ``POST /hf-webhooks/{path}/stored`` which of the events it fired the triggerer has stored (both
authenticated with the same secret), from whichever triggerer holds it. The secret is never logged.

The api-server mounts it through :class:`~airflow_provider_hub.plugins.hub_plugin.HfHubPlugin`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from fastapi import Body, FastAPI, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from airflow_provider_hub.plugins.webhook_inbox import NewDelivery, WebhookInbox
from airflow_provider_hub.utils.webhook_payloads import check_path, event_from_body

URL_PREFIX = "/hf-webhooks"
#: Largest delivery accepted; the Hub's payloads are a few KiB.
MAX_BODY_BYTES = 1024 * 1024
#: Longest a reader's request waits for a new delivery before it is answered empty.
MAX_WAIT_SECONDS = 25.0
#: How often a waiting reader looks for deliveries recorded by another api-server replica.
RECHECK_SECONDS = 0.5


class StoredHead(BaseModel):
    """A head a trigger fired an event for, at ``since`` (epoch seconds)."""

    repo_type: str
    repo_id: str
    head_sha: str
    since: float


class GroupRecorder:
    """Records the deliveries that arrive while a write is in progress together, in the next transaction.

    One commit per delivery caps a replica at what the database commits per second (a SQLite fsync each);
    a burst of deliveries costs one commit per batch instead, and each is still answered only once its
    batch is committed.
    """

    def __init__(self, inbox: Callable[[], WebhookInbox]) -> None:
        self.inbox = inbox
        self.queue: list[tuple[NewDelivery, asyncio.Future[int]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def record(self, delivery: NewDelivery) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.queue.append((delivery, future))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self.queue:
            batch, self.queue = self.queue, []
            try:
                ids = await run_in_threadpool(self.inbox().record, [delivery for delivery, _ in batch])
            except Exception as exc:  # each request of the batch answers with it (a 500)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), delivery_id in zip(batch, ids, strict=True):
                if not future.done():  # its client may have gone meanwhile
                    future.set_result(delivery_id)


def create_app(inbox: WebhookInbox | None = None) -> FastAPI:
    """The receiver's FastAPI app, recording into ``inbox`` (default: Airflow's metadata database)."""

    @functools.cache
    def default_inbox() -> WebhookInbox:
        from airflow import settings

        if settings.engine is None:
            raise RuntimeError("the webhook receiver runs in the api-server, which has the metadata database")
        return WebhookInbox(settings.engine)

    app = FastAPI(title="Hugging Face Hub webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    # Readers waiting on this replica; a delivery recorded here wakes them at once.
    waiting: set[asyncio.Future[None]] = set()

    def get_inbox() -> WebhookInbox:
        return inbox if inbox is not None else default_inbox()

    recorder = GroupRecorder(get_inbox)

    def valid_path(path: str) -> str:
        try:
            return check_path(path)
        except ValueError:
            raise HTTPException(404, "unknown webhook path") from None

    async def matching_conn_ids(path: str, given: str | None) -> list[str]:
        """The secret connections of ``path`` whose password is ``given``; 404/401 when there are none."""
        conn_ids, matched = await run_in_threadpool(get_inbox().accepting, path, given or "")
        if not conn_ids:
            raise HTTPException(404, f"no HfWebhookTrigger watches the path {path!r}")
        if not matched:
            raise HTTPException(401, "missing or invalid X-Webhook-Secret")
        return matched

    @app.post("/{path}")
    async def receive(
        path: str, request: Request, x_webhook_secret: str | None = Header(default=None)
    ) -> dict[str, Any]:
        path = valid_path(path)
        matched = await matching_conn_ids(path, x_webhook_secret)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise HTTPException(413, f"body larger than {MAX_BODY_BYTES} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise HTTPException(413, f"body larger than {MAX_BODY_BYTES} bytes")
        event = event_from_body(bytes(body))
        if event is None:
            raise HTTPException(400, "body is not a Hub webhook payload")
        delivery_id = await recorder.record(NewDelivery(path, bytes(body), event, matched))
        for future in waiting:
            if not future.done():
                future.set_result(None)
        return {"status": "accepted", "id": delivery_id}

    @app.get("/{path}/deliveries")
    async def read(
        path: str,
        secret_conn_id: str,
        after: int | None = Query(default=None, ge=0),
        wait: float = Query(default=0.0, ge=0.0, le=MAX_WAIT_SECONDS),
        x_webhook_secret: str | None = Header(default=None),
    ) -> dict[str, Any]:
        path = valid_path(path)
        if secret_conn_id not in await matching_conn_ids(path, x_webhook_secret):
            raise HTTPException(401, "missing or invalid X-Webhook-Secret")
        box = get_inbox()
        if after is None:
            return {"deliveries": [], "last_id": await run_in_threadpool(box.last_id, path)}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            found, last_id = await run_in_threadpool(box.read, path, secret_conn_id, after)
            if found or last_id != after or loop.time() >= deadline:
                return {"deliveries": [{"id": d.id, "event": d.event} for d in found], "last_id": last_id}
            future: asyncio.Future[None] = loop.create_future()
            waiting.add(future)
            try:
                await asyncio.wait({future}, timeout=min(RECHECK_SECONDS, deadline - loop.time()))
            finally:
                waiting.discard(future)

    @app.post("/{path}/stored")
    async def stored(
        path: str,
        secret_conn_id: str,
        trigger_id: int = Body(),
        heads: list[StoredHead] = Body(max_length=1000),
        x_webhook_secret: str | None = Header(default=None),
    ) -> dict[str, list[bool]]:
        path = valid_path(path)
        if secret_conn_id not in await matching_conn_ids(path, x_webhook_secret):
            raise HTTPException(401, "missing or invalid X-Webhook-Secret")
        answer = await run_in_threadpool(get_inbox().stored, trigger_id, [h.model_dump() for h in heads])
        return {"stored": answer}

    return app
