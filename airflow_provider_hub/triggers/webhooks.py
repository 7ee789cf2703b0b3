"""Event triggers that start DAGs when a repo changes on the Hub (for ``AssetWatcher``).

- :class:`HfWebhookTrigger` fires for the Hub's webhook deliveries. By default the api-server receives them
  (:mod:`airflow_provider_hub.plugins.webhook_receiver`) and records them in the metadata database; the
  trigger reads what was recorded, from whichever triggerer holds it, binding no port. With ``port`` it
  listens itself instead (:mod:`airflow_provider_hub.utils.webhook_listener`), for a single triggerer.
- :class:`~airflow_provider_hub.triggers.repo.HfRepoCommitTrigger` polls a branch's head instead, for
  deployments the Hub cannot reach; it lives with the other polling triggers and is importable from here too.

Both keep a watermark of the heads they fired for (:mod:`airflow_provider_hub.triggers._watermarks`), so that a
restarted trigger fires for the changes it missed and never twice for the same head.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_hub._offloop import aget_connection, amask_secret, async_hook, new_async_client
from airflow_provider_hub.triggers._base import SerializesInitArguments
from airflow_provider_hub.triggers._watermarks import REFIRE_AFTER_SECONDS as REFIRE_AFTER_SECONDS
from airflow_provider_hub.triggers._watermarks import (
    Confirm,
    FiredHeads,
    Watermarks,
    reconcile_head,
    watermark_key,
)

# HfRepoCommitTrigger and REFIRE_AFTER_SECONDS were defined here: this module's path is the one API.md, DAG
# files, tests/distributed and the stored trigger rows of running watchers name.
from airflow_provider_hub.triggers.repo import HfRepoCommitTrigger as HfRepoCommitTrigger
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID
from airflow_provider_hub.utils.webhook_payloads import (
    check_path,
    event_matches,
    moves_main,
    parse_watched_repo,
)

#: Longest a read of the receiver waits for a new delivery (the receiver answers earlier when one comes).
RECEIVER_WAIT_SECONDS = 20.0
#: Pause after a failed read of the receiver before the next one.
RECEIVER_RETRY_SECONDS = 2.0


# -- where deliveries come from -------------------------------------------------------------------


def receiver_url() -> str:
    """The api-server's ``/hf-webhooks`` as the triggerer reaches it.

    ``[huggingface_hub] webhook_receiver_url`` when set; otherwise next to ``[core] execution_api_server_url``
    (the address every component already uses for the api-server), else under ``[api] base_url``.
    """
    from airflow.sdk import conf

    configured = conf.get("huggingface_hub", "webhook_receiver_url", fallback="")
    if configured:
        return configured.rstrip("/")
    execution = conf.get("core", "execution_api_server_url", fallback="") or ""
    if execution:
        base = execution.rstrip("/").removesuffix("/execution")
    else:
        base = (conf.get("api", "base_url", fallback="") or "http://localhost:8080").rstrip("/")
    return f"{base}/hf-webhooks"


class ReceiverFeed:
    """The deliveries the api-servers recorded for one path, read after the trigger's cursor."""

    def __init__(self, path: str, secret_conn_id: str, secret: str, watermarks: Watermarks, log: Any) -> None:
        self.path = path
        self.url = ""
        self.secret_conn_id, self.secret = secret_conn_id, secret
        self.watermarks, self.log = watermarks, log
        self.cursor: int | None = None
        self.pending_cursor: int | None = None
        self.client: Any = None

    async def __aenter__(self) -> ReceiverFeed:
        # The first read of a provider's config option loads every provider's config: off the loop.
        self.url = f"{await asyncio.to_thread(receiver_url)}/{self.path}/deliveries"
        # A read waits up to RECEIVER_WAIT_SECONDS for the receiver's answer.
        self.client = await new_async_client(
            headers={"X-Webhook-Secret": self.secret}, timeout=RECEIVER_WAIT_SECONDS + 15
        )
        self.cursor = await self.watermarks.cursor()
        self.log.info("Reading Hub webhooks recorded at %s", self.url)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()

    async def read(self, wait: float) -> list[dict[str, Any]] | None:
        """The next recorded deliveries (waiting up to ``wait`` s for one); ``None`` when the read failed."""
        params: dict[str, Any] = {"secret_conn_id": self.secret_conn_id, "wait": wait}
        if self.cursor is not None:
            params["after"] = self.cursor
        try:
            response = await self.client.get(self.url, params=params)
            response.raise_for_status()
            answer = response.json()
        except Exception as exc:  # the api-server may be restarting: the next read picks up from the cursor
            self.log.warning("Reading the recorded Hub webhooks at %s failed: %s", self.url, exc)
            await asyncio.sleep(RECEIVER_RETRY_SECONDS)
            return None
        if self.cursor is None:
            # A new watcher starts at the newest recorded delivery: earlier ones were for someone else.
            self.cursor = int(answer["last_id"])
            await self.watermarks.set_cursor(self.cursor)
            return []
        self.pending_cursor = int(answer["last_id"])
        return [delivery["event"] for delivery in answer["deliveries"]]

    async def handled(self) -> None:
        """Everything the last read returned has been handled: move the cursor past it."""
        if self.pending_cursor is not None and self.pending_cursor != self.cursor:
            self.cursor = self.pending_cursor
            await self.watermarks.set_cursor(self.cursor)

    async def stored(self, trigger_id: int, entries: list[dict[str, Any]]) -> list[bool] | None:
        """Which of the fired ``entries`` the triggerer has stored (``None`` when the receiver did not say)."""
        heads = [
            {
                "repo_type": e["event"]["repo_type"],
                "repo_id": e["event"]["repo_id"],
                "head_sha": e["head"],
                "since": e["at"],
            }
            for e in entries
        ]
        try:
            response = await self.client.post(
                self.url.removesuffix("/deliveries") + "/stored",
                params={"secret_conn_id": self.secret_conn_id},
                json={"trigger_id": trigger_id, "heads": heads},
            )
            response.raise_for_status()
            stored = [bool(flag) for flag in response.json()["stored"]]
            if len(stored) != len(entries):
                raise ValueError(f"{len(stored)} answers for {len(entries)} heads")
            return stored
        except Exception as exc:  # asked again after the next read
            self.log.warning("Asking %s which events were stored failed: %s", self.url, exc)
            return None


