"""The poll loop of the status triggers: read, judge, tolerate failed reads, give up at a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from airflow.sdk.types import Logger

#: Consecutive failed reads tolerated before a trigger gives up with an ``error`` event.
MAX_CONSECUTIVE_ERRORS = 5

Reading = TypeVar("Reading")


@dataclass(frozen=True)
class PollOutcome(Generic[Reading]):
    """How a wait ended: the event ``status``, the last successful read, and a message when no read decided it."""

    status: str
    last: Reading | None
    message: str | None = None


async def poll_until_settled(
    read: Callable[[], Awaitable[Reading]],
    settle: Callable[[Reading], str | None],
    *,
    subject: str,
    unreadable: str,
    timeout_message: str,
    poll_interval: float,
    end_time: float | None,
    log: Logger,
) -> PollOutcome[Reading]:
    """Call ``read`` every ``poll_interval`` seconds until ``settle`` ends the wait.

    ``settle`` turns a read into the event status that ends the wait (``"success"``, ``"failed"``), or
    ``None`` to keep waiting. A missing resource ends it with ``"error"`` at once, :data:`MAX_CONSECUTIVE_ERRORS`
    failed reads in a row with ``"error"`` too, and ``end_time`` (epoch seconds) with ``"timeout"``.

    :param subject: what is read, for the log: ``"Job alice/68780d00"``.
    :param unreadable: what could not be read, for the error message: ``"the Job's status"``.
    :param timeout_message: the message of the ``timeout`` outcome.
    """
    from airflow_provider_hub.exceptions import HfHubNotFoundError

    errors = 0
    last: Reading | None = None
    while True:
        try:
            reading = await read()
        except HfHubNotFoundError as exc:
            return PollOutcome("error", last, str(exc))
        except Exception as exc:  # the hook already retried transient failures
            errors += 1
            log.warning("Reading %s failed (%d in a row): %s", subject, errors, exc)
            if errors >= MAX_CONSECUTIVE_ERRORS:
                return PollOutcome("error", last, f"Could not read {unreadable}: {exc}")
        else:
            errors = 0
            last = reading
            status = settle(reading)
            if status is not None:
                return PollOutcome(status, reading)
        if end_time is not None and time.time() >= end_time:
            return PollOutcome("timeout", last, timeout_message)
        delay = poll_interval
        if end_time is not None:
            delay = max(0.0, min(delay, end_time - time.time()))
        await asyncio.sleep(delay)
