"""``RetryPolicy``: which failures are retried, how long it waits, how many attempts it makes."""

from __future__ import annotations

import asyncio

import httpx
import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_hub.exceptions import HfHubError, HfHubNotFoundError
from airflow_provider_hub.hooks.retry import (
    MAX_BACKOFF,
    MAX_RETRY_AFTER,
    RETRYABLE_STATUSES,
    RetryPolicy,
    is_transient,
)

REQUEST = httpx.Request("GET", "http://127.0.0.1:1/api/whoami-v2")


def status_error(status: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    response = httpx.Response(status, headers=headers or {}, request=REQUEST)
    return httpx.HTTPStatusError(f"HTTP {status}", request=REQUEST, response=response)


@pytest.mark.parametrize("status", sorted(RETRYABLE_STATUSES))
def test_transient_statuses_are_retried(status: int) -> None:
    assert RetryPolicy().is_transient(status_error(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 422, 501])
def test_client_errors_are_final(status: int) -> None:
    assert not RetryPolicy().is_transient(status_error(status))


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused", request=REQUEST),
        httpx.ReadTimeout("slow", request=REQUEST),
        httpx.RemoteProtocolError("dropped", request=REQUEST),
        httpx2.ConnectError("refused"),
        httpx2.ReadTimeout("slow"),
        httpx2.RemoteProtocolError("dropped"),
    ],
)
def test_network_failures_are_retried(exc: Exception) -> None:
    assert RetryPolicy().is_transient(exc)


def test_other_exceptions_are_final() -> None:
    assert not RetryPolicy().is_transient(ValueError("bad argument"))


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(backoff=0.01)
    assert policy.wait_seconds(status_error(429, {"Retry-After": "2"}), 1) == 2
    assert policy.wait_seconds(status_error(503, {"Retry-After": "7"}), 4) == 7
    assert policy.wait_seconds(status_error(429, {"Retry-After": "86400"}), 1) == MAX_RETRY_AFTER
    # HTTP-date values are not honoured (as in huggingface_hub): backoff applies.
    assert policy.wait_seconds(status_error(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), 1) <= 0.01


def test_ratelimit_reset_is_honoured_on_429() -> None:
    headers = {"RateLimit": '"api";r=0;t=3', "Retry-After": "9"}
    assert RetryPolicy().wait_seconds(status_error(429, headers), 1) == 3
    # Requests remain in the window: the reset is no reason to wait.
    assert (
        RetryPolicy().wait_seconds(status_error(429, {"RateLimit": '"api";r=4;t=3', "Retry-After": "9"}), 1)
        == 9
    )


@given(
    backoff=st.floats(min_value=0.0, max_value=10.0),
    attempt=st.integers(min_value=1, max_value=30),
)
def test_backoff_is_exponential_with_jitter_within_bounds(backoff: float, attempt: int) -> None:
    wait = RetryPolicy(backoff=backoff).wait_seconds(status_error(503), attempt)
    ceiling = min(backoff * 2 ** (attempt - 1), MAX_BACKOFF)
    assert ceiling / 2 <= wait <= ceiling


@given(max_retries=st.integers(min_value=0, max_value=6))
def test_attempts_are_max_retries_plus_one(max_retries: int) -> None:
    policy = RetryPolicy(max_retries=max_retries, backoff=0.0)
    calls = []

    def always_503() -> None:
        calls.append(1)
        raise status_error(503)

    with pytest.raises(httpx.HTTPStatusError):
        policy.retrying()(always_503)
    assert len(calls) == policy.attempts == max_retries + 1

    calls.clear()
    with pytest.raises(httpx.HTTPStatusError):
        policy.retrying(repeatable=False)(always_503)
    assert len(calls) == 1


def test_final_errors_stop_at_once() -> None:
    calls = []

    def not_found() -> None:
        calls.append(1)
        raise status_error(404)

    with pytest.raises(httpx.HTTPStatusError):
        RetryPolicy(backoff=0.0).retrying()(not_found)
    assert len(calls) == 1


def test_async_retrying_applies_the_same_policy() -> None:
    policy = RetryPolicy(max_retries=2, backoff=0.0)
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise status_error(502)
        return "ok"

    async def run() -> str:
        return await policy.async_retrying()(flaky)

    assert asyncio.run(run()) == "ok"
    assert len(calls) == 3


def mapped(cause: BaseException, error: HfHubError) -> HfHubError:
    """``error`` as the hooks raise it: ``raise error from cause``."""
    try:
        raise error from cause
    except HfHubError as raised:
        return raised


def test_provider_errors_are_classified_by_what_they_were_raised_from() -> None:
    assert is_transient(mapped(status_error(503), HfHubError("busy", status_code=503)))
    assert is_transient(mapped(httpx2.ConnectError("refused"), HfHubError("no answer")))
    assert not is_transient(mapped(status_error(404), HfHubNotFoundError("gone", status_code=404)))
    # Airflow's own exceptions carry a class-level status_code that is not the Hub's answer.
    from airflow.sdk.exceptions import AirflowException

    assert not is_transient(AirflowException("not a Hub failure"))
    assert RetryPolicy.is_transient is is_transient


def test_retry_after_is_read_through_a_provider_error() -> None:
    error = mapped(status_error(503, {"Retry-After": "4"}), HfHubError("busy", status_code=503))
    assert RetryPolicy(backoff=0.01).wait_seconds(error, 1) == 4


def test_a_loop_inside_a_retried_attempt_makes_one_attempt() -> None:
    policy = RetryPolicy(max_retries=2, backoff=0.0)
    inner_calls = []

    def inner() -> None:
        inner_calls.append(1)
        raise status_error(503)

    def outer() -> None:
        policy.retrying()(inner)

    with pytest.raises(httpx.HTTPStatusError):
        policy.retrying()(outer)
    assert len(inner_calls) == policy.attempts  # not attempts ** 2
    inner_calls.clear()
    with pytest.raises(httpx.HTTPStatusError):
        policy.retrying()(inner)  # outside any loop again: the whole budget
    assert len(inner_calls) == policy.attempts


def test_an_async_loop_inside_a_retried_attempt_makes_one_attempt() -> None:
    policy = RetryPolicy(max_retries=2, backoff=0.0)
    inner_calls = []

    async def inner() -> None:
        inner_calls.append(1)
        raise status_error(502)

    async def outer() -> None:
        await policy.async_retrying()(inner)

    async def run() -> None:
        await policy.async_retrying()(outer)

    with pytest.raises(httpx.HTTPStatusError):
        asyncio.run(run())
    assert len(inner_calls) == policy.attempts
