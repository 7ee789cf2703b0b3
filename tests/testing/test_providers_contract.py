"""The Inference Providers area of the emulator: the Hub's provider mapping and the router's ``/v1/models``."""

from __future__ import annotations

import httpx
import pytest

CARD = "---\npipeline_tag: {tag}\n---\n# model\n"


@pytest.fixture
def seeded(hub_connection):
    hub_connection.add_repo("acme/chat", files={"README.md": CARD.format(tag="text-generation")})
    hub_connection.add_repo("acme/image", files={"README.md": CARD.format(tag="text-to-image")})
    hub_connection.add_repo("acme/unserved")
    hub_connection.set_inference_providers(
        "acme/chat",
        {
            "together": {
                "status": "live",
                "providerId": "acme/chat-fast",
                "task": "conversational",
                "context_length": 131072,
                "pricing": {"input": 0.2, "output": 0.6},
                "supports_tools": True,
                "supports_structured_output": True,
                "first_token_latency_ms": 300,
                "throughput": 90,
                "is_model_author": False,
            },
            "novita": {"status": "staging", "task": "conversational", "is_model_author": False},
        },
    )
    hub_connection.set_inference_providers(
        "acme/image", {"fal-ai": {"status": "live", "task": "text-to-image", "providerId": "fal/acme-image"}}
    )
    return hub_connection


def test_model_info_expand_inference_and_mapping(api, seeded):
    info = api.model_info("acme/chat", expand=["inference", "inferenceProviderMapping"])
    assert info.inference == "warm"
    mapping = {m.provider: m for m in info.inference_provider_mapping}
    assert set(mapping) == {"together", "novita"}
    assert (mapping["together"].provider_id, mapping["together"].status, mapping["together"].task) == (
        "acme/chat-fast",
        "live",
        "conversational",
    )
    assert mapping["novita"].status == "staging" and mapping["novita"].provider_id == "acme/chat"
    unserved = api.model_info("acme/unserved", expand=["inference", "inferenceProviderMapping"])
    assert unserved.inference is None and not unserved.inference_provider_mapping


def test_list_models_by_provider(api, seeded):
    assert [m.id for m in api.list_models(inference_provider="together")] == ["acme/chat"]
    assert [m.id for m in api.list_models(inference_provider="novita")] == []  # staging is not served
    assert sorted(m.id for m in api.list_models(inference_provider=["together", "fal-ai"])) == [
        "acme/chat",
        "acme/image",
    ]
    assert sorted(m.id for m in api.list_models(inference_provider="all")) == ["acme/chat", "acme/image"]
    assert [m.id for m in api.list_models(inference_provider="all", pipeline_tag="text-to-image")] == [
        "acme/image"
    ]
    listed = list(api.list_models(inference_provider="fal-ai", expand=["inferenceProviderMapping"]))
    assert [(m.provider, m.provider_id) for m in listed[0].inference_provider_mapping] == [
        ("fal-ai", "fal/acme-image")
    ]


def test_router_models(seeded):
    listing = httpx.get(f"{seeded.url}/v1/models", headers={"authorization": f"Bearer {seeded.token}"}).json()
    assert listing["object"] == "list"
    assert [model["id"] for model in listing["data"]] == ["acme/chat", "acme/image"]
    one = httpx.get(f"{seeded.url}/v1/models/acme/chat").json()
    assert (one["object"], one["owned_by"], isinstance(one["created"], int)) == ("model", "acme", True)
    providers = {entry["provider"]: entry for entry in one["providers"]}
    assert providers["together"] == {
        "provider": "together",
        "status": "live",
        "context_length": 131072,
        "pricing": {"input": 0.2, "output": 0.6},
        "supports_tools": True,
        "supports_structured_output": True,
        "first_token_latency_ms": 300,
        "throughput": 90,
        "is_model_author": False,
    }
    # Optional metrics stay absent, and a staging mapping is not routable.
    assert providers["novita"] == {"provider": "novita", "status": "error", "is_model_author": False}
    missing = httpx.get(f"{seeded.url}/v1/models/acme/unserved")
    assert missing.status_code == 404 and "not served" in missing.json()["error"]
    assert httpx.get(f"{seeded.url}/v1/models", headers={"authorization": "Bearer hf_bad"}).status_code == 401


def test_set_providers_validates(hub_connection):
    with pytest.raises(ValueError, match="status of provider 'x' must be one of"):
        hub_connection.set_inference_providers("a/b", {"x": {"status": "warm"}})
    with pytest.raises(ValueError, match="owner/name"):
        hub_connection.set_inference_providers("nope", {})
