"""The webhooks area's backend: each user's webhooks and their real deliveries.

Every :class:`~airflow_provider_hub.testing._core.RepoChange` published on the change feed is
matched against the enabled webhooks (watched items and domains); each match is POSTed to the
webhook's URL with the Hub's payload and the ``X-Webhook-Secret`` header by a background worker,
so the request that made the change never waits for a delivery. Failed deliveries are retried a
few times with a short backoff, and every delivery is recorded for
:meth:`WebhookBackend.deliveries`.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_hub.testing._core import Principal, RepoChange
from airflow_provider_hub.testing.backends.repo_model import URL_PREFIX
from airflow_provider_hub.testing.errors import BadRequest, Forbidden, NotFound

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState

WATCHED_TYPES = ("model", "dataset", "space", "user", "org", "bucket")
#: The repo types of a payload (``huggingface_hub``'s ``WebhookPayloadRepo.type``): a kernel's change would
#: fail its validation, so kernel changes are not delivered.
PAYLOAD_REPO_TYPES = ("model", "dataset", "space")
DOMAINS = ("repo", "discussion")
#: Delivery attempts per change and the pause before each retry (seconds).
DELIVERY_ATTEMPTS = 3
RETRY_BACKOFF = (0.1, 0.3)
DELIVERY_TIMEOUT = 5.0


class WebhookBackend:
    """The webhooks of every user, and the worker that delivers repo changes to them."""

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        self._webhooks: dict[str, dict[str, Any]] = {}
        self._deliveries: list[dict[str, Any]] = []
        self._outbox: queue.Queue[tuple[dict[str, Any], dict[str, Any]] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._closed = False
        hub.subscribe(self._on_change)
        hub.on_close(self.close)

    # -- CRUD ---------------------------------------------------------------------------------------
    def list_for(self, principal: Principal) -> list[dict[str, Any]]:
        with self.hub.lock:
            return [self.public_view(w) for w in self._webhooks.values() if w["owner"] == principal.user]

    def get(self, principal: Principal, webhook_id: str) -> dict[str, Any]:
        with self.hub.lock:
            webhook = self._webhooks.get(webhook_id)
            if webhook is None or webhook["owner"] != principal.user:
                raise NotFound(f"Webhook {webhook_id} not found")
            return webhook

    def create(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        if not principal.can_write:
            raise Forbidden("You need a write token to manage webhooks")
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise BadRequest("A webhook needs an http(s) 'url' (job-triggered webhooks are not emulated)")
        webhook: dict[str, Any] = {
            "id": secrets.token_hex(12),
            "owner": principal.user,
            "url": url,
            "watched": _watched(body.get("watched")),
            "domains": _domains(body.get("domains")),
            "secret": _secret(body.get("secret")),
            "disabled": False,
        }
        with self.hub.lock:
            self._webhooks[webhook["id"]] = webhook
        return webhook

    def update(self, principal: Principal, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.hub.lock:
            webhook = self.get(principal, webhook_id)
            if "url" in body and body["url"] is not None:
                if not str(body["url"]).startswith(("http://", "https://")):
                    raise BadRequest("'url' must be an http(s) URL")
                webhook["url"] = body["url"]
            if "watched" in body:
                webhook["watched"] = _watched(body["watched"])
            if body.get("domains") is not None:
                webhook["domains"] = _domains(body["domains"])
            if "secret" in body:
                webhook["secret"] = _secret(body["secret"])
            return webhook

    def set_disabled(self, principal: Principal, webhook_id: str, disabled: bool) -> dict[str, Any]:
        with self.hub.lock:
            webhook = self.get(principal, webhook_id)
            webhook["disabled"] = disabled
            return webhook

    def delete(self, principal: Principal, webhook_id: str) -> None:
        with self.hub.lock:
            self.get(principal, webhook_id)
            del self._webhooks[webhook_id]

    @staticmethod
    def public_view(webhook: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in webhook.items() if key != "owner"}

    # -- deliveries ---------------------------------------------------------------------------------
    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery so far, oldest first: url, webhook_id, status, payload, attempts, error."""
        with self.hub.lock:
            return [dict(d) for d in self._deliveries]

    def _on_change(self, change: RepoChange) -> None:
        if change.repo_type not in PAYLOAD_REPO_TYPES:
            return
        domain = "discussion" if change.scope.startswith("discussion") else "repo"
        with self.hub.lock:
            matching = [
                dict(w)
                for w in self._webhooks.values()
                if not w["disabled"] and domain in w["domains"] and _watches(w, change)
            ]
            if not matching or self._closed:
                return
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._deliver_forever, name="hub-webhooks", daemon=True
                )
                self._worker.start()
        for webhook in matching:
            self._outbox.put((webhook, self._payload(change, webhook)))

    def _payload(self, change: RepoChange, webhook: dict[str, Any]) -> dict[str, Any]:
        base = self.hub.base_url
        namespace = change.repo_id.split("/")[0]
        url_path = f"{URL_PREFIX.get(change.repo_type, '')}{change.repo_id}"
        payload: dict[str, Any] = {
            "event": {"action": change.action, "scope": change.scope},
            "repo": {
                "type": change.repo_type,
                "name": change.repo_id,
                "id": f"r-{change.repo_type}-{change.repo_id}",
                "private": change.private,
                "owner": {"id": f"u-{namespace}"},
                "url": {
                    "web": f"{base}/{url_path}",
                    "api": f"{base}/api/{change.repo_type}s/{change.repo_id}",
                },
                # The Hub sends ``headSha``; huggingface_hub's model reads ``head_sha``: send both.
                "headSha": change.head_sha,
                "head_sha": change.head_sha,
                "tags": [],
            },
            "webhook": {"id": webhook["id"], "version": 3},
        }
        if change.updated_refs:
            payload["updatedRefs"] = [dict(ref) for ref in change.updated_refs]
        if change.discussion is not None:
            payload["discussion"] = change.discussion
        if change.moved_to:
            payload["movedTo"] = {
                "name": change.moved_to,
                "owner": {"id": f"u-{change.moved_to.split('/')[0]}"},
            }
        return payload

    def _deliver_forever(self) -> None:
        with httpx.Client(timeout=DELIVERY_TIMEOUT, trust_env=False) as client:
            while True:
                item = self._outbox.get()
                if item is None:
                    return
                self._deliver(client, *item)

    def _deliver(self, client: httpx.Client, webhook: dict[str, Any], payload: dict[str, Any]) -> None:
        headers = {"X-Webhook-Secret": webhook["secret"]} if webhook["secret"] else {}
        record: dict[str, Any] = {
            "webhook_id": webhook["id"],
            "url": webhook["url"],
            "payload": payload,
            "status": None,
            "attempts": 0,
            "error": None,
            "at": time.time(),
        }
        for attempt in range(DELIVERY_ATTEMPTS):
            if attempt:
                time.sleep(RETRY_BACKOFF[min(attempt - 1, len(RETRY_BACKOFF) - 1)])
            if self._closed:
                break
            record["attempts"] = attempt + 1
            try:
                response = client.post(webhook["url"], json=payload, headers=headers)
            except httpx.HTTPError as exc:
                record["status"], record["error"] = None, f"{type(exc).__name__}: {exc}"
                continue
            record["status"] = response.status_code
            if response.is_success:
                record["error"] = None
                break
            record["error"] = f"HTTP {response.status_code}: {response.text[:200]}"
        with self.hub.lock:
            self._deliveries.append(record)

    def close(self) -> None:
        """Stop the delivery worker (pending deliveries are dropped)."""
        with self.hub.lock:
            self._closed = True
            worker, self._worker = self._worker, None
        if worker is not None:
            self._outbox.put(None)
            worker.join(timeout=DELIVERY_TIMEOUT + 1)


