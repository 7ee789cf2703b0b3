"""The bases of this provider's triggers: ``serialize()`` from the constructor, and one poll loop for all.

A polling trigger is its fields (its constructor), one read of the Hub and one judgement of what it read::

    class HfJobTrigger(HfPollingTrigger[dict]):
        def __init__(self, *, job_id: str, namespace: str, hf_conn_id: str = DEFAULT_CONN_ID, ...) -> None:
            super().__init__(hf_conn_id=hf_conn_id, poll_interval=poll_interval, end_time=end_time)
            self.job_id, self.namespace = job_id, namespace

        async def read(self, hook):
            return await hook.poll_job(self.job_id, namespace=self.namespace, interval=self.interval)

        def judge(self, reading):
            return JobState.from_api(reading).verdict(self.target_stages)

:class:`HfPollingTrigger` owns the loop: the interval, the deadline, tolerating failed reads (each one already
retried by :class:`~airflow_provider_hub.hooks.hub.HfHubAsyncHook`) and building the events. A read may be
shared: the Job, Endpoint, Space and pull-request triggers read through the hook's ``poll_*`` methods, whose
shared polls (:mod:`airflow_provider_hub.hooks.shared_polls`) answer every trigger of a process waiting on
one namespace (or repo) with one listing per interval.

The triggerer imports a trigger's module on its event loop: this module imports nothing heavy at its top
(see :mod:`airflow_provider_hub._offloop`).
"""

from __future__ import annotations

import abc
import asyncio
import inspect
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_hub._offloop import async_hook
from airflow_provider_hub.hooks.states import Verdict

if TYPE_CHECKING:
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook

#: The connection every operator, sensor and trigger of this provider uses unless told otherwise. Also
#: Consecutive failed reads after which a trigger that fires once gives up with an ``error`` event (and a
#: trigger that keeps polling logs at error level, each time this many more have failed).
MAX_CONSECUTIVE_ERRORS = 5
#: The ``status`` of the event that a judgement ending the wait fires.
EVENT_STATUS = {Verdict.DONE: "success", Verdict.FAILED: "failed"}

Reading = TypeVar("Reading")


def configured_poll_interval() -> float:
    """``[huggingface_hub] default_poll_interval``: seconds between status reads of Jobs and Endpoints (30).

    What the Job and Endpoint operators and triggers wait between two reads when not given ``poll_interval``.
    Blocking (the first read of a provider's option loads every provider's config): a trigger calls it on a
    worker thread.

    Example::

        AIRFLOW__HUGGINGFACE_HUB__DEFAULT_POLL_INTERVAL=10  # read Jobs and Endpoints every 10 s
    """
    from airflow.sdk import conf

    seconds = conf.getfloat("huggingface_hub", "default_poll_interval", fallback=30.0)
    if seconds <= 0:
        raise ValueError(
            f"[huggingface_hub] default_poll_interval must be a positive number of seconds; got {seconds!r}"
        )
    return seconds


