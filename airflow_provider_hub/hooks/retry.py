"""The one retry policy of the provider: which failures are transient, how long to wait, how often to try.

The sync hook, the async hook and the commit engine all retry through :class:`RetryPolicy`, and the
triggers judge a failed poll with the same :func:`is_transient`. Retries never nest: inside an attempt of a
policy-run loop, every further loop gets one attempt (a step made of several requests, such as the commit
engine's "did it land?" check, is retried as a whole, never request by request within a retried whole).

Imports no ``huggingface_hub`` (``httpx2``, its transport, only when first classifying a failure), so
triggers may use it at no cost.
"""

from __future__ import annotations

import contextvars
import functools
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx
import tenacity

from airflow_provider_hub.exceptions import HfHubError

DEFAULT_MAX_RETRIES = 5
DEFAULT_RETRY_BACKOFF = 1.0
#: Longest wait between two attempts that the exponential backoff computes.
MAX_BACKOFF = 60.0
#: Longest ``Retry-After`` / ``RateLimit`` reset honoured; a longer one is waited this long.
MAX_RETRY_AFTER = 300.0
#: HTTP statuses worth another attempt: the same set ``huggingface_hub.utils.http_backoff`` retries.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_RATELIMIT_RE = re.compile(r"\"\w+\"\s*;\s*r\s*=\s*(?P<r>\d+)\s*;\s*t\s*=\s*(?P<t>\d+)")
#: Set while a policy-run loop makes an attempt: loops started inside it make a single attempt.
_IN_RETRIED_ATTEMPT: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "airflow_provider_hub_in_retried_attempt", default=False
)

T = TypeVar("T")


class RetryLogger(Protocol):
    """Where retries are announced: a stdlib logger, a hook's or an operator's ``self.log``."""

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


@functools.cache
def transport_errors() -> tuple[type[BaseException], ...]:
    """Network failures worth retrying: of ``httpx`` (async hook), ``httpx2`` (``huggingface_hub``), the OS."""
    errors: list[type[BaseException]] = [
        httpx.TimeoutException,
        httpx.NetworkError,
        httpx.RemoteProtocolError,
        ConnectionError,
        TimeoutError,
    ]
    try:
        import httpx2
    except ImportError:  # huggingface_hub < 2 is not supported, but the async hook does not need httpx2
        pass
    else:
        errors += [httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError]
    return tuple(errors)


def response_of(exc: BaseException | None) -> Any:
    """The HTTP response ``exc`` carries (``httpx``, ``httpx2`` and ``huggingface_hub`` errors), if any."""
    response = getattr(exc, "response", None)
    return response if response is not None and hasattr(response, "status_code") else None


def status_of(exc: BaseException | None) -> int | None:
    """The HTTP status of a failed request: its response's, or a provider :class:`HfHubError`'s."""
    response = response_of(exc)
    if response is not None:
        return int(response.status_code)
    # Other AirflowExceptions carry a class-level status_code of the API server's own: not the Hub's answer.
    return exc.status_code if isinstance(exc, HfHubError) else None


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure worth another attempt, whose request may or may not have been applied.

    True for HTTP 408, 429, 500, 502, 503, 504, timeouts, refused or dropped connections, and for the
    provider's :class:`HfHubError` raised from one of them (its ``status_code``, or the failure it was
    raised from). Anything else (400, 401, 403, 404, 409, 412, 422, a ``ValueError``...) is final.

    Example::

        try:
            job = await hook.get_job(job_id)
        except HfHubError as exc:
            if not is_transient(exc):
                raise
            # keep polling: the Hub is having a moment
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        status = status_of(current)
        if status is not None:
            return status in RETRYABLE_STATUSES
        if isinstance(current, transport_errors()):
            return True
        current = current.__cause__
    return False


