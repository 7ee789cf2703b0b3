"""``HfHubHook`` methods for Inference Endpoints: create, read, update, pause, resume, scale to zero, delete.

Every method returns a plain dict (:func:`endpoint_summary`) rather than an ``InferenceEndpoint``, so results
go straight to XCom and trigger events. Requests reach the connection's ``inference_endpoints_url`` through the
hook's routing (see :mod:`airflow_provider_hub.hooks.routing`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.exceptions import HfHubNotFoundError
from airflow_provider_hub.hooks.host import HubArea
from airflow_provider_hub.lineage import report_repo

if TYPE_CHECKING:
    from huggingface_hub import InferenceEndpoint

#: The Inference Endpoints web UI (the link shown on tasks when the connection uses the public service).
ENDPOINTS_UI = "https://endpoints.huggingface.co"
PUBLIC_ENDPOINTS_API = "https://api.endpoints.huggingface.cloud/v2"


def endpoint_page_url(inference_endpoints_url: str, namespace: str, name: str) -> str:
    """The Endpoint's page: the web UI for the public service, else the API resource of a private one."""
    base = inference_endpoints_url.rstrip("/")
    if base == PUBLIC_ENDPOINTS_API:
        return f"{ENDPOINTS_UI}/{namespace}/endpoints/{name}"
    return f"{base}/endpoint/{namespace}/{name}"


def endpoint_summary(raw: Mapping[str, Any], namespace: str, inference_endpoints_url: str) -> dict[str, Any]:
    """A plain dict for XCom and trigger events from the raw Endpoint JSON (no env values, no secrets)."""
    status = raw.get("status") or {}
    model = raw.get("model") or {}
    compute = raw.get("compute") or {}
    scaling = compute.get("scaling") or {}
    return {
        "name": raw["name"],
        "namespace": namespace,
        "status": status.get("state"),
        "url": status.get("url"),
        "message": status.get("message"),
        "repository": model.get("repository"),
        "revision": model.get("revision"),
        "framework": model.get("framework"),
        "task": model.get("task"),
        "type": raw.get("type"),
        "health_route": raw.get("healthRoute"),
        "instance_type": compute.get("instanceType"),
        "instance_size": compute.get("instanceSize"),
        "min_replica": scaling.get("minReplica"),
        "max_replica": scaling.get("maxReplica"),
        "page_url": endpoint_page_url(inference_endpoints_url, namespace, raw["name"]),
    }


class EndpointsHookMixin(HubArea):
    """``HfHubHook``'s Inference Endpoints methods.

    Example::

        summary = hook.create_inference_endpoint("sentiment", repository="acme/sentiment", vendor="aws", ...)
        hook.pause_inference_endpoint("sentiment")["status"]  # "paused"
    """

    def endpoint_namespace(self, namespace: str | None = None) -> str:
        """``namespace``, else the connection's default namespace, else the token's user (asked once)."""
        return self.resolve_namespace(namespace)

    def _endpoint_summary(self, endpoint: InferenceEndpoint, namespace: str) -> dict[str, Any]:
        return endpoint_summary(endpoint.raw, namespace, self.settings.inference_endpoints_url)

    def get_inference_endpoint(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The Endpoint's summary (:func:`endpoint_summary`). Raises ``HfHubNotFoundError`` when missing."""
        namespace = self.endpoint_namespace(namespace)
        endpoint = self.call(
            "get_inference_endpoint",
            name,
            namespace=namespace,
            subject=f"Inference Endpoint {namespace}/{name}",
        )
        return self._endpoint_summary(endpoint, namespace)

    def list_inference_endpoints(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """Summaries of every Endpoint in ``namespace``."""
        namespace = self.endpoint_namespace(namespace)
        endpoints = self.call(
            "list_inference_endpoints", namespace=namespace, subject=f"Inference Endpoints of {namespace}"
        )
        return [self._endpoint_summary(endpoint, namespace) for endpoint in endpoints]

    def create_inference_endpoint(
        self, name: str, *, repository: str, namespace: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Create an Endpoint (``HfApi.create_inference_endpoint``; ``kwargs`` as there). Never retried."""
        namespace = self.endpoint_namespace(namespace)
        endpoint = self.call(
            "create_inference_endpoint",
            name,
            repository=repository,
            namespace=namespace,
            idempotent=False,
            subject=f"Inference Endpoint {namespace}/{name}",
            **kwargs,
        )
        return self._reported(self._endpoint_summary(endpoint, namespace))

    def update_inference_endpoint(
        self, name: str, namespace: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        """Change an Endpoint (``HfApi.update_inference_endpoint``); ``None`` values are left unchanged."""
        namespace = self.endpoint_namespace(namespace)
        endpoint = self.call(
            "update_inference_endpoint",
            name,
            namespace=namespace,
            subject=f"Inference Endpoint {namespace}/{name}",
            **{key: value for key, value in changes.items() if value is not None},
        )
        summary = self._endpoint_summary(endpoint, namespace)
        return self._reported(summary) if changes.get("repository") or changes.get("revision") else summary

    def _reported(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Report the model an Endpoint now serves to Airflow's hook lineage, as a read of that repo."""
        report_repo(self, "input", "model", summary["repository"], summary.get("revision"))
        return summary

    def pause_inference_endpoint(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """Pause an Endpoint (no cost, no traffic until resumed)."""
        namespace = self.endpoint_namespace(namespace)
        endpoint = self.call(
            "pause_inference_endpoint",
            name,
            namespace=namespace,
            subject=f"Inference Endpoint {namespace}/{name}",
        )
        return self._endpoint_summary(endpoint, namespace)

    def resume_inference_endpoint(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """Resume a paused or scaled-to-zero Endpoint; a running one is left as it is."""
        namespace = self.endpoint_namespace(namespace)
        endpoint = self.call(
            "resume_inference_endpoint",
            name,
            namespace=namespace,
            running_ok=True,
            subject=f"Inference Endpoint {namespace}/{name}",
        )
        return self._endpoint_summary(endpoint, namespace)

    def scale_to_zero_inference_endpoint(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """Scale an Endpoint to zero replicas (it wakes up on the next request)."""
        namespace = self.endpoint_namespace(namespace)
        endpoint = self.call(
            "scale_to_zero_inference_endpoint",
            name,
            namespace=namespace,
            subject=f"Inference Endpoint {namespace}/{name}",
        )
        return self._endpoint_summary(endpoint, namespace)

    def delete_inference_endpoint(self, name: str, namespace: str | None = None) -> None:
        """Delete an Endpoint. Raises ``HfHubNotFoundError`` when it does not exist.

        A 404 after a failed first attempt counts as deleted: that attempt may have deleted it before
        its answer was lost.
        """
        namespace = self.endpoint_namespace(namespace)
        try:
            self.call(
                "delete_inference_endpoint",
                name,
                namespace=namespace,
                subject=f"Inference Endpoint {namespace}/{name}",
            )
        except HfHubNotFoundError as exc:
            if exc.attempts == 1:
                raise
