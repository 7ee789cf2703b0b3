"""``HfHubHook``: the one authenticated door to the Hugging Face Hub."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_hub.hooks._access import AccessHookMixin
from airflow_provider_hub.hooks._endpoints import EndpointsHookMixin
from airflow_provider_hub.hooks._inference_providers import InferenceProvidersHookMixin
from airflow_provider_hub.hooks._jobs import JobsHookMixin
from airflow_provider_hub.hooks._repo import RepoHookMixin
from airflow_provider_hub.hooks._webhooks import WebhooksHookMixin

if TYPE_CHECKING:
    from airflow.sdk import Connection
    from huggingface_hub import HfApi

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_INFERENCE_ENDPOINTS_URL = "https://api.endpoints.huggingface.cloud/v2"
DEFAULT_ROUTER_URL = "https://router.huggingface.co"


class HfHubHook(
    RepoHookMixin,
    JobsHookMixin,
    EndpointsHookMixin,
    InferenceProvidersHookMixin,
    AccessHookMixin,
    WebhooksHookMixin,
    BaseHook,
):
    """Interact with the Hugging Face Hub through ``huggingface_hub.HfApi``.

    :param hf_conn_id: the :doc:`Hugging Face Hub connection </connection>`.
    """

    conn_name_attr = "hf_conn_id"
    default_conn_name = "huggingface_hub_default"
    conn_type = "huggingface_hub"
    hook_name = "Hugging Face Hub"

    def __init__(self, hf_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hf_conn_id = hf_conn_id

    @cached_property
    def api(self) -> HfApi:
        return self.get_conn()

    @cached_property
    def connection(self) -> Connection:
        return self.get_connection(self.hf_conn_id)

    def get_conn(self) -> HfApi:
        """A ``huggingface_hub.HfApi`` configured from the connection."""
        from huggingface_hub import HfApi

        from airflow_provider_hub import __version__

        conn = self.connection
        token = conn.password or None
        if token:
            mask_secret(token)
        return HfApi(
            endpoint=(conn.host or DEFAULT_ENDPOINT).rstrip("/"),
            token=token if token else False,
            library_name="airflow-provider-hub",
            library_version=__version__,
        )

    @property
    def endpoint(self) -> str:
        return (self.connection.host or DEFAULT_ENDPOINT).rstrip("/")

    @property
    def namespace(self) -> str | None:
        """The connection's default namespace (extra ``namespace``)."""
        return self.connection.extra_dejson.get("namespace") or None

    def call(self, method: str, /, *args: Any, idempotent: bool = True, subject: str | None = None, **kwargs: Any) -> Any:
        """Call ``HfApi.<method>(*args, **kwargs)`` under the connection's retry policy.

        :param idempotent: retry transient failures (429, 5xx, timeouts, connection errors) only when
            repeating the call cannot duplicate its effect.
        :param subject: what the call acts on (``"model alice/x@main"``, ``"Job 1234"``), named in errors.
        """
        return getattr(self.api, method)(*args, **kwargs)


class HfHubAsyncHook(BaseHook):
    """Async status reads for triggers, on one shared ``httpx.AsyncClient`` per process and connection."""

    conn_name_attr = "hf_conn_id"
    default_conn_name = "huggingface_hub_default"
    conn_type = "huggingface_hub"
    hook_name = "Hugging Face Hub (async)"

    def __init__(self, hf_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hf_conn_id = hf_conn_id
