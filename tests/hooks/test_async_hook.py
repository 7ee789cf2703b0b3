"""``HfHubAsyncHook`` against the emulator: reads for triggers, shared client, retry policy, error mapping."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_hub.exceptions import HfHubError, HfHubNotFoundError
from airflow_provider_hub.hooks.hub import HfHubAsyncHook, HfHubHook
from airflow_provider_hub.testing import HubEmulator
from tests.support.hub import closed_port, connection_json, set_connection


@pytest.fixture
def hub(hub_connection: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> HubEmulator:
    """The emulator, with ``huggingface_hub_default`` using fast retries."""
    set_connection(monkeypatch, "huggingface_hub_default", connection_json(hub_connection))
    return hub_connection


@pytest.fixture(autouse=True)
async def _close_clients() -> object:
    yield
    await HfHubAsyncHook.aclose_shared_clients()


# -- reads -------------------------------------------------------------------------------------------------
async def test_get_json_whoami(hub: HubEmulator) -> None:
    data = await HfHubAsyncHook().get_json("/api/whoami-v2", subject="the token's user")
    assert data["name"] == hub.user


async def test_get_repo_head_is_one_light_request(hub: HubEmulator) -> None:
    hub.add_repo("alice/head", files={"a.txt": "a"})
    expected = HfHubHook().call("model_info", "alice/head").sha
    hub.reset_counts()
    assert await HfHubAsyncHook().get_repo_head("alice/head") == expected
    assert hub.request_count() == 1
    assert hub.request_count("/api/models/alice/head/revision/main") == 1


async def test_get_repo_head_of_a_missing_revision(hub: HubEmulator) -> None:
    hub.add_repo("alice/head", files={"a.txt": "a"})
    with pytest.raises(HfHubNotFoundError, match="model alice/head@nope"):
        await HfHubAsyncHook().get_repo_head("alice/head", revision="nope")
    with pytest.raises(ValueError, match="repo_type.*'modle'"):
        await HfHubAsyncHook().get_repo_head("alice/head", repo_type="modle")


async def test_get_job_uses_the_connection_namespace(hub: HubEmulator) -> None:
    hub.set_job_plan(durations=(0.1, 0.1))
    job = HfHubHook().call(
        "run_job", image="python:3.12", command=["true"], namespace=hub.user, idempotent=False
    )
    data = await HfHubAsyncHook().get_job(job.id)
    assert data["id"] == job.id
    assert hub.request_count("/api/whoami-v2") == 0


async def test_get_job_without_namespace_asks_whoami_once(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, "hf_no_ns", connection_json(hub, namespace=None))
    hub.set_job_plan(durations=(0.1, 0.1))
    job = HfHubHook().call(
        "run_job", image="python:3.12", command=["true"], namespace=hub.user, idempotent=False
    )
    hook = HfHubAsyncHook("hf_no_ns")
    for _ in range(3):
        assert (await hook.get_job(job.id))["id"] == job.id
    assert hub.request_count("/api/whoami-v2") == 1
    with pytest.raises(HfHubNotFoundError, match="Job alice/no-such-job"):
        await hook.get_job("no-such-job")


async def test_get_inference_endpoint_goes_to_the_connection_url(hub: HubEmulator) -> None:
    with HubEmulator() as other, pytest.MonkeyPatch.context() as patch:
        set_connection(patch, "hf_other", connection_json(other))
        for conn_id in ("huggingface_hub_default", "hf_other"):
            with pytest.raises(HfHubNotFoundError, match="Inference Endpoint alice/missing-ep"):
                await HfHubAsyncHook(conn_id).get_inference_endpoint("missing-ep")
        assert hub.request_count("/v2/endpoint/alice/missing-ep") == 1
        assert other.request_count("/v2/endpoint/alice/missing-ep") == 1


async def test_get_model_provider_mapping(hub: HubEmulator) -> None:
    hub.add_repo("acme/chat-model")
    hub.set_inference_providers(
        "acme/chat-model",
        {"together": {"status": "live", "providerId": "acme/chat-model-together", "task": "conversational"}},
    )
    mapping = await HfHubAsyncHook().get_model_provider_mapping("acme/chat-model")
    assert mapping["together"]["status"] == "live"
    assert mapping["together"]["providerId"] == "acme/chat-model-together"


# -- retry policy and errors ------------------------------------------------------------------------------------
async def test_429_with_retry_after_is_waited_out(hub: HubEmulator) -> None:
    hub.inject_fault("/api/whoami-v2", status=429, retry_after=2, times=1)
    started = time.monotonic()
    assert (await HfHubAsyncHook().get_json("/api/whoami-v2"))["name"] == hub.user
    assert time.monotonic() - started >= 2.0
    assert hub.request_count("/api/whoami-v2") == 2


async def test_404_is_not_retried_and_names_the_repo(hub: HubEmulator) -> None:
    with pytest.raises(HfHubNotFoundError) as excinfo:
        await HfHubAsyncHook().get_repo_head("alice/missing")
    assert hub.request_count("/api/models/alice/missing/revision/main") == 1
    assert "model alice/missing@main" in str(excinfo.value)
    assert excinfo.value.status_code == 404
    assert excinfo.value.__cause__ is not None


async def test_503_twice_then_success_takes_three_attempts(hub: HubEmulator) -> None:
    hub.inject_fault("/api/whoami-v2", status=503, times=2)
    assert (await HfHubAsyncHook().get_json("/api/whoami-v2"))["name"] == hub.user
    assert hub.request_count("/api/whoami-v2") == 3


async def test_attempts_never_exceed_the_policy(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "hf_budget", connection_json(hub, max_retries=2))
    hub.inject_fault("/api/whoami-v2", status=502)
    with pytest.raises(HfHubError, match="after 3 attempts") as excinfo:
        await HfHubAsyncHook("hf_budget").get_json("/api/whoami-v2", subject="the token's user")
    assert excinfo.value.status_code == 502
    assert hub.request_count("/api/whoami-v2") == 3


async def test_timeouts_and_dropped_connections_are_retried(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, "hf_slow", connection_json(hub, timeout=0.3))
    hook = HfHubAsyncHook("hf_slow")
    hub.inject_fault("/api/whoami-v2", latency=1.0, times=1)
    assert (await hook.get_json("/api/whoami-v2"))["name"] == hub.user
    assert hub.request_count("/api/whoami-v2") == 2
    hub.inject_fault("/api/whoami-v2", drop=True, times=1)
    assert (await hook.get_json("/api/whoami-v2"))["name"] == hub.user
    assert hub.request_count("/api/whoami-v2") == 4


async def test_unreachable_host_fails_after_the_budget(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    set_connection(monkeypatch, "hf_nowhere", connection_json(hub, host=host, max_retries=1))
    with pytest.raises(HfHubError, match=r"could not connect to http://127\.0\.0\.1:\d+.*after 2 attempts"):
        await HfHubAsyncHook("hf_nowhere").get_json("/api/whoami-v2")


async def test_token_never_appears_in_errors(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    bad_token = "hf_definitely_not_a_valid_token_456"
    set_connection(monkeypatch, "hf_badtoken", connection_json(hub, token=bad_token))
    with pytest.raises(HfHubError) as excinfo:
        await HfHubAsyncHook("hf_badtoken").get_json("/api/whoami-v2")
    assert excinfo.value.status_code == 401
    for text in (str(excinfo.value), repr(excinfo.value), str(excinfo.value.__cause__)):
        assert bad_token not in text


# -- the shared client -----------------------------------------------------------------------------------------
async def test_one_client_per_loop_and_connection(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "hf_other", connection_json(hub))
    first, second, other = HfHubAsyncHook(), HfHubAsyncHook(), HfHubAsyncHook("hf_other")
    await asyncio.gather(first.get_json("/api/whoami-v2"), second.get_json("/api/whoami-v2"))
    await other.get_json("/api/whoami-v2")
    assert await first._client() is await second._client()
    assert await other._client() is not await first._client()


async def test_the_client_is_built_once_off_the_loop(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the CA bundle takes 50-200 ms: concurrent first reads wait for one build, on a worker thread."""
    import threading

    from airflow_provider_hub import _offloop

    builds: list[str] = []
    build = _offloop.build_async_client

    def counted(**options: object) -> object:
        builds.append(threading.current_thread().name)
        return build(**options)

    monkeypatch.setattr(_offloop, "build_async_client", counted)
    hooks = [HfHubAsyncHook() for _ in range(20)]
    await asyncio.gather(*(hook.get_json("/api/whoami-v2") for hook in hooks))
    assert len(builds) == 1
    assert builds[0] != threading.main_thread().name
    assert len({id(await hook._client()) for hook in hooks}) == 1


