"""The Inference Providers methods of ``HfHubHook`` against the emulator: mapping, provider list, status."""

from __future__ import annotations

from tests.support.inference_providers import _hook


def test_hook_methods(seeded):
    hook = _hook()
    assert hook.list_models_served_by("together") == [{"id": "acme/chat", "pipeline_tag": "text-generation"}]
    assert hook.list_models_served_by("sambanova") == []  # its mapping is not live
    mapping = hook.get_model_provider_mapping("acme/chat")
    assert mapping["inference"] == "warm"
    assert mapping["providers"]["together"] == {
        "status": "live",
        "provider_id": "acme/chat",
        "task": "conversational",
    }
    assert [model["id"] for model in hook.list_router_models()] == ["acme/chat"]
    assert hook.get_router_model("acme/chat")["owned_by"] == "acme"