class ListenerFeed:
    """Deliveries posted to this triggerer's own listener (``HfWebhookTrigger(port=...)``)."""

    def __init__(self, host: str, port: int, path: str, secret: str, log: Any) -> None:
        self.host, self.port, self.path, self.secret, self.log = host, port, f"/{path}", secret, log

    async def __aenter__(self) -> ListenerFeed:
        from airflow_provider_hub.utils.webhook_listener import subscribe

        self.subscriber = await subscribe(self.host, self.port, self.path, self.secret)
        self.log.info("Listening for Hub webhooks on http://%s:%s%s", self.host, self.port, self.path)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        from airflow_provider_hub.utils.webhook_listener import unsubscribe

        await unsubscribe(self.host, self.port, self.path, self.subscriber)

    async def read(self, wait: float) -> list[dict[str, Any]] | None:
        try:
            return [await asyncio.wait_for(self.subscriber.queue.get(), wait)] if wait else []
        except asyncio.TimeoutError:
            return []

    async def handled(self) -> None:
        """Nothing to remember: a delivery the listener took is gone with the process anyway."""


# -- triggers -------------------------------------------------------------------------------------


class HfWebhookTrigger(SerializesInitArguments, BaseEventTrigger):
    """Fire one event per Hub webhook delivery for ``path`` that matches ``repo_ids`` and ``events``.

    The api-servers receive the deliveries under ``/hf-webhooks/{path}`` and record them in the metadata
    database (:mod:`airflow_provider_hub.plugins.webhook_receiver`); this trigger reads them back, from
    whichever triggerer holds it, and binds no port. Each delivery must carry ``X-Webhook-Secret`` equal to
    the password of the connection ``secret_conn_id``. On start the trigger first fires for what was
    recorded while nobody read it, then reconciles with the Hub: for each watched repo whose ``main`` head
    is not one it fired for, it fires a ``source: "reconcile"`` event (a delivery the Hub never made). A head
    it already fired for never fires again, so each change of ``main`` fires once across restarts, handovers
    and redeliveries. The first start only records the current heads.

    With ``port`` the trigger listens on ``host:port`` inside the triggerer instead (shared by every trigger
    on that port, routed by path): only for a deployment with a single triggerer, since the port moves with
    the trigger and a second triggerer cannot bind it.

    Event payload: ``{"repo_id", "repo_type", "event": "repo.content.update", "revision", "head_sha",
    "updated_refs": [{"ref", "old_sha", "new_sha"}], "source": "webhook"|"reconcile", ...}``.

    Example::

        from airflow.sdk import DAG, Asset, AssetWatcher

        trigger = HfWebhookTrigger(secret_conn_id="hf_webhook_secret", repo_ids=["alice/my-model"],
                                   events=["repo.content"])
        model = Asset("hf://models/alice/my-model", watchers=[AssetWatcher(name="hub", trigger=trigger)])
        with DAG("on_new_model", schedule=[model]): ...

    The Hub then posts to ``https://<airflow>/hf-webhooks/hf-webhook`` (``HfCreateWebhookOperator``).

    :param path: the receiver path, one URL segment (several watchers may share one path).
    :param secret_conn_id: connection whose password is the webhook secret.
    :param repo_ids: repos to fire for (``"alice/x"``, ``"datasets/alice/x"``, ``"spaces/alice/x"``); ``None``
        fires for every repo the webhook sends (and skips reconciliation, which needs repo names).
    :param events: event kinds, ``"scope.action"`` or a dotted prefix (``"repo.content"``, ``"discussion"``);
        ``None`` fires for all.
    :param hf_conn_id: the Hub connection used to reconcile.
    :param port: listen on this TCP port inside the triggerer instead of reading the api-server's records.
    :param host: interface the listener binds (default all, ``0.0.0.0``); only with ``port``.
    """

    def __init__(
        self,
        *,
        path: str = "hf-webhook",
        secret_conn_id: str,
        repo_ids: list[str] | None = None,
        events: list[str] | None = None,
        hf_conn_id: str = DEFAULT_CONN_ID,
        port: int | None = None,
        host: str | None = None,
    ) -> None:
        super().__init__()
        if port is not None and (not isinstance(port, int) or not 0 < port < 65536):
            raise ValueError(f"port must be an integer between 1 and 65535; got {port!r}")
        if host is not None and port is None:
            raise ValueError(f"host={host!r} needs a port: it is the interface of the opt-in listener")
        if not secret_conn_id:
            raise ValueError("secret_conn_id must name the connection holding the webhook secret")
        if repo_ids is not None:
            repo_ids = list(repo_ids)
            for repo in repo_ids:
                parse_watched_repo(repo)
        if events is not None:
            events = list(events)
            if not events or not all(isinstance(e, str) and e for e in events):
                raise ValueError(f"events must be a non-empty list of 'scope.action' strings; got {events!r}")
        self.path = check_path(path)
        self.port, self.host = port, host
        self.secret_conn_id, self.hf_conn_id = secret_conn_id, hf_conn_id
        self.repo_ids, self.events = repo_ids, events

    @property
    def watermark_key(self) -> str:
        """Where its cursor and fired heads are kept: ``webhook:{path}:{digest of its arguments}``."""
        return watermark_key(f"webhook:{self.path}", self.serialize()[1])

    def _wanted(self, event: dict[str, Any]) -> bool:
        if self.repo_ids is not None:
            watched = {parse_watched_repo(r) for r in self.repo_ids}
            if (event["repo_type"], event["repo_id"]) not in watched:
                return False
        return event_matches(event["event"], self.events)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        secret = await _connection_password(self.secret_conn_id)
        if not secret:
            raise ValueError(
                f"connection {self.secret_conn_id!r} has no password to use as the webhook secret"
            )
        await amask_secret(secret)
        watermarks = Watermarks(self)
        feed: ReceiverFeed | ListenerFeed
        if self.port is None:
            feed = ReceiverFeed(self.path, self.secret_conn_id, secret, watermarks, self.log)
        else:
            feed = ListenerFeed(self.host or "0.0.0.0", self.port, self.path, secret, self.log)
        fired = FiredHeads(watermarks, self._confirmation(feed))
        async with feed:
            for event in await fired.settle():
                yield TriggerEvent(event)
            # What was recorded while nobody read it comes first, so that reconciliation only fires for
            # changes the Hub never delivered.
            while events := await feed.read(wait=0):
                for event in events:
                    if await self._fires(event, fired):
                        yield TriggerEvent(event)
                await feed.handled()
            if self.repo_ids is not None and event_matches("repo.content.update", self.events):
                hook = await async_hook(self.hf_conn_id)
                for repo_type, repo_id in sorted({parse_watched_repo(r) for r in self.repo_ids}):
                    moved = await reconcile_head(hook, repo_type, repo_id, "main", fired, self.log)
                    if moved is not None:
                        yield TriggerEvent(moved)
            while True:
                due = await fired.next_settle_in()
                wait = RECEIVER_WAIT_SECONDS if due is None else min(RECEIVER_WAIT_SECONDS, due + 0.1)
                for event in await feed.read(wait=wait) or ():
                    if await self._fires(event, fired):
                        yield TriggerEvent(event)
                await feed.handled()
                for event in await fired.settle():
                    yield TriggerEvent(event)

    def _confirmation(self, feed: ReceiverFeed | ListenerFeed) -> Confirm | None:
        """How fired events are confirmed stored: by the receiver, for a trigger a triggerer runs.

        Outside a triggerer (``dag.test``, a test) nothing stores the events, and the opt-in listener has no
        receiver to ask: there a head counts as fired once yielded.
        """
        trigger_id = getattr(self, "trigger_id", None)  # set by the triggerer that runs it
        if not isinstance(feed, ReceiverFeed) or trigger_id is None:
            return None
        return lambda entries: feed.stored(trigger_id, entries)

    async def _fires(self, event: dict[str, Any], fired: FiredHeads) -> bool:
        """Whether ``event`` is wanted and new; a change of ``main`` is recorded as fired."""
        if not self._wanted(event):
            return False
        if moves_main(event):
            return await fired.fire(f"{event['repo_type']}/{event['repo_id']}@main", event["head_sha"], event)
        return True


async def _connection_password(conn_id: str) -> str | None:
    return (await aget_connection(conn_id)).password
