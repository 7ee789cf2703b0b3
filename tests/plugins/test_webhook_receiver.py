"""The api-server's webhook receiver: what it answers and records, alone and in bursts.

The receiver runs as Airflow's api-server mounts it (the real ``create_app`` with the plugin loaded through
its entry point) and as a real uvicorn server on loopback, recording into the real metadata database (the
test session's SQLite). The HfWebhookTrigger reading what it recorded (real deliveries from the emulator's
webhook worker after real commits made with huggingface_hub) is in
``tests/triggers/test_webhooks_receiver_feed.py``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx

from airflow_provider_hub.plugins.webhook_receiver import MAX_BODY_BYTES
from tests.support.webhook_receiver import PATH, SECRET


def _payload(repo: str = "alice/m", sha: str = "a" * 40) -> dict:
    return {
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {"type": "model", "name": repo, "id": "x", "private": False, "headSha": sha},
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": "0" * 40, "newSha": sha}],
        "webhook": {"id": "w", "version": 3},
    }


def test_airflow_api_server_mounts_the_receiver(airflow_db, inbox, watcher_row, secret_conn):
    """The plugin is loaded through its entry point with Airflow's default configuration, and its routes win
    over the UI's catch-all (which answers 405 to a POST)."""
    from airflow.api_fastapi.app import create_app as create_airflow_app
    from airflow.api_fastapi.app import purge_cached_app
    from fastapi.testclient import TestClient

    purge_cached_app()
    client = TestClient(create_airflow_app())
    answer = client.post(f"/hf-webhooks/{PATH}", json=_payload(), headers={"X-Webhook-Secret": SECRET})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "accepted"
    assert client.post("/hf-webhooks/nobody-watches-this", json=_payload()).status_code == 404
    found, _ = inbox.read(PATH, "hf_webhook_secret", 0)
    assert [d.event["head_sha"] for d in found] == ["a" * 40]


def test_answers_and_what_is_recorded(receiver, inbox):
    url = f"{receiver}/{PATH}"
    ok = {"X-Webhook-Secret": SECRET}
    with httpx.Client() as http:
        assert http.post(url, json=_payload()).status_code == 401
        assert http.post(url, json=_payload(), headers={"X-Webhook-Secret": "wrong"}).status_code == 401
        too_big = json.dumps({**_payload(), "padding": "x" * MAX_BODY_BYTES})
        assert http.post(url, content=too_big, headers=ok).status_code == 413
        assert http.post(url, content=b"not json", headers=ok).status_code == 400
        assert http.post(url, json={"event": {}}, headers=ok).status_code == 400
        assert http.get(url, headers=ok).status_code == 405
        first = http.post(url, json=_payload(sha="b" * 40), headers=ok)
        again = http.post(url, json=_payload(sha="b" * 40), headers=ok)  # a redelivery
        other = http.post(url, json=_payload(sha="c" * 40), headers=ok)
        assert first.status_code == again.status_code == other.status_code == 200
        assert first.json()["id"] == again.json()["id"] != other.json()["id"]

        reads = f"{url}/deliveries"
        assert http.get(reads, params={"secret_conn_id": "hf_webhook_secret", "after": 0}).status_code == 401
        answer = http.get(reads, params={"secret_conn_id": "hf_webhook_secret", "after": 0}, headers=ok)
        assert answer.status_code == 200
        body = answer.json()
        assert [d["event"]["head_sha"] for d in body["deliveries"]] == ["b" * 40, "c" * 40]
        assert body["last_id"] == other.json()["id"]
        newest = http.get(reads, params={"secret_conn_id": "hf_webhook_secret"}, headers=ok).json()
        assert newest == {"deliveries": [], "last_id": other.json()["id"]}

        # A waiting read is answered as soon as a delivery is recorded, not at the end of its wait.
        started = time.monotonic()
        poster = threading.Timer(0.3, lambda: httpx.post(url, json=_payload(sha="d" * 40), headers=ok))
        poster.start()
        waited = http.get(
            reads,
            params={"secret_conn_id": "hf_webhook_secret", "after": body["last_id"], "wait": 10},
            headers=ok,
            timeout=20,
        ).json()
        assert [d["event"]["head_sha"] for d in waited["deliveries"]] == ["d" * 40]
        assert time.monotonic() - started < 3
    rows = inbox.read(PATH, "hf_webhook_secret", 0)[0]
    assert SECRET not in json.dumps([r.event for r in rows])


async def test_a_burst_is_recorded_together_each_answered_once_committed(receiver, inbox):
    """Concurrent deliveries share transactions (group commit); each answer names its own row, a redelivery
    in the same burst names the first one's, and every answered delivery is there to read."""
    url = f"{receiver}/{PATH}"
    shas = [f"{n:040x}" for n in range(60)]
    async with httpx.AsyncClient(headers={"X-Webhook-Secret": SECRET}) as http:
        answers = await asyncio.gather(
            *(http.post(url, json=_payload(sha=sha)) for sha in [*shas, shas[0], shas[1]])
        )
    assert {a.status_code for a in answers} == {200}
    ids = [a.json()["id"] for a in answers]
    assert len(set(ids[:60])) == 60 and ids[60:] == ids[:2]
    found, _ = inbox.read(PATH, "hf_webhook_secret", 0)
    assert sorted(d.event["head_sha"] for d in found) == shas
    assert {d.id for d in found} == set(ids)
