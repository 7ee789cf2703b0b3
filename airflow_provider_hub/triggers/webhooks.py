"""Event triggers that start DAGs when a repo changes on the Hub (for ``AssetWatcher``).

- :class:`HfWebhookTrigger` receives the Hub's webhook deliveries on an HTTP listener that runs inside the
  triggerer's event loop. One listener per ``(host, port)`` is shared by every trigger of the process that
  uses it; requests are routed by path.
- :class:`HfRepoCommitTrigger` polls a branch's head instead, for deployments the Hub cannot reach.

Both keep a *watermark* (the last head sha they fired for) per watched repo, in the watcher's
``asset_state_store`` (Airflow >= 3.3) or in an Airflow Variable (Airflow 3.2), so that a restarted
trigger fires for the changes it missed and never twice for the same head.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

#: Largest request body the listener reads; the Hub's payloads are a few KiB.
MAX_BODY_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024
#: Seconds a client may take to send one request before the connection is closed.
REQUEST_TIMEOUT = 10.0
REPO_TYPES = ("model", "dataset", "space")
_TYPE_PREFIXES = {"models/": "model", "datasets/": "dataset", "spaces/": "space"}
#: Consecutive failed polls after which HfRepoCommitTrigger logs at error level (it keeps polling).
_ERROR_LOG_EVERY = 5


def parse_watched_repo(value: str) -> tuple[str, str]:
    """``"alice/x"`` -> ``("model", "alice/x")``; ``"datasets/alice/x"`` -> ``("dataset", "alice/x")``."""
    if not isinstance(value, str):
        raise ValueError(
            f"repo_ids entries must be strings like 'alice/x' or 'datasets/alice/x'; got {value!r}"
        )
    repo_type = "model"
    for prefix, kind in _TYPE_PREFIXES.items():
        if value.startswith(prefix):
            repo_type, value = kind, value[len(prefix) :]
            break
    if value.count("/") != 1 or not all(value.split("/")):
        raise ValueError(
            f"repo_ids entry {value!r} must be 'namespace/name', optionally prefixed 'datasets/' or 'spaces/'"
        )
    return repo_type, value


def event_matches(event: str, wanted: Iterable[str] | None) -> bool:
    """Whether ``event`` (``"repo.content.update"``) is selected by ``wanted`` (exact or dotted prefix)."""
    if wanted is None:
        return True
    return any(event == w or event.startswith(w + ".") for w in wanted)


def compact_event(payload: dict[str, Any]) -> dict[str, Any]:
    """The trigger's event payload from the Hub's webhook payload.

    :raises ValueError: when ``payload`` is not a Hub webhook payload.
    """
    try:
        event, repo = payload["event"], payload["repo"]
        scope, action = event["scope"], event["action"]
        repo_type, repo_id = repo["type"], repo["name"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a Hub webhook payload (missing {exc})") from exc
    if not all(isinstance(v, str) for v in (scope, action, repo_type, repo_id)):
        raise ValueError("not a Hub webhook payload (event scope/action and repo type/name must be strings)")
    refs = payload.get("updatedRefs") or []
    if not isinstance(refs, list) or not all(
        isinstance(r, dict) and isinstance(r.get("ref"), str) for r in refs
    ):
        raise ValueError("not a Hub webhook payload (updatedRefs must be a list of {ref, oldSha, newSha})")
    updated_refs = [{"ref": r["ref"], "old_sha": r.get("oldSha"), "new_sha": r.get("newSha")} for r in refs]
    main = next((r for r in updated_refs if r["ref"] == "refs/heads/main"), None)
    head_sha = repo.get("headSha") or repo.get("head_sha")
    compact: dict[str, Any] = {
        "repo_id": repo_id,
        "repo_type": repo_type,
        "event": f"{scope}.{action}",
        "revision": "main",
        "head_sha": main["new_sha"] if main else head_sha,
        "updated_refs": updated_refs,
        "source": "webhook",
    }
    discussion = payload.get("discussion")
    if isinstance(discussion, dict):
        compact["discussion"] = {
            "num": discussion.get("num"),
            "title": discussion.get("title"),
            "is_pull_request": discussion.get("isPullRequest"),
            "status": discussion.get("status"),
        }
    return compact


# -- watermark ------------------------------------------------------------------------------------


class Watermarks:
    """Last fired head sha per ``{repo_type}/{repo_id}@{revision}``.

    Kept in the watcher's ``asset_state_store`` when the triggerer provides one (Airflow >= 3.3); otherwise
    in the Airflow Variable ``hf_watermark::<trigger key>`` (a JSON object), which works on 3.2 and for a
    trigger run outside a watcher. The Variable is read and written through the task SDK, so it needs the
    triggerer (or ``dag.test``) context.
    """

    def __init__(self, trigger: BaseEventTrigger, key: str) -> None:
        self._store = getattr(trigger, "asset_state_store", None)
        self._variable = f"hf_watermark::{key}"
        self._cache: dict[str, str] | None = None

    def _accessors(self) -> list[Any]:
        # Identical watchers of several assets share one trigger, whose store then spans those assets and has
        # no single-asset form: keep the watermark in each of them.
        store = self._store
        many = [*getattr(store, "_by_name", {}).values(), *getattr(store, "_by_uri", {}).values()]
        return many or [store]

    async def get(self, repo: str) -> str | None:
        if self._store is not None:
            for accessor in self._accessors():
                value = await accessor.aget(f"head::{repo}")
                if isinstance(value, str):
                    return value
            return None
        return (await self._load()).get(repo)

    async def set(self, repo: str, sha: str) -> None:
        if self._store is not None:
            for accessor in self._accessors():
                await accessor.aset(f"head::{repo}", sha)
            return
        values = await self._load()
        values[repo] = sha
        await asyncio.to_thread(_set_variable, self._variable, json.dumps(values))

    async def _load(self) -> dict[str, str]:
        if self._cache is None:
            raw = await asyncio.to_thread(_get_variable, self._variable)
            try:
                loaded = json.loads(raw) if raw else {}
            except ValueError:
                loaded = {}
            self._cache = loaded if isinstance(loaded, dict) else {}
        return self._cache


def _get_variable(key: str) -> str | None:
    from airflow.sdk import Variable

    return Variable.get(key, default=None)


def _set_variable(key: str, value: str) -> None:
    from airflow.sdk import Variable

    Variable.set(key, value, description="Watermark of an airflow-provider-hub event trigger")


# -- listener -------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Subscriber:
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
        self.routes: dict[str, list[_Subscriber]] = {}
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
        try:
            payload = json.loads(body)
            event = compact_event(payload) if isinstance(payload, dict) else None
        except (ValueError, RecursionError):
            event = None
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


async def subscribe(host: str, port: int, path: str, secret: str) -> _Subscriber:
    """Route ``path`` of the ``(host, port)`` listener to a new queue, starting the listener if needed."""
    loop_id = id(asyncio.get_running_loop())
    key = (loop_id, host, port)
    async with _LOCKS.setdefault(loop_id, asyncio.Lock()):
        listener = _LISTENERS.get(key)
        if listener is None:
            listener = WebhookListener(host, port)
            await listener.start()
            _LISTENERS[key] = listener
        subscriber = _Subscriber(secret=secret.encode("utf-8", "surrogateescape"))
        listener.routes.setdefault(path, []).append(subscriber)
        return subscriber


async def unsubscribe(host: str, port: int, path: str, subscriber: _Subscriber) -> None:
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


# -- triggers -------------------------------------------------------------------------------------


class HfWebhookTrigger(BaseEventTrigger):
    """Fire one event per Hub webhook delivery that matches ``repo_ids`` and ``events``.

    Runs an HTTP listener on ``host:port`` inside the triggerer (shared by every trigger on that port, routed
    by ``path``). Each delivery must carry ``X-Webhook-Secret`` equal to the password of the connection
    ``secret_conn_id`` (compared in constant time). On start, the trigger reconciles with the Hub: for each
    watched repo whose ``main`` head differs from the watermark it fires a ``source: "reconcile"`` event, so
    deliveries missed while it was down are not lost; the watermark is advanced with every content event, and
    a head it already fired for is never fired again. The first start only records the current heads.

    Event payload: ``{"repo_id", "repo_type", "event": "repo.content.update", "revision", "head_sha",
    "updated_refs": [{"ref", "old_sha", "new_sha"}], "source": "webhook"|"reconcile", ...}``.

    Example::

        from airflow.sdk import DAG, Asset, AssetWatcher

        trigger = HfWebhookTrigger(port=8795, secret_conn_id="hf_webhook_secret", repo_ids=["alice/my-model"],
                                   events=["repo.content"])
        model = Asset("hf://models/alice/my-model", watchers=[AssetWatcher(name="hub", trigger=trigger)])
        with DAG("on_new_model", schedule=[model]): ...

    :param port: TCP port of the listener.
    :param path: URL path this trigger answers (several triggers may share a port with different paths).
    :param secret_conn_id: connection whose password is the webhook secret.
    :param host: interface to bind (``0.0.0.0`` = all).
    :param repo_ids: repos to fire for (``"alice/x"``, ``"datasets/alice/x"``, ``"spaces/alice/x"``); ``None``
        fires for every repo the webhook sends (and skips reconciliation, which needs repo names).
    :param events: event kinds, ``"scope.action"`` or a dotted prefix (``"repo.content"``, ``"discussion"``);
        ``None`` fires for all.
    :param hf_conn_id: the Hub connection used to reconcile.
    """

    def __init__(
        self,
        *,
        port: int,
        path: str = "/hf-webhook",
        secret_conn_id: str,
        host: str = "0.0.0.0",
        repo_ids: list[str] | None = None,
        events: list[str] | None = None,
        hf_conn_id: str = "huggingface_hub_default",
    ) -> None:
        super().__init__()
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port must be an integer between 1 and 65535; got {port!r}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/'; got {path!r}")
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
        self.port, self.path, self.host = port, path, host
        self.secret_conn_id, self.hf_conn_id = secret_conn_id, hf_conn_id
        self.repo_ids, self.events = repo_ids, events

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_hub.triggers.webhooks.HfWebhookTrigger",
            {
                "port": self.port,
                "path": self.path,
                "secret_conn_id": self.secret_conn_id,
                "host": self.host,
                "repo_ids": self.repo_ids,
                "events": self.events,
                "hf_conn_id": self.hf_conn_id,
            },
        )

    def _watermark_key(self) -> str:
        return f"webhook:{self.host}:{self.port}{self.path}"

    def _wanted(self, event: dict[str, Any]) -> bool:
        if self.repo_ids is not None:
            watched = {parse_watched_repo(r) for r in self.repo_ids}
            if (event["repo_type"], event["repo_id"]) not in watched:
                return False
        return event_matches(event["event"], self.events)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.sdk.bases.hook import BaseHook
        from airflow.sdk.log import mask_secret

        if hasattr(BaseHook, "aget_connection"):
            connection = await BaseHook.aget_connection(self.secret_conn_id)
        else:  # Airflow 3.2
            connection = await asyncio.to_thread(BaseHook.get_connection, self.secret_conn_id)
        secret = connection.password or ""
        if not secret:
            raise ValueError(
                f"connection {self.secret_conn_id!r} has no password to use as the webhook secret"
            )
        mask_secret(secret)
        watermarks = Watermarks(self, self._watermark_key())
        # Listen first, then reconcile: a delivery arriving meanwhile waits in the queue, and the watermark
        # dedupes it against what reconciliation fired.
        subscriber = await subscribe(self.host, self.port, self.path, secret)
        self.log.info("Listening for Hub webhooks on http://%s:%s%s", self.host, self.port, self.path)
        try:
            if self.repo_ids is not None and event_matches("repo.content.update", self.events):
                for repo_type, repo_id in sorted({parse_watched_repo(r) for r in self.repo_ids}):
                    event = await _reconcile(
                        self.hf_conn_id, repo_type, repo_id, "main", watermarks, self.log
                    )
                    if event is not None:
                        yield TriggerEvent(event)
            while True:
                event = await subscriber.queue.get()
                if not self._wanted(event):
                    continue
                if _moves_main(event):
                    repo = f"{event['repo_type']}/{event['repo_id']}@main"
                    if await watermarks.get(repo) == event["head_sha"]:
                        continue
                    await watermarks.set(repo, event["head_sha"])
                yield TriggerEvent(event)
        finally:
            await unsubscribe(self.host, self.port, self.path, subscriber)


def _moves_main(event: dict[str, Any]) -> bool:
    """Whether a delivery reports ``main``'s head, the one the watermark tracks (and a redelivery repeats).

    A tag, a PR or another branch leaves ``main`` where it was: such a delivery fires without the watermark.
    """
    if event["event"] != "repo.content.update" or not event["head_sha"]:
        return False
    refs = [r["ref"] for r in event["updated_refs"]]
    return not refs or "refs/heads/main" in refs


async def _reconcile(
    hf_conn_id: str, repo_type: str, repo_id: str, revision: str, watermarks: Watermarks, log: Any
) -> dict[str, Any] | None:
    """Compare the head with the watermark: an event when it moved, ``None`` when not (or on first sight)."""
    from airflow_provider_hub.exceptions import HfHubNotFoundError
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook

    repo = f"{repo_type}/{repo_id}@{revision}"
    try:
        head = await HfHubAsyncHook(hf_conn_id=hf_conn_id).get_repo_head(repo_id, repo_type, revision)
    except HfHubNotFoundError:
        return None  # not created yet: its creation will be delivered or polled
    previous = await watermarks.get(repo)
    if previous == head:
        return None
    await watermarks.set(repo, head)
    if previous is None:
        log.info("First sight of %s at %s: recorded, not fired", repo, head)
        return None
    return {
        "repo_id": repo_id,
        "repo_type": repo_type,
        "event": "repo.content.update",
        "revision": revision,
        "head_sha": head,
        "updated_refs": [{"ref": f"refs/heads/{revision}", "old_sha": previous, "new_sha": head}],
        "source": "reconcile",
    }


class HfRepoCommitTrigger(BaseEventTrigger):
    """Fire when the head commit of ``revision`` of a repo changes, by polling (no inbound networking).

    One light request per interval (``GET /api/{type}s/{repo}/revision/{rev}?expand=sha``). The last head
    fired for is kept as a watermark (see :class:`Watermarks`), so a restarted trigger fires once for a change
    made while it was down and never twice for the same head. The first poll only records the head.

    Event payload: ``{"repo_id", "repo_type", "revision", "head_sha", "previous_sha",
    "event": "repo.content.update", "source": "poll", "updated_refs"}``.

    Example::

        trigger = HfRepoCommitTrigger(repo_id="alice/my-model", poll_interval=60)
        model = Asset("hf://models/alice/my-model", watchers=[AssetWatcher(name="poll", trigger=trigger)])

    :param repo_id: ``namespace/name``.
    :param repo_type: ``model``, ``dataset`` or ``space``.
    :param revision: the branch to watch.
    :param poll_interval: seconds between polls.
    :param hf_conn_id: the Hub connection.
    """

    def __init__(
        self,
        *,
        repo_id: str,
        repo_type: str = "model",
        revision: str = "main",
        poll_interval: float = 60,
        hf_conn_id: str = "huggingface_hub_default",
    ) -> None:
        super().__init__()
        parse_watched_repo(repo_id)
        if repo_type not in REPO_TYPES:
            raise ValueError(f"repo_type must be one of {', '.join(REPO_TYPES)}; got {repo_type!r}")
        if not revision or not isinstance(revision, str):
            raise ValueError(f"revision must be a branch name; got {revision!r}")
        if not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
            raise ValueError(f"poll_interval must be a positive number of seconds; got {poll_interval!r}")
        self.repo_id, self.repo_type, self.revision = repo_id, repo_type, revision
        self.poll_interval, self.hf_conn_id = poll_interval, hf_conn_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_hub.triggers.webhooks.HfRepoCommitTrigger",
            {
                "repo_id": self.repo_id,
                "repo_type": self.repo_type,
                "revision": self.revision,
                "poll_interval": self.poll_interval,
                "hf_conn_id": self.hf_conn_id,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        watermarks = Watermarks(self, f"poll:{self.repo_type}/{self.repo_id}@{self.revision}")
        failures = 0
        while True:
            try:
                event = await _reconcile(
                    self.hf_conn_id, self.repo_type, self.repo_id, self.revision, watermarks, self.log
                )
                failures = 0
            except Exception:
                failures += 1
                log = self.log.error if failures % _ERROR_LOG_EVERY == 0 else self.log.warning
                log(
                    "Polling the head of %s %s failed (%d in a row)",
                    self.repo_type,
                    self.repo_id,
                    failures,
                    exc_info=True,
                )
                event = None
            if event is not None:
                event["source"] = "poll"
                event["previous_sha"] = event["updated_refs"][0]["old_sha"]
                yield TriggerEvent(event)
            await asyncio.sleep(self.poll_interval)