def server_wait(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (``RateLimit: "api";r=0;t=N`` on a 429, else ``Retry-After: N``)."""
    response = response_of(exc)
    if response is None:
        cause = exc.__cause__
        return server_wait(cause) if isinstance(exc, HfHubError) and cause is not None else None
    headers = response.headers
    ratelimit = _RATELIMIT_RE.search(headers.get("ratelimit", "")) if response.status_code == 429 else None
    if ratelimit is not None and int(ratelimit["r"]) == 0:
        return float(ratelimit["t"])
    retry_after = (headers.get("retry-after") or "").strip()
    return float(retry_after) if retry_after.isdigit() else None


class _Retrying(tenacity.Retrying):
    """Marks its attempts, so that a loop run inside one makes a single attempt."""

    def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        marker = _IN_RETRIED_ATTEMPT.set(True)
        try:
            return super().__call__(fn, *args, **kwargs)
        finally:
            _IN_RETRIED_ATTEMPT.reset(marker)


class _AsyncRetrying(tenacity.AsyncRetrying):
    async def __call__(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:  # type: ignore[override]
        marker = _IN_RETRIED_ATTEMPT.set(True)
        try:
            return await super().__call__(fn, *args, **kwargs)
        finally:
            _IN_RETRIED_ATTEMPT.reset(marker)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before repeating a failed Hub request; one per connection.

    Transient failures (:func:`is_transient`) are retried. The wait is the server's ``Retry-After`` (or
    ``RateLimit`` reset) in seconds when it sends one (capped at :data:`MAX_RETRY_AFTER`), else exponential
    backoff with jitter: attempt ``n`` waits a random time between half and all of
    ``min(backoff * 2 ** (n - 1), MAX_BACKOFF)``. Anything else is final at once.

    Example::

        policy = RetryPolicy(max_retries=3, backoff=0.5)
        result = policy.retrying()(fetch_status)  # up to 4 attempts
        result = await policy.async_retrying()(afetch_status)
        if policy.is_transient(error): ...

    :param max_retries: extra attempts after the first one (connection extra ``max_retries``).
    :param backoff: base of the exponential backoff in seconds (connection extra ``retry_backoff``).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff: float = DEFAULT_RETRY_BACKOFF

    #: The policy's classifier, also usable without a policy at hand.
    is_transient = staticmethod(is_transient)

    @property
    def attempts(self) -> int:
        """Attempts a repeatable call gets in total."""
        return self.max_retries + 1

    def wait_seconds(self, exc: BaseException | None, attempt_number: int) -> float:
        """Seconds to wait after failed attempt number ``attempt_number`` (1-based) that raised ``exc``."""
        told = server_wait(exc) if exc is not None else None
        if told is not None:
            return min(told, MAX_RETRY_AFTER)
        ceiling = min(self.backoff * 2 ** (attempt_number - 1), MAX_BACKOFF)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def retrying(
        self,
        *,
        repeatable: bool = True,
        before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> tenacity.Retrying:
        """A ``tenacity.Retrying`` applying the policy: a single attempt when ``repeatable`` is false or
        when it runs inside an attempt of another policy-run loop."""
        return _Retrying(**self._tenacity_kwargs(repeatable, before_sleep))

    def async_retrying(
        self,
        *,
        repeatable: bool = True,
        before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> tenacity.AsyncRetrying:
        """The ``tenacity.AsyncRetrying`` twin of :meth:`retrying`."""
        return _AsyncRetrying(**self._tenacity_kwargs(repeatable, before_sleep))

    def log_before_retry(self, logger: RetryLogger, action: str) -> Callable[[tenacity.RetryCallState], None]:
        """A ``before_sleep`` callback announcing each retry of ``action`` with its reason and wait."""

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            status = status_of(exc)
            logger.warning(
                "%s failed (%s), attempt %d of %d; retrying in %.1f s",
                action,
                f"HTTP {status}" if status is not None else type(exc).__name__,
                state.attempt_number,
                self.attempts,
                state.upcoming_sleep,
            )

        return before_sleep

    def _wait(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        return self.wait_seconds(exc, retry_state.attempt_number)

    def _tenacity_kwargs(
        self, repeatable: bool, before_sleep: Callable[[tenacity.RetryCallState], None] | None
    ) -> dict[str, Any]:
        nested = _IN_RETRIED_ATTEMPT.get()
        return {
            "stop": tenacity.stop_after_attempt(self.attempts if repeatable and not nested else 1),
            "wait": self._wait,
            "retry": tenacity.retry_if_exception(is_transient),
            "reraise": True,
            "before_sleep": before_sleep,
        }
