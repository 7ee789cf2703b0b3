"""A client that goes away mid-request: as on the Hub, the request did nothing, and the emulator logs nothing.

A raw socket sends a request's headers and part of its body, then closes the connection. Starlette raises
``ClientDisconnect`` where the route reads the body; the emulator ends the request there, quietly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from huggingface_hub import HfApi

from airflow_provider_hub.testing import HubEmulator

REPO = "alice/disconnects"
#: Where a server-side error would be logged: uvicorn's loggers (which do not propagate to the root
#: logger), the web framework's and ours.
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.asgi", "starlette", "fastapi", "airflow_provider_hub")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_log() -> Iterator[Records]:
    handler = Records()
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)


def send_part_then_close(hub: HubEmulator, method: str, target: str, body: bytes, content_type: str) -> None:
    """Headers promising ``len(body) + 4096`` bytes, then ``body`` only, then close the connection."""
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: {hub.host}:{hub.port}\r\n"
        f"Authorization: Bearer {hub.token}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body) + 4096}\r\n\r\n"
    ).encode()
    with socket.create_connection((hub.host, hub.port), timeout=10) as client:
        client.sendall(head + body)
        time.sleep(0.3)  # the route is reading the body by now


def commit_body() -> bytes:
    lines = [
        {"key": "header", "value": {"summary": "Never lands"}},
        {"key": "file", "value": {"path": "a.txt", "content": "aGk=", "encoding": "base64"}},
    ]
    return b"\n".join(json.dumps(line).encode() for line in lines)


CASES = {
    # NDJSON read whole with request.body()
    "commit": ("POST", f"/api/models/{REPO}/commit/main", commit_body(), "application/x-ndjson"),
    # a JSON body read with request.json()
    "create_repo": ("POST", "/api/repos/create", b'{"name": "never-created", "organiz', "application/json"),
    # an LFS object streamed to disk with request.stream()
    "lfs_upload": (
        "PUT",
        f"/_lfs/objects/{hashlib.sha256(b'x' * 8192).hexdigest()}?size=8192",
        b"x" * 4096,
        "application/octet-stream",
    ),
}


def hub_state(hub: HubEmulator, api: HfApi) -> dict[str, Any]:
    blobs = hub.state.repos.blobs  # type: ignore[attr-defined]
    return {
        "commits": [c.commit_id for c in api.list_repo_commits(REPO)],
        "repos": sorted(m.id for m in api.list_models(author="alice")),
        "blob": blobs.has(hashlib.sha256(b"x" * 8192).hexdigest()),
        "temp_files": sorted(p.name for p in blobs.tmp.iterdir()),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_client_disconnect_mid_body_changes_nothing_and_logs_nothing(
    case: str, hub_connection: HubEmulator, server_log: Records, capfd: pytest.CaptureFixture[str]
) -> None:
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo(REPO)
    before = hub_state(hub_connection, api)
    hub_connection.reset_counts()

    method, target, body, content_type = CASES[case]
    send_part_then_close(hub_connection, method, target, body, content_type)

    assert hub_connection.request_count(method=method) == 1  # the request reached a route
    deadline = time.monotonic() + 5
    while hub_state(hub_connection, api) != before and time.monotonic() < deadline:
        time.sleep(0.05)  # an LFS upload's temp file goes once the server has seen the disconnect
    assert hub_state(hub_connection, api) == before
    time.sleep(0.5)  # anything the server would log about the request is logged by now

    # It keeps serving: the same commit, sent whole, lands once.
    commit = api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=REPO)
    assert [c.commit_id for c in api.list_repo_commits(REPO)] == [commit.oid, *before["commits"]]

    noisy = [r for r in server_log.records if r.levelno >= logging.WARNING or r.exc_info]
    assert noisy == [], [r.getMessage() for r in noisy]
    captured = capfd.readouterr()
    for text in (captured.out, captured.err):
        assert "Traceback" not in text and "ClientDisconnect" not in text and "ERROR" not in text, text
