"""A connection given as a URI in ``AIRFLOW_CONN_...``: the hyphenated scheme works, the underscore one fails
saying what to write (Airflow parses ``huggingface_hub://`` as a connection without a type)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_hub.hooks.hub import HfHubAsyncHook, HfHubHook

HYPHEN_HINT = "Write the scheme with a hyphen, 'huggingface-hub://:TOKEN@HOST?namespace=NAME'"


def test_the_hyphenated_uri_form_reaches_the_hub_with_its_token_and_extras(
    hub_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator serves plain http: such a host goes percent-encoded, a bare host name gets https://.
    uri = f"huggingface-hub://:{hub_connection.token}@{quote(hub_connection.url, safe='')}?namespace=acme&timeout=12"
    monkeypatch.setenv("AIRFLOW_CONN_HF_URI", uri)
    hook = HfHubHook(hf_conn_id="hf_uri")
    assert (hook.settings.endpoint, hook.settings.namespace, hook.settings.timeout) == (
        hub_connection.url,
        "acme",
        12.0,
    )
    assert hook.call("whoami")["name"] == "alice"


@pytest.mark.parametrize(
    "uri",
    [
        "huggingface_hub://:{token}@hub.example.com?namespace=acme",
        "huggingface_hub://:{token}@hub.example.com",
        "huggingface_hub://hub.example.com",
    ],
)
def test_the_underscore_uri_form_fails_saying_what_to_write(
    uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "hf_underscore_uri_token_4711"
    monkeypatch.setenv("AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT", uri.format(token=token))
    with pytest.raises(
        ValueError, match="Connection 'huggingface_hub_default' has no connection type"
    ) as raised:
        HfHubHook().get_conn()
    assert HYPHEN_HINT in str(raised.value) and token not in str(raised.value)

    ok, message = HfHubHook().test_connection()
    assert not ok and HYPHEN_HINT in message and token not in message

    with pytest.raises(ValueError, match="has no connection type"):
        asyncio.run(HfHubAsyncHook().get_settings())


def test_a_json_connection_without_a_type_is_not_taken_for_the_underscore_uri(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HF_UNTYPED", '{"host": "hub.example.com", "password": "hf_x"}')
    assert HfHubHook(hf_conn_id="hf_untyped").settings.endpoint == "https://hub.example.com"
