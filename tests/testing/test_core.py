"""The emulator's own machinery: identity, fault injection, counters, the control API and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from airflow_provider_hub.testing import HubEmulator


def test_whoami_with_seeded_token_and_org(hub_connection: HubEmulator) -> None:
    me = HfApi(endpoint=hub_connection.url, token=hub_connection.token).whoami()
    assert me["name"] == "alice"
    assert [org["name"] for org in me["orgs"]] == ["acme"]
    assert me["auth"]["accessToken"]["role"] == "write"


def test_unknown_token_is_401_with_the_hubs_message(hub_connection: HubEmulator) -> None:
    with pytest.raises(HfHubHTTPError) as raised:
        HfApi(endpoint=hub_connection.url, token="hf_not_a_token").whoami()
    assert raised.value.response.status_code == 401
    assert raised.value.response.headers["x-error-message"] == "Invalid credentials in Authorization header"


def test_read_token_cannot_create_repos(hub_connection: HubEmulator) -> None:
    read_token = hub_connection.add_token("alice", role="read")
    api = HfApi(endpoint=hub_connection.url, token=read_token)
    assert api.whoami()["auth"]["accessToken"]["role"] == "read"
    with pytest.raises(HfHubHTTPError) as raised:
        api.create_repo("alice/read-only-attempt")
    assert raised.value.response.status_code == 403


def test_users_and_orgs_seeded_from_python(hub_connection: HubEmulator) -> None:
    token = hub_connection.add_user("bob", fullname="Bob B", email="bob@lab.org", orgs=["lab"])
    me = HfApi(endpoint=hub_connection.url, token=token).whoami()
    assert (me["name"], me["fullname"], me["email"]) == ("bob", "Bob B", "bob@lab.org")
    assert [org["name"] for org in me["orgs"]] == ["lab"]


def test_status_fault_with_retry_after_fires_the_given_number_of_times(hub_connection: HubEmulator) -> None:
    url = f"{hub_connection.url}/api/whoami-v2"
    headers = {"authorization": f"Bearer {hub_connection.token}"}
    hub_connection.inject_fault("/api/whoami-*", status=429, retry_after=2, times=2)
    first, second, third = (httpx.get(url, headers=headers) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["retry-after"] == "2"
    assert hub_connection.request_count("/api/whoami-v2") == 3
    assert hub_connection.request_count("/api/whoami-v2", method="POST") == 0


def test_fault_rate_is_deterministic_for_a_seed() -> None:
    def outcomes() -> list[int]:
        with HubEmulator(seed=7) as hub:
            hub.inject_fault("/api/agent-harnesses", status=503, rate=0.3)
            return [httpx.get(f"{hub.url}/api/agent-harnesses").status_code for _ in range(40)]

    first, second = outcomes(), outcomes()
    assert first == second
    assert 0 < first.count(503) < 40


def test_latency_fault_delays_the_answer(hub_connection: HubEmulator) -> None:
    hub_connection.inject_fault("/api/agent-harnesses", latency=0.3)
    started = time.perf_counter()
    assert httpx.get(f"{hub_connection.url}/api/agent-harnesses").status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_dropped_connection_is_a_protocol_error_for_the_client(hub_connection: HubEmulator) -> None:
    hub_connection.inject_fault("/api/agent-harnesses", drop=True, times=1)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{hub_connection.url}/api/agent-harnesses")
    assert httpx.get(f"{hub_connection.url}/api/agent-harnesses").status_code == 200


def test_clear_faults_and_remove_fault(hub_connection: HubEmulator) -> None:
    kept = hub_connection.inject_fault("/api/agent-harnesses", status=500)
    hub_connection.inject_fault("/api/whoami-v2", status=500)
    hub_connection.remove_fault(kept)
    assert httpx.get(f"{hub_connection.url}/api/agent-harnesses").status_code == 200
    hub_connection.clear_faults()
    assert httpx.get(f"{hub_connection.url}/api/whoami-v2").status_code == 401


def test_fault_needs_an_effect() -> None:
    with HubEmulator() as hub, pytest.raises(ValueError, match="status, drop=True or a latency"):
        hub.inject_fault("/api/*")


def test_xet_routes_answer_501_with_what_to_do(hub_connection: HubEmulator) -> None:
    response = httpx.get(f"{hub_connection.url}/api/models/alice/x/xet-write-token/main")
    assert response.status_code == 501
    assert "HF_HUB_DISABLE_XET=1" in response.json()["error"]


def test_control_api_over_http(hub_connection: HubEmulator) -> None:
    base = f"{hub_connection.url}/_emulator"
    token = httpx.post(f"{base}/add_user", json={"name": "carol", "orgs": ["acme"]}).json()["result"]
    assert HfApi(endpoint=hub_connection.url, token=token).whoami()["name"] == "carol"
    httpx.post(f"{base}/add_repo", json={"repo_id": "acme/seeded", "files": {"README.md": "# hi"}})
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    assert "README.md" in api.list_repo_files("acme/seeded")
    fault_id = httpx.post(f"{base}/inject_fault", json={"route": "/api/whoami-v2", "status": 503}).json()[
        "result"
    ]
    assert httpx.get(f"{hub_connection.url}/api/whoami-v2").status_code == 503
    httpx.post(f"{base}/remove_fault", json={"fault_id": fault_id})
    count = httpx.get(f"{base}/request_count", params={"route": "/api/whoami-v2"}).json()["result"]
    assert count >= 2
    unknown = httpx.post(f"{base}/shutdown_everything")
    assert unknown.status_code == 404 and "add_user" in unknown.json()["error"]
    bad = httpx.post(f"{base}/add_token", json={"user": "carol", "role": "owner"})
    assert bad.status_code == 400 and "role" in bad.json()["error"]


def test_reset_forgets_state_but_keeps_the_default_user(hub_connection: HubEmulator) -> None:
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/to-forget")
    hub_connection.reset()
    assert not api.repo_exists("alice/to-forget")
    assert api.whoami()["name"] == "alice"
    assert hub_connection.request_count("/api/repos/create") == 0


def test_command_line_serves_and_prints_the_connection(tmp_path: os.PathLike[str]) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_hub.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        export = next(
            line for line in lines if line.startswith("export AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT=")
        )
        conn = json.loads(export.split("=", 1)[1].strip().strip("'"))
        assert conn["conn_type"] == "huggingface_hub"
        who = httpx.get(
            f"{conn['host']}/api/whoami-v2", headers={"authorization": f"Bearer {conn['password']}"}
        )
        assert who.json()["name"] == "alice"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_after_apply_fault_lands_the_change_and_loses_the_answer(hub_connection: HubEmulator) -> None:
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    hub_connection.inject_fault("/api/repos/create", drop=True, after_apply=True, times=1)
    with pytest.raises(httpx2.RemoteProtocolError):
        api.create_repo("alice/landed-anyway")
    assert api.repo_exists("alice/landed-anyway")


def test_after_apply_needs_an_outcome() -> None:
    with HubEmulator() as hub, pytest.raises(ValueError, match="after_apply"):
        hub.inject_fault("/api/*", latency=0.1, after_apply=True)