async def test_a_burst_of_reads_queues_instead_of_timing_out(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,000 triggers polling at once on a slow Hub: each read's timeout covers its request, not the queue."""
    set_connection(monkeypatch, "huggingface_hub_default", connection_json(hub, timeout=2.0, max_retries=0))
    hub.inject_fault("/api/whoami-v2", latency=0.3)
    hook = HfHubAsyncHook()
    started = time.monotonic()
    answers = await asyncio.gather(*(hook.get_json("/api/whoami-v2") for _ in range(1000)))
    # Longer than the timeout: waiting for one of the pool's 100 connections alone would have timed out.
    assert time.monotonic() - started > 2.0
    assert [a["name"] for a in answers] == [hub.user] * 1000
    assert hub.request_count("/api/whoami-v2") == 1000


def test_a_new_event_loop_gets_a_new_client(hub: HubEmulator) -> None:
    from airflow_provider_hub.hooks.async_clients import _ASYNC_CLIENTS

    async def read() -> tuple[object, asyncio.AbstractEventLoop]:
        hook = HfHubAsyncHook()
        assert (await hook.get_json("/api/whoami-v2"))["name"] == hub.user
        return await hook._client(), asyncio.get_running_loop()

    first_client, first_loop = asyncio.run(read())
    second_client, _ = asyncio.run(read())  # the first loop is closed: its client must not be reused
    assert second_client is not first_client
    assert first_loop not in _ASYNC_CLIENTS  # nor kept alive with its loop
