"""The Inference Providers area's backend: the Hub's provider mapping and the router's ``/v1/models``.

One seeding call, :meth:`ProviderBackend.set_providers`, feeds both views: the Hub side (``model_info``
``expand=["inference", "inferenceProviderMapping"]`` and ``list_models(inference_provider=...)``, served by the
repos area through :meth:`ProviderBackend.model_expand` and :meth:`ProviderBackend.models_served_by`) and the
router's OpenAI-compatible listing with per-provider metadata.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.testing.errors import NotFound

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState

#: Router metadata fields a provider entry may carry (all optional but ``provider`` and ``status``).
ROUTER_FIELDS = (
    "context_length",
    "pricing",
    "supports_tools",
    "supports_structured_output",
    "first_token_latency_ms",
    "throughput",
    "is_model_author",
)
MAPPING_STATUSES = ("live", "staging", "error")


class ProviderBackend:
    """Per model: ``{provider: {status, providerId, task, <router metadata>...}}``."""

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        self.models: dict[str, dict[str, dict[str, Any]]] = {}
        self.created: dict[str, int] = {}

    def set_providers(self, model_id: str, providers: dict[str, dict[str, Any]]) -> None:
        """Replace the providers of ``model_id`` (an empty dict: served by none)."""
        if model_id.count("/") != 1:
            raise ValueError(f"model_id must look like 'owner/name'; got {model_id!r}")
        entries: dict[str, dict[str, Any]] = {}
        for provider, details in providers.items():
            entry = dict(details)
            entry.setdefault("status", "live")
            if entry["status"] not in MAPPING_STATUSES:
                raise ValueError(
                    f"status of provider {provider!r} must be one of {', '.join(MAPPING_STATUSES)}; "
                    f"got {entry['status']!r}"
                )
            entries[provider] = entry
        with self.hub.lock:
            self.models[model_id] = entries
            self.created.setdefault(model_id, int(time.time()))

    def model_expand(self, repo_id: str) -> dict[str, Any]:
        """The ``inference`` and ``inferenceProviderMapping`` expand fields of a model, Hub-shaped."""
        with self.hub.lock:
            providers = self.models.get(repo_id)
            if not providers:
                return {}
            mapping = {
                name: {
                    "status": entry["status"],
                    "providerId": entry.get("providerId", repo_id),
                    "task": entry.get("task", "conversational"),
                }
                for name, entry in sorted(providers.items())
            }
        expand: dict[str, Any] = {"inferenceProviderMapping": mapping}
        if any(item["status"] == "live" for item in mapping.values()):
            expand["inference"] = "warm"
        return expand

    def models_served_by(self, provider: str) -> set[str]:
        """Ids of the models with a live mapping on ``provider``."""
        with self.hub.lock:
            return {
                model_id
                for model_id, providers in self.models.items()
                if providers.get(provider, {}).get("status") == "live"
            }

    def router_models(self) -> list[dict[str, Any]]:
        """The router's listing: every model some provider serves, by id."""
        with self.hub.lock:
            return [self._router_model(model_id) for model_id in sorted(self.models) if self.models[model_id]]

    def router_model(self, model_id: str) -> dict[str, Any]:
        """The router's OpenAI-style model object; 404 when no provider serves the model."""
        with self.hub.lock:
            if not self.models.get(model_id):
                raise NotFound(f"Model {model_id} is not served by any Inference Provider")
            return self._router_model(model_id)

    def _router_model(self, model_id: str) -> dict[str, Any]:
        """The router's model object of ``model_id``, which some provider serves (the lock is held)."""
        providers = self.models[model_id]
        entries = []
        for name, entry in sorted(providers.items()):
            # The router reports probe health ("live" | "error"); a staging mapping is not routable.
            item: dict[str, Any] = {
                "provider": name,
                "status": "live" if entry["status"] == "live" else "error",
            }
            item.update({key: entry[key] for key in ROUTER_FIELDS if key in entry})
            entries.append(item)
        return {
            "id": model_id,
            "object": "model",
            "created": self.created[model_id],
            "owned_by": model_id.split("/", 1)[0],
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "providers": entries,
        }


def attach(hub: HubState) -> None:
    """Create this area's backend on ``hub`` (``hub.providers``)."""
    hub.providers = ProviderBackend(hub)