class SerializesInitArguments:
    """Mixed into a trigger: ``serialize()`` returns every argument of its ``__init__``, read back from the
    attribute of the same name, so that whatever a trigger is built with survives the trip through the
    database by construction.

    The order of the arguments is the signature's: an event trigger is identified by a hash of its classpath
    and serialized arguments in order (``BaseEventTrigger.hash``), and a new order would make Airflow replace
    every running watcher's trigger.
    """

    #: The class path stored with the trigger, when it is not where the class is defined: a trigger that moved
    #: keeps the path that existing DAGs, stored rows and ``BaseEventTrigger.hash`` know it by.
    serialized_classpath: ClassVar[str | None] = None
    #: The keyword arguments of the class's ``__init__``, in the signature's order.
    _init_arguments: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        parameters = inspect.signature(cls).parameters.values()
        cls._init_arguments = tuple(
            p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        cls = type(self)
        classpath = self.serialized_classpath or f"{cls.__module__}.{cls.__qualname__}"
        return classpath, {name: getattr(self, name) for name in self._init_arguments}


class HfPollingTrigger(SerializesInitArguments, BaseTrigger, Generic[Reading]):
    """Read the Hub every ``poll_interval`` seconds and fire when the judgement of a reading ends the wait.

    A concrete trigger implements :meth:`read`, :meth:`judge` and :meth:`payload` (and names what it reads,
    :attr:`subject`). Its events carry ``status``:

    - ``"success"`` when :meth:`judge` says ``DONE``, ``"failed"`` when it says ``FAILED``;
    - ``"timeout"`` once ``end_time`` (epoch seconds) passes, with :attr:`timeout_message`;
    - ``"error"`` when the resource does not exist (``HfHubNotFoundError``) or after
      :data:`MAX_CONSECUTIVE_ERRORS` failed reads in a row.

    With :attr:`fires_once` false (an asset watcher's trigger) it fires for every reading judged ``DONE``
    and keeps polling for ever, through any number of failed reads.

    :param hf_conn_id: the Hugging Face Hub connection.
    :param poll_interval: seconds between reads; ``None``: :func:`configured_poll_interval`.
    :param end_time: give up at this wall-clock time (epoch seconds); ``None`` waits forever.
    """

    #: ``True``: fire once and end (the wait of a deferred task). ``False``: keep polling (an event trigger).
    fires_once: ClassVar[bool] = True

    def __init__(
        self, *, hf_conn_id: str, poll_interval: float | None, end_time: float | None = None
    ) -> None:
        super().__init__()
        self.hf_conn_id = hf_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time
        #: Seconds between two reads, once :meth:`run` has resolved ``poll_interval``: what a shared read
        #: (``hook.poll_job(..., interval=self.interval)``) is keyed by.
        self.interval: float = poll_interval if poll_interval is not None else 0.0

    @property
    @abc.abstractmethod
    def subject(self) -> str:
        """What is read, for the log and the error message: ``"Job alice/68780d00"``."""

    @property
    def timeout_message(self) -> str:
        """The message of the ``timeout`` event."""
        return f"Timed out waiting for {self.subject}"

    @abc.abstractmethod
    async def read(self, hook: HfHubAsyncHook) -> Reading:
        """One read of the Hub; an exception counts as a failed read."""

    @abc.abstractmethod
    def judge(self, reading: Reading) -> Verdict:
        """Whether ``reading`` ends the wait, as a success or as a failure, or leaves it ``WAITING``."""

    @abc.abstractmethod
    def payload(self, status: str, reading: Reading | None, message: str | None) -> dict[str, Any]:
        """The event's payload for ``status``, from ``reading`` (the last successful one, if any).

        :param message: why the wait ended without a judgement (``timeout``, ``error``); else ``None``.
        """

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = await async_hook(self.hf_conn_id)
        # async_hook imported it off the loop.
        from airflow_provider_hub.exceptions import HfHubNotFoundError

        interval = self.poll_interval
        if interval is None:
            interval = await asyncio.to_thread(configured_poll_interval)
        self.interval = interval
        errors = 0
        last: Reading | None = None
        # Reads start on a fixed schedule, one every interval from the first: a shared read
        # (hooks/shared_polls.py) waits for its poll's next listing, so sleeping a whole interval after each
        # read would skip every other listing, and counting from each wake-up would drift behind the poll's
        # schedule by the loop's lag until a read missed a listing.
        due = time.monotonic()
        while True:
            due += interval
            try:
                reading = await self.read(hook)
            except HfHubNotFoundError as exc:
                if self.fires_once:
                    yield TriggerEvent(self.payload("error", last, str(exc)))
                    return
                errors = self._failed_read(errors, exc)
            except Exception as exc:  # the hook already retried what was transient
                errors = self._failed_read(errors, exc)
                if self.fires_once and errors >= MAX_CONSECUTIVE_ERRORS:
                    yield TriggerEvent(self.payload("error", last, f"Could not read {self.subject}: {exc}"))
                    return
            else:
                errors, last = 0, reading
                verdict = self.judge(reading)
                if verdict is not Verdict.WAITING:
                    yield TriggerEvent(self.payload(EVENT_STATUS[verdict], reading, None))
                    if self.fires_once:
                        return
            if self.end_time is not None and time.time() >= self.end_time:
                yield TriggerEvent(self.payload("timeout", last, self.timeout_message))
                return
            delay = due - time.monotonic()
            if delay < 0:  # the read ended past the next start (retries, a late listing): start again now
                due -= delay
            if self.end_time is not None:
                delay = min(delay, self.end_time - time.time())
            await asyncio.sleep(max(0.0, delay))

    def _failed_read(self, errors: int, exc: Exception) -> int:
        """Log the failed read that makes ``errors + 1`` in a row; return that count."""
        errors += 1
        if not self.fires_once and errors % MAX_CONSECUTIVE_ERRORS == 0:
            # A watcher never gives up: say it louder, with the traceback, where a wait would have given up.
            self.log.error("Reading %s failed (%d in a row)", self.subject, errors, exc_info=exc)
        else:
            self.log.warning("Reading %s failed (%d in a row): %s", self.subject, errors, exc)
        return errors