def _watches(webhook: dict[str, Any], change: RepoChange) -> bool:
    namespace = change.repo_id.split("/")[0]
    for item in webhook["watched"]:
        if item["type"] in ("user", "org"):
            if item["name"] == namespace:
                return True
        elif item["type"] == change.repo_type and item["name"] == change.repo_id:
            return True
    return False


def _watched(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise BadRequest("'watched' must be a non-empty list of {type, name}")
    items = []
    for item in value:
        if not isinstance(item, dict) or item.get("type") not in WATCHED_TYPES or not item.get("name"):
            raise BadRequest(f"Invalid watched item {item!r}: type must be one of {', '.join(WATCHED_TYPES)}")
        items.append({"type": item["type"], "name": str(item["name"])})
    return items


def _domains(value: Any) -> list[str]:
    if value is None:
        return list(DOMAINS)
    if not isinstance(value, list) or not value or any(d not in DOMAINS for d in value):
        raise BadRequest(f"'domains' must be a non-empty subset of {list(DOMAINS)}, got {value!r}")
    return list(dict.fromkeys(value))


def _secret(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest("'secret' must be a string")
    return value


def attach(hub: HubState) -> None:
    """Create this area's backend on ``hub`` (``hub.webhooks``)."""
    hub.webhooks = WebhookBackend(hub)
