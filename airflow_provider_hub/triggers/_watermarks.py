"""Which repo heads an event trigger fired for, kept where a restarted or moved trigger finds them.

:class:`~airflow_provider_hub.triggers.webhooks.HfWebhookTrigger` and
:class:`~airflow_provider_hub.triggers.repo.HfRepoCommitTrigger` keep a *watermark* (the head shas they fired
for, newest last) per watched repo, in the watcher's ``asset_state_store`` (Airflow >= 3.3) or in an Airflow
Variable (Airflow 3.2), so that a restarted trigger fires for the changes it missed and never twice for the same
head. The webhook trigger also keeps its *cursor* there: the id of the last recorded delivery it has handled.
Each trigger configuration keeps its own (:func:`watermark_key`).

Example::

    fired = FiredHeads(Watermarks(trigger))  # trigger.watermark_key: "poll:model/alice/my-model@main:3f9a..."
    event = await reconcile_head(hook, "model", "alice/my-model", "main", fired, log)  # None: nothing new
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook

#: Head shas remembered per repo: a late redelivery of any of them does not fire again.
FIRED_HEADS_KEPT = 64
#: Age after which an event a previous holder fired, and the triggerer never stored, is fired again: the
#: previous holder was killed before its triggerer stored it. A holder stopped (not killed) for longer and
#: then woken stores it too: a duplicate, never a loss.
REFIRE_AFTER_SECONDS = 30.0


def watermark_key(name: str, trigger_arguments: dict[str, Any]) -> str:
    """``name`` (what the trigger watches, for a reader) and a digest of all the trigger's arguments.

    Two watchers of one webhook path, repo or asset that differ in any argument (repos, events, interval,
    connection) are two triggers: neither may take the other's cursor or count the other's heads as its own.
    Changing an argument makes a new watcher, as Airflow sees it too (it replaces the trigger).
    """
    canonical = json.dumps(trigger_arguments, sort_keys=True, default=str)
    return f"{name}:{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


class WatermarkedTrigger(Protocol):
    """A trigger that keeps a watermark: its key, and the store a triggerer gives an asset's watcher."""

    @property
    def watermark_key(self) -> str: ...


class Watermarks:
    """The head shas fired for per ``{repo_type}/{repo_id}@{revision}``, and the webhook trigger's cursor.

    Kept in the watcher's ``asset_state_store`` when the triggerer provides one (Airflow >= 3.3), under
    ``{watermark_key}::{field}``; otherwise in the Airflow Variable ``hf_watermark::{watermark_key}`` (a JSON
    object of the fields), which works on 3.2 and for a trigger run outside a watcher. Every read goes to the
    store, not to a copy: after a handover, or when a stopped triggerer wakes up, what another triggerer fired
    meanwhile is seen. The Variable is read and written through the task SDK, so it needs the triggerer (or
    ``dag.test``) context.
    """

    def __init__(self, trigger: WatermarkedTrigger) -> None:
        self._store = getattr(trigger, "asset_state_store", None)
        self.key = trigger.watermark_key
        self._variable = f"hf_watermark::{self.key}"

    def _accessors(self) -> list[Any]:
        # Identical watchers of several assets share one trigger, whose store then spans those assets and has
        # no single-asset form: keep the watermark in each of them.
        store = self._store
        many = [*getattr(store, "_by_name", {}).values(), *getattr(store, "_by_uri", {}).values()]
        return many or [store]

    async def _get(self, field: str) -> Any:
        if self._store is not None:
            for accessor in self._accessors():
                value = await accessor.aget(f"{self.key}::{field}")
                if value is not None:
                    return value
            return None
        return (await self._load()).get(field)

    async def _set(self, field: str, value: Any) -> None:
        if self._store is not None:
            for accessor in self._accessors():
                await accessor.aset(f"{self.key}::{field}", value)
            return
        values = await self._load()
        values[field] = value
        await asyncio.to_thread(set_variable, self._variable, json.dumps(values))

    async def _load(self) -> dict[str, Any]:
        raw = await asyncio.to_thread(get_variable, self._variable)
        try:
            loaded = json.loads(raw) if raw else {}
        except ValueError:
            loaded = {}
        return loaded if isinstance(loaded, dict) else {}

    async def fired(self, repo: str) -> list[str]:
        """The heads fired for ``repo``, newest last (a bare string is what earlier versions stored)."""
        value = await self._get(f"head::{repo}")
        if isinstance(value, str):
            return [value]
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    async def record(self, repo: str, sha: str) -> None:
        heads = [h for h in await self.fired(repo) if h != sha]
        await self._set(f"head::{repo}", [*heads, sha][-FIRED_HEADS_KEPT:])

    async def unconfirmed(self) -> list[dict[str, Any]]:
        """Events fired whose storing by the triggerer is not confirmed yet (see :class:`FiredHeads`)."""
        value = await self._get("unconfirmed")
        return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []

    async def set_unconfirmed(self, entries: list[dict[str, Any]]) -> None:
        await self._set("unconfirmed", entries[-FIRED_HEADS_KEPT:])

    async def cursor(self) -> int | None:
        value = await self._get("cursor")
        return value if isinstance(value, int) else None

    async def set_cursor(self, value: int) -> None:
        await self._set("cursor", value)


