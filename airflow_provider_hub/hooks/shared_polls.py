"""Shared polls: the triggers of one process that wait on objects of one kind in one scope share one listing.

A thousand triggers each reading its own Job every 30 s make a thousand Hub requests per interval. With a
shared poll, the triggers waiting on Jobs of namespace ``alice`` at the same interval subscribe to one
:class:`SharedPoll`, which lists the namespace's active Jobs once per interval and hands each subscriber its
Job's entry: one request per page of the listing instead of one per wait.

======================  ==========  ===========================================================================
kind                    scope       listing (one request per page)
======================  ==========  ===========================================================================
Jobs                    namespace   ``GET /api/jobs/{ns}?stage=SCHEDULING&stage=RUNNING``, ``Link``-paginated
Inference Endpoints     namespace   ``GET {inference_endpoints_url}/endpoint/{ns}`` (one answer, ``items``)
Space runtimes          namespace   ``GET /api/spaces?author={ns}&expand=runtime``, ``Link``-paginated
Pull requests           repo        ``GET /api/{type}s/{repo}/discussions?type=pull_request&status=open&p=N``
======================  ==========  ===========================================================================

Rules:

- **An object the listing does not show is read alone** (:meth:`SharedPoll.read` answers ``None`` and the
  caller makes its single read): a Job that ended (the listing holds active Jobs only), a merged or closed
  pull request (its details carry the merge commit; the listing holds open ones only), a deleted object (its
  single read is the not-found it was before).
- **Never more requests than the single reads**: a listing stops at the page that finds the last subscriber,
  and gives up after as many pages as there are subscribers (a big namespace with few waits); while its last
  listing took more pages than there are subscribers, a poll answers ``None`` to all of them at once.
- **One poll per interval**: the key includes the interval, so each trigger is read exactly every
  ``poll_interval`` (a poll at the shortest interval of its subscribers would make a 30 s trigger wait up to
  its interval plus the shortest one). Most triggers use ``[huggingface_hub] default_poll_interval``: one poll.
- **Lifetime**: the first subscriber starts the poll, which lists at once and then every interval; a tick
  without a subscriber makes no request, and the second in a row ends the poll (the last trigger cancelled,
  finished or moved to another triggerer): a trigger sleeps between two reads, and one woken a little late by
  a busy loop must not find its poll gone. A subscriber cancelled while it waits leaves at once.
- **Answered page by page**: a subscriber gets its entry as soon as the page holding it arrives, so a listing
  of many pages does not add its whole duration to how late a change is seen.
- **Errors**: a listing is one request per page under the connection's retry policy (the hook's); when it
  fails, every subscriber of that tick not answered yet gets the error, and counts it as its own failed read.

Each event loop has its own polls (as it has its own HTTP clients, :mod:`.async_clients`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_hub.hooks.states import JobState

if TYPE_CHECKING:
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook


#: Ticks in a row without a subscriber after which a poll ends.
IDLE_TICKS_TO_STOP = 2


@dataclass(frozen=True)
class Listing:
    """How one kind of object is listed in one scope, and how an entry of the listing is named."""

    #: What is listed, for logs: ``"active Jobs"``.
    what: str
    #: The pages of the listing of ``scope``, each a list of entries.
    pages: Callable[[HfHubAsyncHook, str], AsyncIterator[list[dict[str, Any]]]]
    #: The id a subscriber reads an entry by (a Job id, an Endpoint name, a Space id, a PR number).
    key_of: Callable[[dict[str, Any]], str]


async def _active_jobs(hook: HfHubAsyncHook, namespace: str) -> AsyncIterator[list[dict[str, Any]]]:
    params = [("stage", stage) for stage in JobState.ACTIVE]
    async for page in hook.get_pages(
        f"/api/jobs/{quote(namespace, safe='')}", params=params, subject=f"active Jobs of {namespace}"
    ):
        yield page


async def _endpoints(hook: HfHubAsyncHook, namespace: str) -> AsyncIterator[list[dict[str, Any]]]:
    listing = await hook.get_json(
        f"/endpoint/{quote(namespace, safe='')}",
        base="endpoints",
        subject=f"Inference Endpoints of {namespace}",
    )
    yield listing.get("items") or []


async def _space_runtimes(hook: HfHubAsyncHook, namespace: str) -> AsyncIterator[list[dict[str, Any]]]:
    async for page in hook.get_pages(
        "/api/spaces",
        params=[("author", namespace), ("expand", "runtime")],
        subject=f"Spaces of {namespace}",
    ):
        # A Space the Hub has no runtime for yet is not listed: its single read says what it is.
        yield [space for space in page if space.get("runtime")]


async def _open_pull_requests(hook: HfHubAsyncHook, scope: str) -> AsyncIterator[list[dict[str, Any]]]:
    plural, repo_id = scope.split("/", 1)
    page_number = seen = 0
    while True:
        page = await hook.get_json(
            f"/api/{plural}/{repo_id}/discussions",
            params={"type": "pull_request", "status": "open", "p": page_number},
            subject=f"open pull requests of {repo_id}",
        )
        discussions = page.get("discussions") or []
        yield discussions
        seen = int(page.get("start") or 0) + len(discussions)
        # The client's own stop rule (get_repo_discussions), with a guard against an empty page that
        # would otherwise be asked again for ever.
        if not discussions or seen >= int(page.get("count") or 0):
            return
        page_number += 1


ACTIVE_JOBS = Listing("active Jobs", _active_jobs, lambda job: str(job.get("id")))
INFERENCE_ENDPOINTS = Listing("Inference Endpoints", _endpoints, lambda endpoint: str(endpoint.get("name")))
SPACE_RUNTIMES = Listing("Space runtimes", _space_runtimes, lambda space: str(space.get("id")))
OPEN_PULL_REQUESTS = Listing("open pull requests", _open_pull_requests, lambda pr: str(pr.get("num")))


class SharedPoll:
    """One listing of ``scope`` every ``interval`` seconds, answering every subscriber waiting at that moment.

    Example::

        poll = shared_poll(hook, ACTIVE_JOBS, "alice", interval=30.0)
        entry = await poll.read("68780d00bbe36d38803f645f")  # the Job's entry, or None: read it alone
    """

    def __init__(
        self, hook: HfHubAsyncHook, listing: Listing, scope: str, interval: float, key: tuple[Any, ...]
    ) -> None:
        self.hook, self.listing, self.scope, self.interval = hook, listing, scope, interval
        self._key = key
        self._waiting: dict[str, list[asyncio.Future[dict[str, Any] | None]]] = {}
        #: The subscribers of the tick being answered.
        self._answering: dict[str, list[asyncio.Future[dict[str, Any] | None]]] = {}
        #: Requests the last listing took (pages); more than there are subscribers: read them alone.
        self.last_listing_requests = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def read(self, entry_id: str) -> dict[str, Any] | None:
        """``entry_id``'s entry in the next listing; ``None`` when the listing does not show it.

        :raises HfHubError: the listing failed (after the connection's retries).
        """
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(entry_id, []).append(future)
        if not self.running:
            self._task = asyncio.create_task(self._run(), name=f"shared poll of {self.listing.what}")
        try:
            return await future
        finally:
            if future.cancelled():
                self._leave(entry_id, future)

    def _leave(self, entry_id: str, future: asyncio.Future[dict[str, Any] | None]) -> None:
        futures = self._waiting.get(entry_id, [])
        if future in futures:
            futures.remove(future)
        if not futures:
            self._waiting.pop(entry_id, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        idle_ticks = 0
        try:
            while True:
                delay = next_tick - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_tick = max(next_tick + self.interval, loop.time())
                waiting, self._waiting = self._waiting, {}
                if waiting:
                    idle_ticks = 0
                    self._answering = waiting
                    await self._answer(waiting)
                    continue
                # Between two reads a trigger sleeps, and a busy loop may wake it just after this tick: only
                # a second tick in a row without a subscriber means that none is left.
                idle_ticks += 1
                if idle_ticks == IDLE_TICKS_TO_STOP:
                    return
        finally:
            _forget(self)
            # Only a cancelled task (its loop closing) ends with subscribers: each gets a failed read
            # rather than a wait for ever.
            stopped = RuntimeError(f"The shared poll of {self.listing.what} of {self.scope} stopped")
            for futures in [*self._answering.values(), *self._waiting.values()]:
                for future in futures:
                    if not future.done():
                        future.set_exception(stopped)

    async def _answer(self, waiting: dict[str, list[asyncio.Future[dict[str, Any] | None]]]) -> None:
        subscribers = len(waiting)
        if self.last_listing_requests <= subscribers:
            requests = 0
            try:
                async for page in self.listing.pages(self.hook, self.scope):
                    requests += 1
                    for entry in page:
                        entry_id = self.listing.key_of(entry)
                        if entry_id in waiting:
                            # Answered with its page, not after the last one: a listing of many pages would
                            # otherwise add its whole duration to how late a change on its first page is seen.
                            for future in waiting.pop(entry_id):
                                if not future.done():
                                    future.set_result(entry)
                    if not waiting:
                        break
                    if requests == subscribers:
                        # As many requests as the single reads would make, and some still unfound:
                        # not worth listing again until there are more subscribers.
                        requests += 1
                        break
            except Exception as exc:
                for futures in waiting.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                return
            self.last_listing_requests = requests
        for futures in waiting.values():
            for future in futures:
                if not future.done():
                    future.set_result(None)


#: The polls of each event loop, by (connection, kind, scope, interval).
_POLLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], SharedPoll]] = (
    weakref.WeakKeyDictionary()
)


def shared_poll(hook: HfHubAsyncHook, listing: Listing, scope: str, *, interval: float) -> SharedPoll:
    """The running loop's poll of ``listing`` in ``scope`` at ``interval`` for ``hook``'s connection; a new
    one (started by its first :meth:`~SharedPoll.read`) when there is none."""
    polls = _POLLS.setdefault(asyncio.get_running_loop(), {})
    key = (hook.hf_conn_id, listing.what, scope, float(interval))
    poll = polls.get(key)
    if poll is None:
        poll = polls[key] = SharedPoll(hook, listing, scope, float(interval), key)
    return poll


def running_polls() -> list[SharedPoll]:
    """The running loop's polls that are running: what a test or a benchmark checks for leaks."""
    return [poll for poll in _POLLS.get(asyncio.get_running_loop(), {}).values() if poll.running]


def _forget(poll: SharedPoll) -> None:
    for polls in _POLLS.values():
        if polls.get(poll._key) is poll:
            del polls[poll._key]
