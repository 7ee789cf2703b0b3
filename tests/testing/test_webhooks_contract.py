"""Webhooks of the emulator, driven by the real ``huggingface_hub`` client, with real deliveries.

A small HTTP server on loopback plays the webhook receiver; it records what the emulator POSTs.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from huggingface_hub import HfApi, WebhookPayload
from huggingface_hub.errors import HfHubHTTPError

from airflow_provider_hub.testing._core import RepoChange


class Receiver:
    """Records deliveries; answers the statuses queued in ``plan`` first, then 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, dict]] = []
        self.plan: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver.plan.pop(0) if receiver.plan else 200
                receiver.received.append((dict(self.headers), json.loads(body)))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 5.0) -> list[tuple[dict, dict]]:
        deadline = time.time() + timeout
        while len(self.received) < count and time.time() < deadline:
            time.sleep(0.01)
        assert len(self.received) >= count, f"expected {count} deliveries, got {self.received}"
        return self.received


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _wait_deliveries(hub, count: int, timeout: float = 5.0) -> list[dict]:
    deadline = time.time() + timeout
    while len(hub.webhook_deliveries()) < count and time.time() < deadline:
        time.sleep(0.01)
    return hub.webhook_deliveries()


def test_crud_enable_disable(api, receiver):
    created = api.create_webhook(
        url=receiver.url, watched=[{"type": "model", "name": "alice/m"}], domains=["repo"], secret="s3cret"
    )
    assert created.url == receiver.url and created.domains == ["repo"] and created.secret == "s3cret"
    assert not created.disabled
    assert [w.id for w in api.list_webhooks()] == [created.id]
    assert api.get_webhook(created.id).watched[0].name == "alice/m"

    updated = api.update_webhook(
        created.id,
        url=receiver.url,
        watched=[{"type": "org", "name": "acme"}],
        domains=["repo", "discussion"],
    )
    assert updated.watched[0].type == "org" and set(updated.domains) == {"repo", "discussion"}
    assert api.disable_webhook(created.id).disabled
    assert not api.enable_webhook(created.id).disabled
    api.delete_webhook(created.id)
    assert api.list_webhooks() == []
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.get_webhook(created.id)
    assert excinfo.value.response.status_code == 404


def test_webhooks_are_private_to_their_owner(hub_connection, api, receiver):
    api.create_webhook(url=receiver.url, watched=[{"type": "user", "name": "alice"}])
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    assert bob.list_webhooks() == []


def test_invalid_webhook_is_rejected(api):
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_webhook(url="http://127.0.0.1:1/x", watched=[{"type": "planet", "name": "mars"}])
    assert excinfo.value.response.status_code == 400


def test_commit_delivers_the_hub_payload_with_the_secret(hub_connection, api, receiver):
    api.create_repo("alice/m")
    head_before = api.model_info("alice/m").sha
    hook = api.create_webhook(
        url=receiver.url, watched=[{"type": "model", "name": "alice/m"}], secret="s3cret"
    )
    commit = api.upload_file(path_or_fileobj=b"hello", path_in_repo="a.txt", repo_id="alice/m")

    headers, body = receiver.wait(1)[0]
    assert headers["X-Webhook-Secret"] == "s3cret"
    payload = WebhookPayload.model_validate(body)  # the client's own model accepts it
    assert (payload.event.scope, payload.event.action) == ("repo.content", "update")
    assert (payload.repo.type, payload.repo.name, payload.repo.private) == ("model", "alice/m", False)
    assert payload.repo.head_sha == commit.oid == body["repo"]["headSha"]
    assert payload.webhook.id == hook.id and payload.webhook.version == 3
    assert [(r.ref, r.oldSha, r.newSha) for r in payload.updatedRefs] == [
        ("refs/heads/main", head_before, commit.oid)
    ]
    [record] = _wait_deliveries(hub_connection, 1)
    assert (record["status"], record["attempts"], record["error"], record["url"]) == (
        200,
        1,
        None,
        receiver.url,
    )
    assert record["payload"] == body


def test_watched_namespace_domains_and_disabled(hub_connection, api, receiver):
    api.create_repo("acme/d", repo_type="dataset")
    api.create_repo("alice/other")
    org_hook = api.create_webhook(
        url=receiver.url, watched=[{"type": "org", "name": "acme"}], domains=["repo"]
    )
    api.create_webhook(
        url=receiver.url, watched=[{"type": "model", "name": "alice/other"}], domains=["discussion"]
    )
    disabled = api.create_webhook(url=receiver.url, watched=[{"type": "user", "name": "alice"}])
    api.disable_webhook(disabled.id)

    api.upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id="acme/d", repo_type="dataset")
    api.upload_file(path_or_fileobj=b"y", path_in_repo="y", repo_id="alice/other")  # repo domain: not watched
    api.create_discussion("alice/other", title="hi")  # discussion domain: delivered
    received = receiver.wait(2)
    time.sleep(0.3)  # nothing else may arrive
    events = sorted(
        (b["webhook"]["id"] == org_hook.id, b["event"]["scope"], b["repo"]["name"]) for _, b in received
    )
    assert events == [(False, "discussion", "alice/other"), (True, "repo.content", "acme/d")]
    discussion = next(b for _, b in received if b["event"]["scope"] == "discussion")
    assert WebhookPayload.model_validate(discussion).discussion.title == "hi"


def test_failed_delivery_is_retried_and_recorded(hub_connection, api, receiver):
    api.create_webhook(url=receiver.url, watched=[{"type": "user", "name": "alice"}], domains=["repo"])
    receiver.plan = [500, 503]
    hub_connection.state.publish(RepoChange("model", "alice/z", "repo", "create", head_sha="a" * 40))
    [record] = _wait_deliveries(hub_connection, 1)
    assert (record["status"], record["attempts"], record["error"]) == (200, 3, None)
    assert len(receiver.received) == 3


def test_unreachable_receiver_gives_up_after_the_retries(hub_connection, api):
    api.create_webhook(url="http://127.0.0.1:9/nowhere", watched=[{"type": "user", "name": "alice"}])
    started = time.time()
    api.create_repo("alice/r")  # the request that made the change does not wait for the delivery
    assert time.time() - started < 1.0
    [record] = _wait_deliveries(hub_connection, 1)
    assert record["status"] is None and record["attempts"] == 3 and "ConnectError" in record["error"]
    assert record["payload"]["event"] == {"action": "create", "scope": "repo"}
