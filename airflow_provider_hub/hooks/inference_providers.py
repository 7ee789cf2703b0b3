"""``HfHubHook`` methods for Inference Providers: who serves a model, and the router's provider metadata.

The Hub side (provider mapping, ``inference`` warm status, models served by a provider) goes through
``HfApi``; the router's OpenAI-compatible ``/v1/models`` has no ``huggingface_hub`` method, so it is read with
the client's own HTTP session and auth headers from the connection's ``router_url``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_hub.hooks.host import HubArea


class InferenceProvidersHookMixin(HubArea):
    """``HfHubHook``'s Inference Providers methods.

    Example::

        hook.get_model_provider_mapping("acme/chat")["providers"]  # {"together": {"status": "live", ...}}
        hook.get_router_model("acme/chat")["providers"]  # per-provider pricing, context length, latency
    """

    def list_models_served_by(
        self, provider: str | list[str], *, pipeline_tag: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Models with a live mapping on ``provider`` (a provider id, a list of them, or ``"all"``).

        :return: ``[{"id", "pipeline_tag"}, ...]``.
        """
        models = self.call(
            "list_models",
            inference_provider=provider,
            pipeline_tag=pipeline_tag,
            limit=limit,
            subject=f"models served by {provider}",
        )
        return [{"id": model.id, "pipeline_tag": model.pipeline_tag} for model in models]

    def get_model_provider_mapping(self, model_id: str) -> dict[str, Any]:
        """Which providers serve ``model_id``, and whether it is warm.

        :return: ``{"model_id", "inference": "warm" | None, "providers": {provider: {"status", "provider_id",
            "task"}}}``.
        """
        info = self.call(
            "model_info",
            model_id,
            expand=["inference", "inferenceProviderMapping"],
            subject=f"model {model_id}",
        )
        return {
            "model_id": model_id,
            "inference": info.inference,
            "providers": {
                mapping.provider: {
                    "status": mapping.status,
                    "provider_id": mapping.provider_id,
                    "task": mapping.task,
                }
                for mapping in info.inference_provider_mapping or []
            },
        }

    def _router_get(self, path: str, subject: str) -> Any:
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        settings = self.settings
        url = settings.router_url.rstrip("/") + path
        headers = build_hf_headers(token=settings.token or False)

        def attempt() -> Any:
            response = get_session().get(url, headers=headers, timeout=settings.timeout)
            hf_raise_for_status(response)
            return response.json()

        return self.run_retried(attempt, action=f"GET {path}", subject=subject)

    def list_router_models(self) -> list[dict[str, Any]]:
        """The router's ``GET /v1/models``: every chat model with its per-provider metadata."""
        return list(self._router_get("/v1/models", "the Inference Providers router")["data"])

    def get_router_model(self, model_id: str) -> dict[str, Any]:
        """The router's ``GET /v1/models/{model_id}``: ``{"id", "providers": [{"provider", "status", ...}], ...}``."""
        owner, _, name = model_id.partition("/")
        path = f"/v1/models/{quote(owner, safe='')}/{quote(name, safe='')}"
        return self._router_get(path, f"model {model_id} on the Inference Providers router")
