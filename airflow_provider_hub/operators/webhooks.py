"""Manage the Hub webhooks that feed :class:`~airflow_provider_hub.triggers.webhooks.HfWebhookTrigger`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.hooks.webhooks import normalize_domains, normalize_watched
from airflow_provider_hub.operators.base import HfHubBaseOperator, hub_template_fields

if TYPE_CHECKING:
    from airflow.sdk import Context


class HfCreateWebhookOperator(HfHubBaseOperator):
    """Ensure a Hub webhook posts changes of ``watched`` to ``url`` (idempotent).

    An existing webhook of the connection's user with the same ``url`` and the same watched items is
    updated in place (domains, secret, re-enabled), never duplicated. Returns
    ``{"webhook_id", "url", "watched", "domains", "disabled", "action": "created"|"updated"|"unchanged"}``
    (never the secret).

    Example::

        HfCreateWebhookOperator(
            task_id="webhook",
            url="https://airflow.example.com/hf-webhooks/hf-webhook",
            watched=[{"type": "model", "name": "alice/my-model"}],
            domains=["repo"],
            secret_conn_id="hf_webhook_secret",
        )

    :param url: where the Hub posts deliveries: the api-server's ``{airflow URL}/hf-webhooks/{path}`` (templated).
    :param watched: ``[{"type": "model"|"dataset"|"space"|"user"|"org", "name": ...}]`` (templated).
    :param domains: ``["repo"]``, ``["discussion"]`` or both (default both) (templated).
    :param secret_conn_id: connection whose password is sent as ``X-Webhook-Secret``; ``None`` for no secret.
    :param hf_conn_id: the Hub connection (its token's user owns the webhook) (templated).
    """

    template_fields: Sequence[str] = hub_template_fields("url", "watched", "domains", "secret_conn_id")

    def __init__(
        self,
        *,
        url: str,
        watched: list[Mapping[str, str]],
        domains: list[str] | None = None,
        secret_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.watched = watched
        self.domains = domains
        self.secret_conn_id = secret_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must be an http(s) URL; got {self.url!r}")
        watched = normalize_watched(self.watched)
        domains = normalize_domains(self.domains)
        secret = None
        if self.secret_conn_id:
            from airflow.sdk.log import mask_secret

            secret = self.hook.get_connection(self.secret_conn_id).password
            if not secret:
                raise ValueError(
                    f"secret_conn_id {self.secret_conn_id!r} names a connection without a password"
                )
            mask_secret(secret)
        result = self.hook.ensure_webhook(self.url, watched, domains=domains, secret=secret)
        self.log.info("Webhook %s for %s: %s", result["webhook_id"], self.url, result["action"])
        return result
