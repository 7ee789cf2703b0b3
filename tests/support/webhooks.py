"""Driving an ``HfWebhookTrigger`` from a test: its state store, its ``run()``, a free port, a Hub payload."""

from __future__ import annotations

import asyncio
import socket

from airflow_provider_hub.triggers._watermarks import WatermarkedTrigger
from airflow_provider_hub.triggers.webhooks import HfWebhookTrigger


class StateStore:
    """Stands in for the triggerer's ``asset_state_store`` (only a running triggerer has the real one;
    tests/e2e/test_asset_watchers.py uses it)."""

    def __init__(self, values: dict[str, object] | None = None) -> None:
        self.values: dict[str, object] = dict(values or {})

    @classmethod
    def holding(cls, trigger: WatermarkedTrigger, fields: dict[str, object]) -> StateStore:
        """A store in which ``trigger`` finds ``fields`` (``{"head::model/alice/m@main": [sha]}``)."""
        return cls({f"{trigger.watermark_key}::{field}": value for field, value in fields.items()})

    def fields(self, trigger: WatermarkedTrigger) -> dict[str, object]:
        """What ``trigger`` keeps here, by field (``cursor``, ``unconfirmed``, ``head::{repo}@{branch}``)."""
        prefix = f"{trigger.watermark_key}::"
        return {key.removeprefix(prefix): v for key, v in self.values.items() if key.startswith(prefix)}

    async def aget(self, key: str, default: object = None) -> object:
        return self.values.get(key, default)

    async def aset(self, key: str, value: object) -> None:
        self.values[key] = value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Running:
    """A trigger's ``run()`` driven from a test: ``await next_event()``, ``await stop()``."""

    def __init__(self, trigger: HfWebhookTrigger, store: StateStore) -> None:
        trigger.asset_state_store = store
        self.trigger = trigger
        self.events = trigger.run()
        self.pending: asyncio.Task | None = None

    async def next_event(self, timeout: float = 5.0) -> dict:
        if self.pending is None:
            self.pending = asyncio.ensure_future(self.events.__anext__())
        done, _ = await asyncio.wait({self.pending}, timeout=timeout)
        if not done:
            raise AssertionError("no event")
        event, self.pending = self.pending.result(), None
        return event.payload

    async def expect_nothing(self, seconds: float = 0.4) -> None:
        if self.pending is None:
            self.pending = asyncio.ensure_future(self.events.__anext__())
        done, _ = await asyncio.wait({self.pending}, timeout=seconds)
        assert not done, f"unexpected event {self.pending.result().payload if done else None}"

    async def stop(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            await asyncio.gather(self.pending, return_exceptions=True)
        await self.events.aclose()


def _payload(repo_id="alice/m", sha="a" * 40) -> dict:
    return {
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {
            "type": "model",
            "name": repo_id,
            "id": "x",
            "private": False,
            "headSha": sha,
            "url": {"web": ""},
        },
        "updatedRefs": [{"ref": "refs/heads/main", "oldSha": None, "newSha": sha}],
        "webhook": {"id": "w", "version": 3},
    }
