"""The Inference Endpoints area of the emulator (``/v2``), driven by the unmodified huggingface_hub client.

``huggingface_hub`` hard-codes the Inference Endpoints base URL; these client-level tests point it at the
emulator the only way the client allows (its module constant). The hook-level tests use the connection's
``inference_endpoints_url`` instead.
"""

from __future__ import annotations

import time

import httpx
import pytest


@pytest.fixture
def api(hub_connection, monkeypatch):
    from huggingface_hub import HfApi, constants

    monkeypatch.setattr(constants, "INFERENCE_ENDPOINTS_ENDPOINT", f"{hub_connection.url}/v2")
    return HfApi(endpoint=hub_connection.url, token=hub_connection.token)


def _create(api, name="my-ep", **kwargs):
    return api.create_inference_endpoint(
        name,
        repository="alice/model",
        framework="pytorch",
        accelerator="cpu",
        instance_size="x2",
        instance_type="intel-icl",
        region="us-east-1",
        vendor="aws",
        task="text-generation",
        namespace="alice",
        # The returned InferenceEndpoint refreshes itself through a fresh HfApi(): give it the token.
        token=api.token,
        **kwargs,
    )


def test_create_then_wait_walks_the_default_lifecycle(api, hub_connection):
    endpoint = _create(api)
    assert endpoint.status == "pending" and endpoint.url is None
    assert endpoint.repository == "alice/model" and endpoint.task == "text-generation"
    seen = set()
    deadline = time.monotonic() + 5
    while endpoint.status != "running" and time.monotonic() < deadline:
        seen.add(endpoint.status)
        time.sleep(0.05)
        endpoint.fetch()
    assert {"pending", "initializing"} <= seen
    endpoint.wait(timeout=5, refresh_every=0.1)  # also GETs the health route
    assert endpoint.url == f"{hub_connection.url}/_endpoints/alice/my-ep"
    health = httpx.get(f"{endpoint.url}/health")
    assert health.status_code == 200


def test_failed_plan_raises_with_the_endpoints_message(api, hub_connection):
    from huggingface_hub.errors import InferenceEndpointError

    hub_connection.set_endpoint_plan("broken", [("pending", 0.1), ("failed", None)])
    endpoint = _create(api, "broken")
    with pytest.raises(InferenceEndpointError):
        endpoint.wait(timeout=5, refresh_every=0.1)
    endpoint.fetch()
    assert endpoint.status == "failed" and "exited" in endpoint.raw["status"]["message"]


def test_pause_resume_scale_to_zero_update_list_delete(api, hub_connection):
    hub_connection.set_endpoint_plan("ep", [("initializing", 0.1), ("running", None)])
    endpoint = _create(api, "ep")
    endpoint.wait(timeout=5, refresh_every=0.1)
    # resume(running_ok=True) on a running Endpoint relies on the 400 "already running" text.
    assert api.resume_inference_endpoint("ep", namespace="alice").status == "running"
    assert api.pause_inference_endpoint("ep", namespace="alice").status == "paused"
    health = httpx.get(f"{hub_connection.url}/_endpoints/alice/ep/health")
    assert health.status_code == 503
    resumed = api.resume_inference_endpoint("ep", namespace="alice", token=api.token)
    assert resumed.status == "initializing"
    resumed.wait(timeout=5, refresh_every=0.1)
    assert api.scale_to_zero_inference_endpoint("ep", namespace="alice").status == "scaledToZero"
    updated = api.update_inference_endpoint("ep", revision="abc123", max_replica=3, namespace="alice")
    assert updated.revision == "abc123" and updated.raw["compute"]["scaling"]["maxReplica"] == 3
    assert updated.status == "initializing"  # the name's plan applies to updates too
    with_secret = api.update_inference_endpoint("ep", secrets={"KEY": "s3cr3t"}, namespace="alice")
    assert with_secret.raw["model"]["secrets"] == {"KEY": "******"}
    assert [e.name for e in api.list_inference_endpoints(namespace="alice")] == ["ep"]
    api.delete_inference_endpoint("ep", namespace="alice")
    assert api.list_inference_endpoints(namespace="alice") == []


def test_default_update_plan_and_errors(api, hub_connection):
    from huggingface_hub.errors import HfHubHTTPError

    endpoint = _create(api, "u")
    endpoint.wait(timeout=5, refresh_every=0.1)
    assert api.update_inference_endpoint("u", env={"A": "1"}, namespace="alice").status == "updating"
    with pytest.raises(HfHubHTTPError) as conflict:
        _create(api, "u")
    assert conflict.value.response.status_code == 409
    with pytest.raises(HfHubHTTPError) as missing:
        api.get_inference_endpoint("nope", namespace="alice")
    assert missing.value.response.status_code == 404
    outsider = hub_connection.add_user("mallory")
    from huggingface_hub import HfApi

    with pytest.raises(HfHubHTTPError) as forbidden:
        HfApi(endpoint=hub_connection.url, token=outsider).get_inference_endpoint("u", namespace="alice")
    assert forbidden.value.response.status_code == 403


def test_org_namespace_and_hardware(api, hub_connection):
    # namespace="*" is not exercised: huggingface_hub 2.4.0 lists the user's own Endpoints there through a
    # default HfApi() without the caller's token, which only works with an implicit token.
    api.create_inference_endpoint(
        "org-ep",
        repository="acme/model",
        framework="pytorch",
        accelerator="cpu",
        instance_size="x2",
        instance_type="intel-icl",
        region="us-east-1",
        vendor="aws",
        task="text-generation",
        namespace="acme",
    )
    assert [e.name for e in api.list_inference_endpoints(namespace="acme")] == ["org-ep"]
    assert api.list_inference_endpoints(namespace="alice") == []
    hardware = api.list_inference_endpoints_hardware(namespace="alice")
    assert hardware  # the client parses the vendors/regions/computes shape


def test_set_plan_rejects_bad_plans(hub_connection):
    with pytest.raises(ValueError, match="unknown Endpoint status 'ready'"):
        hub_connection.set_endpoint_plan("x", [("ready", None)])
    with pytest.raises(ValueError, match="only the last"):
        hub_connection.set_endpoint_plan("x", [("pending", None), ("running", None)])