class FiredHeads:
    """Which heads a trigger fired for, so that each head fires once across restarts and handovers.

    Without ``confirm`` a head is recorded in the watermark as it fires. With it (the receiver's view of the
    database), a fired head stays *unconfirmed* until the triggerer has stored its asset event, because a
    trigger's event reaches the database a moment after it is yielded, through the triggerer's supervisor: a
    ``kill -9`` in between would otherwise lose it. A later holder fires again what a previous one fired and
    the database never got, once it is :data:`REFIRE_AFTER_SECONDS` old (a stopped, not yet reassigned-away
    holder may still store it within that time).
    """

    def __init__(self, watermarks: Watermarks, confirm: Confirm | None = None) -> None:
        self.watermarks, self.confirm = watermarks, confirm
        self.holder = uuid.uuid4().hex

    async def heads(self, repo: str) -> list[str]:
        """The heads fired for ``repo``, confirmed or not, oldest first."""
        pending = [e["head"] for e in await self.watermarks.unconfirmed() if e.get("repo") == repo]
        return [*await self.watermarks.fired(repo), *pending]

    async def fire(self, repo: str, head: str, event: dict[str, Any]) -> bool:
        """Record that ``event`` fires for ``head``; ``False`` when that head fired already."""
        if head in await self.heads(repo):
            return False
        if self.confirm is None:
            await self.watermarks.record(repo, head)
        else:
            entry = {"repo": repo, "head": head, "event": event, "at": time.time(), "by": self.holder}
            await self.watermarks.set_unconfirmed([*await self.watermarks.unconfirmed(), entry])
        return True

    async def settle(self) -> list[dict[str, Any]]:
        """Confirm what the triggerer stored; return the events a previous holder lost, to fire again."""
        entries = await self.watermarks.unconfirmed()
        if not entries or self.confirm is None:
            return []
        stored = await self.confirm(entries)
        if stored is None:  # the receiver is unreachable: ask again next time
            return []
        kept, lost = [], []
        for entry, was_stored in zip(entries, stored, strict=True):
            if was_stored:
                await self.watermarks.record(entry["repo"], entry["head"])
                continue
            if (
                entry.get("by") != self.holder
                and time.time() - float(entry.get("at", 0)) > REFIRE_AFTER_SECONDS
            ):
                lost.append(entry["event"])
                entry = {**entry, "at": time.time(), "by": self.holder}
            kept.append(entry)
        await self.watermarks.set_unconfirmed(kept)
        return lost

    async def next_settle_in(self) -> float | None:
        """Seconds until an unconfirmed event of a previous holder is due to fire again (``None``: none is)."""
        foreign = [e for e in await self.watermarks.unconfirmed() if e.get("by") != self.holder]
        if not foreign:
            return None
        due = min(float(e.get("at", 0)) for e in foreign) + REFIRE_AFTER_SECONDS
        return max(0.0, due - time.time())


Confirm = Callable[[list[dict[str, Any]]], Awaitable["list[bool] | None"]]

# One Variable call at a time from our worker threads: the triggerer's comms are thread-safe, but dag.test's
# in-process comms are not (a call unsets the comms for the whole process while it runs), and a trigger
# tested there would read a concurrent call's answer or none.
_VARIABLE_CALLS = threading.Lock()


def get_variable(key: str) -> str | None:
    from airflow.sdk import Variable

    with _VARIABLE_CALLS:
        return Variable.get(key, default=None)


def set_variable(key: str, value: str) -> None:
    from airflow.sdk import Variable

    with _VARIABLE_CALLS:
        Variable.set(key, value, description="Watermark of an airflow-provider-hub event trigger")


async def reconcile_head(
    hook: HfHubAsyncHook, repo_type: str, repo_id: str, revision: str, fired: FiredHeads, log: Any
) -> dict[str, Any] | None:
    """Compare the head of ``revision`` with what fired: a ``source: "reconcile"`` event (recorded as fired)
    when it moved, ``None`` when not, or on first sight (then the head is only recorded)."""
    # Imported off the loop with the hook (airflow_provider_hub._offloop.async_hook).
    from airflow_provider_hub.exceptions import HfHubNotFoundError

    repo = f"{repo_type}/{repo_id}@{revision}"
    try:
        head = await hook.get_repo_head(repo_id, repo_type, revision)
    except HfHubNotFoundError:
        return None  # not created yet: its creation will be delivered or polled
    known = await fired.heads(repo)
    if head in known:
        return None
    if not known:
        await fired.watermarks.record(repo, head)
        log.info("First sight of %s at %s: recorded, not fired", repo, head)
        return None
    event = {
        "repo_id": repo_id,
        "repo_type": repo_type,
        "event": "repo.content.update",
        "revision": revision,
        "head_sha": head,
        "updated_refs": [{"ref": f"refs/heads/{revision}", "old_sha": known[-1], "new_sha": head}],
        "source": "reconcile",
    }
    await fired.fire(repo, head, event)
    return event
