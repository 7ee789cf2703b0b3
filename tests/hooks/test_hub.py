"""``HfHubHook`` against the emulator: configuration, retry policy, error mapping, routing, test_connection."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airflow_provider_hub import __version__
from airflow_provider_hub.exceptions import HfHubConflictError, HfHubError, HfHubNotFoundError
from airflow_provider_hub.hooks.hub import HfHubHook
from airflow_provider_hub.hooks.retry import DEFAULT_MAX_RETRIES, RetryPolicy
from airflow_provider_hub.hooks.settings import DEFAULT_INFERENCE_ENDPOINTS_URL, DEFAULT_TIMEOUT
from airflow_provider_hub.testing import HubEmulator
from tests.support.hub import FAST_BACKOFF, closed_port, connection_json, set_connection


@pytest.fixture
def hub(hub_connection: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> HubEmulator:
    """The emulator, with ``huggingface_hub_default`` using fast retries."""
    set_connection(monkeypatch, "huggingface_hub_default", connection_json(hub_connection))
    return hub_connection


# -- configuration ---------------------------------------------------------------------------------------
def test_get_conn_configures_hfapi_from_the_connection(hub: HubEmulator) -> None:
    hook = HfHubHook()
    api = hook.get_conn()
    assert api.endpoint == hub.url
    assert api.token == hub.token
    assert api._build_hf_headers()["user-agent"].startswith(f"airflow-provider-hub/{__version__};")
    assert hook.namespace == hub.user
    assert hook.endpoint == hub.url
    settings = hook.settings
    assert settings.inference_endpoints_url == f"{hub.url}/v2"
    assert settings.router_url == hub.url
    assert settings.timeout == DEFAULT_TIMEOUT
    assert settings.retry_policy == RetryPolicy(max_retries=DEFAULT_MAX_RETRIES, backoff=FAST_BACKOFF)


def test_defaults_and_ui_prefixed_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(
        monkeypatch,
        "hf_defaults",
        json.dumps(
            {
                "conn_type": "huggingface_hub",
                "host": "hub.example.org",
                "extra": {
                    "extra__huggingface_hub__namespace": "acme",
                    "extra__huggingface_hub__max_retries": "2",
                },
            }
        ),
    )
    settings = HfHubHook("hf_defaults").settings
    assert settings.endpoint == "https://hub.example.org"
    assert settings.namespace == "acme"
    assert settings.retry_policy.max_retries == 2
    assert settings.inference_endpoints_url == DEFAULT_INFERENCE_ENDPOINTS_URL
    assert settings.router_url == "https://router.huggingface.co"
    assert settings.token is None


@pytest.mark.parametrize(
    ("extra", "field", "value"),
    [
        ({"timeout": "soon"}, "timeout", "'soon'"),
        ({"timeout": 0}, "timeout", "0"),
        ({"max_retries": -1}, "max_retries", "-1"),
        ({"max_retries": 1.5}, "max_retries", "1.5"),
        ({"retry_backoff": "fast"}, "retry_backoff", "'fast'"),
        ({"inference_endpoints_url": "ftp://x"}, "inference_endpoints_url", "'ftp://x'"),
        ({"router_url": "not a url"}, "router_url", "'not a url'"),
        ({"namespace": "a b"}, "namespace", "'a b'"),
    ],
)
def test_bad_extras_are_rejected_naming_field_and_value(
    hub_emulator: HubEmulator, monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any], field: str, value: str
) -> None:
    set_connection(monkeypatch, "hf_bad", connection_json(hub_emulator, **extra))
    with pytest.raises(ValueError, match="hf_bad") as excinfo:
        HfHubHook("hf_bad").get_conn()
    assert field in str(excinfo.value)
    assert value in str(excinfo.value)
    ok, message = HfHubHook("hf_bad").test_connection()
    assert not ok
    assert message.startswith("Invalid connection:") and field in message


def test_token_is_masked_when_read(hub: HubEmulator) -> None:
    from airflow.sdk.log import redact

    HfHubHook().get_conn()
    assert hub.token not in str(redact(f"token={hub.token}"))


def test_anonymous_connection_sends_no_token_even_if_one_is_in_the_environment(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_TOKEN", hub.token)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", False)
    hub.add_repo("alice/private-model", private=True)
    set_connection(monkeypatch, "hf_anon", connection_json(hub, token=None))
    anonymous = HfHubHook("hf_anon")
    assert anonymous.api.token is False
    assert "authorization" not in anonymous.api._build_hf_headers()
    with pytest.raises(HfHubNotFoundError, match="alice/private-model"):
        anonymous.call("model_info", "alice/private-model", subject="model alice/private-model")
    assert HfHubHook().call("model_info", "alice/private-model").id == "alice/private-model"


# -- retry policy and error mapping -------------------------------------------------------------------------
def test_429_with_retry_after_is_waited_out(hub: HubEmulator) -> None:
    hub.inject_fault("/api/whoami-v2", status=429, retry_after=2, times=1)
    started = time.monotonic()
    assert HfHubHook().call("whoami", subject="the token's user")["name"] == hub.user
    assert time.monotonic() - started >= 2.0
    assert hub.request_count("/api/whoami-v2") == 2


def test_404_is_not_retried_and_names_the_repo(hub: HubEmulator) -> None:
    with pytest.raises(HfHubNotFoundError) as excinfo:
        HfHubHook().call("model_info", "alice/missing", subject="model alice/missing")
    assert hub.request_count("/api/models/alice/missing") == 1
    message = str(excinfo.value)
    assert "model alice/missing" in message
    assert "404" in message
    assert excinfo.value.status_code == 404
    assert type(excinfo.value.__cause__).__name__ == "RepositoryNotFoundError"


def test_503_twice_then_success_takes_three_attempts(hub: HubEmulator) -> None:
    hub.inject_fault("/api/whoami-v2", status=503, times=2)
    assert HfHubHook().call("whoami")["name"] == hub.user
    assert hub.request_count("/api/whoami-v2") == 3


@pytest.mark.parametrize("max_retries", [0, 2])
def test_attempts_never_exceed_the_policy(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch, max_retries: int
) -> None:
    set_connection(monkeypatch, "hf_budget", connection_json(hub, max_retries=max_retries))
    hub.inject_fault("/api/whoami-v2", status=503)
    hook = HfHubHook("hf_budget")
    with pytest.raises(HfHubError) as excinfo:
        hook.call("whoami", subject="the token's user")
    assert hub.request_count("/api/whoami-v2") == hook.retry_policy.attempts == max_retries + 1
    assert excinfo.value.status_code == 503
    assert "Injected fault" in str(excinfo.value)  # the Hub's own message
    if max_retries:
        assert f"after {max_retries + 1} attempts" in str(excinfo.value)


def test_non_idempotent_calls_are_not_retried(hub: HubEmulator) -> None:
    hub.inject_fault("/api/repos/create", status=503)
    with pytest.raises(HfHubError) as excinfo:
        HfHubHook().call("create_repo", "alice/once", idempotent=False, subject="model alice/once")
    assert hub.request_count("/api/repos/create") == 1
    assert "model alice/once" in str(excinfo.value)


def test_dropped_connections_and_timeouts_are_retried(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.inject_fault("/api/whoami-v2", drop=True, times=1)
    assert HfHubHook().call("whoami")["name"] == hub.user
    assert hub.request_count("/api/whoami-v2") == 2

    set_connection(monkeypatch, "hf_slow", connection_json(hub, timeout=0.3))
    hub.reset_counts()
    hub.inject_fault("/api/whoami-v2", latency=1.0, times=1)
    assert HfHubHook("hf_slow").call("whoami")["name"] == hub.user
    assert hub.request_count("/api/whoami-v2") == 2


def test_conflict_maps_to_conflict_error(hub: HubEmulator) -> None:
    hub.inject_fault("/api/models/alice/x/commit/main", status=409, times=1)
    hub.add_repo("alice/x")
    from huggingface_hub import CommitOperationAdd

    with pytest.raises(HfHubConflictError, match="model alice/x@main") as excinfo:
        HfHubHook().call(
            "create_commit",
            "alice/x",
            [CommitOperationAdd("a.txt", b"a")],
            commit_message="add",
            idempotent=False,
            subject="model alice/x@main",
        )
    assert excinfo.value.status_code == 409


def test_token_never_appears_in_errors(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    bad_token = "hf_definitely_not_a_valid_token_123"
    set_connection(monkeypatch, "hf_badtoken", connection_json(hub, token=bad_token))
    hook = HfHubHook("hf_badtoken")
    failures: list[BaseException] = []
    for call in (
        lambda: hook.call("whoami"),
        lambda: hook.call("model_info", "alice/missing", subject="model alice/missing"),
    ):
        with pytest.raises(HfHubError) as excinfo:
            call()
        failures.append(excinfo.value)
    assert failures[0].status_code == 401
    for error in failures:
        for text in (str(error), repr(error), str(error.__cause__)):
            assert bad_token not in text
            assert hub.token not in text


def test_paginated_listing_is_retried_by_huggingface_hub_only(hub: HubEmulator) -> None:
    hub.add_repo("alice/listed")
    hub.inject_fault("/api/models", status=503, times=1)
    models = HfHubHook().call("list_models", author="alice")
    assert [model.id for model in models] == ["alice/listed"]
    # huggingface_hub's http_backoff retried once; the hook did not restart the listing on top of it.
    assert hub.request_count("/api/models") == 2


def test_generator_errors_are_mapped(hub: HubEmulator) -> None:
    listing = HfHubHook().call("list_repo_tree", "alice/missing", subject="model alice/missing")
    with pytest.raises(HfHubNotFoundError, match="model alice/missing"):
        list(listing)


# -- test_connection -------------------------------------------------------------------------------------
def test_connection_ok(hub: HubEmulator) -> None:
    ok, message = HfHubHook().test_connection()
    assert ok
    assert message == f"Connected to {hub.url} as {hub.user} (write token)"


def test_connection_bad_token(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "hf_wrong", connection_json(hub, token="hf_wrong_token_value"))
    ok, message = HfHubHook("hf_wrong").test_connection()
    assert not ok
    assert "401" in message and "token was rejected" in message
    assert "\n" not in message and "hf_wrong_token_value" not in message


def test_connection_unreachable_host(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    set_connection(monkeypatch, "hf_nowhere", connection_json(hub, host=host))
    started = time.monotonic()
    ok, message = HfHubHook("hf_nowhere").test_connection()
    assert not ok
    assert message.startswith(f"Cannot reach {host}")
    assert "\n" not in message
    assert time.monotonic() - started < 5  # one attempt, no backoff


def test_connection_timeout(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "hf_slow", connection_json(hub, timeout=0.3))
    hub.inject_fault("/api/whoami-v2", latency=1.0)
    ok, message = HfHubHook("hf_slow").test_connection()
    assert not ok
    assert message.startswith(f"Timed out after 0.3 s waiting for {hub.url}")


def test_connection_anonymous(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "hf_anon", connection_json(hub, token=None))
    ok, message = HfHubHook("hf_anon").test_connection()
    assert ok
    assert message.startswith(f"Anonymous connection to {hub.url}")


# -- Inference Endpoints routing ---------------------------------------------------------------------------
@pytest.fixture
def second_hub() -> Any:
    with HubEmulator() as other:
        yield other


def test_inference_endpoints_calls_follow_each_connection(
    hub: HubEmulator, second_hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    set_connection(monkeypatch, "hf_a", connection_json(hub))
    set_connection(monkeypatch, "hf_b", connection_json(second_hub))
    hooks = {"a": HfHubHook("hf_a"), "b": HfHubHook("hf_b")}
    calls_per_hook = 12
    start = threading.Barrier(2)

    def read_endpoints(name: str) -> int:
        start.wait()
        for index in range(calls_per_hook):
            endpoint_name = f"{name}-endpoint-{index}"
            # The emulator has no such Endpoint; what matters is where the request went.
            with contextlib.suppress(HfHubNotFoundError):
                hooks[name].call(
                    "get_inference_endpoint", endpoint_name, namespace="alice", subject=endpoint_name
                )
        return calls_per_hook

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sum(pool.map(read_endpoints, ["a", "b"])) == 2 * calls_per_hook

    assert hub.request_count("/v2/endpoint/alice/a-endpoint-*") == calls_per_hook
    assert hub.request_count("/v2/endpoint/alice/b-endpoint-*") == 0
    assert second_hub.request_count("/v2/endpoint/alice/b-endpoint-*") == calls_per_hook
    assert second_hub.request_count("/v2/endpoint/alice/a-endpoint-*") == 0
    # Nothing was patched process-wide: a plain HfApi still targets the real service.
    assert constants.INFERENCE_ENDPOINTS_ENDPOINT == DEFAULT_INFERENCE_ENDPOINTS_URL
    assert hub.request_count("/api/whoami-v2") == 0  # namespace given: no whoami detour


def test_inference_endpoint_objects_keep_their_connection(
    hub: HubEmulator, second_hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``.fetch()`` / ``.pause()`` on a returned ``InferenceEndpoint`` go to the connection it came from."""
    set_connection(monkeypatch, "hf_a", connection_json(hub))
    set_connection(monkeypatch, "hf_b", connection_json(second_hub))
    endpoints = {}
    for conn_id, emulator in (("hf_a", hub), ("hf_b", second_hub)):
        emulator.add_repo("alice/served-model", files={"config.json": "{}"})
        emulator.set_endpoint_plan("shared-name", [("running", None)])
        endpoints[conn_id] = HfHubHook(conn_id).call(
            "create_inference_endpoint",
            "shared-name",
            repository="alice/served-model",
            framework="pytorch",
            accelerator="cpu",
            instance_size="x2",
            instance_type="intel-icl",
            region="us-east-1",
            vendor="aws",
            namespace="alice",
            idempotent=False,
            subject="Inference Endpoint alice/shared-name",
        )
    hub.reset_counts()
    second_hub.reset_counts()
    endpoints["hf_a"].fetch()
    endpoints["hf_a"].pause()
    assert hub.request_count("/v2/endpoint/alice/shared-name*") == 2
    assert second_hub.request_count() == 0
    endpoints["hf_b"].fetch()
    assert second_hub.request_count("/v2/endpoint/alice/shared-name") == 1
    assert endpoints["hf_a"]._token == hub.token


def test_uploads_print_no_progress_bar(hub: HubEmulator, capfd: pytest.CaptureFixture[str], tmp_path) -> None:
    """A task's stderr is its log at error level: huggingface_hub's progress bars must not reach it."""
    from huggingface_hub.utils import enable_progress_bars

    enable_progress_bars()  # as in a fresh task process
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\0" * (11 * 1024 * 1024))  # over the LFS threshold: uploaded with a progress bar
    hook = HfHubHook()
    hook.call("create_repo", "alice/bars", exist_ok=True)
    capfd.readouterr()
    hook.call("upload_folder", repo_id="alice/bars", folder_path=str(tmp_path), idempotent=False)
    assert "model.safetensors" in hook.call("list_repo_files", "alice/bars")
    err = capfd.readouterr().err
    assert "%|" not in err and "it/s" not in err and "B/s" not in err, err[-500:]
