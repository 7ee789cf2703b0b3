"""``HfHubHook`` methods for the Hub's webhooks area."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_hub.hooks.host import HubArea

WATCHED_TYPES = ("model", "dataset", "space", "user", "org")
WEBHOOK_DOMAINS = ("repo", "discussion")


def normalize_watched(watched: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Validate ``watched`` (``[{"type": "model", "name": "alice/x"}, ...]``) and return plain dicts.

    :raises ValueError: naming the bad item, before any network call.
    """
    if isinstance(watched, (str, bytes)) or not isinstance(watched, Iterable):
        raise ValueError(f"watched must be a list of {{'type', 'name'}} dicts; got {watched!r}")
    items = []
    for item in watched:
        if not isinstance(item, Mapping) or item.get("type") not in WATCHED_TYPES or not item.get("name"):
            raise ValueError(
                f"watched item {item!r} must be a dict with 'type' in {list(WATCHED_TYPES)} and a 'name'"
            )
        items.append({"type": str(item["type"]), "name": str(item["name"])})
    if not items:
        raise ValueError("watched must name at least one user, org or repo; got an empty list")
    return items


def normalize_domains(domains: Iterable[str] | None) -> list[str]:
    """``None`` means both domains; otherwise a non-empty subset of ``("repo", "discussion")``."""
    if domains is None:
        return list(WEBHOOK_DOMAINS)
    values = [domains] if isinstance(domains, str) else list(domains)
    if not values or any(d not in WEBHOOK_DOMAINS for d in values):
        raise ValueError(f"domains must be a non-empty subset of {list(WEBHOOK_DOMAINS)}; got {domains!r}")
    return list(dict.fromkeys(values))


def _watched_key(watched: Iterable[Any]) -> frozenset[tuple[str, str]]:
    return frozenset(
        (item["type"], item["name"]) if isinstance(item, Mapping) else (item.type, item.name)
        for item in watched
    )


def webhook_view(webhook: Any) -> dict[str, Any]:
    """The XCom-safe view of a ``WebhookInfo``: everything except the secret."""
    return {
        "webhook_id": webhook.id,
        "url": webhook.url,
        "watched": [{"type": item.type, "name": item.name} for item in webhook.watched],
        "domains": list(webhook.domains),
        "disabled": webhook.disabled,
    }


class WebhooksHookMixin(HubArea):
    """``HfHubHook``'s webhook methods.

    Example::

        view = hook.ensure_webhook("https://airflow.example.com/hf-webhooks/hf-webhook",
                                   [{"type": "model", "name": "acme/sentiment"}], secret=secret)
        view["action"]  # "created", "updated" or "unchanged"
    """

    def ensure_webhook(
        self,
        url: str,
        watched: Iterable[Mapping[str, str]],
        *,
        domains: Iterable[str] | None = None,
        secret: str | None = None,
    ) -> dict[str, Any]:
        """Make sure exactly one webhook posts ``domains`` events of ``watched`` to ``url``.

        An existing webhook with the same ``url`` and the same set of watched items is updated in place
        (domains, secret, re-enabled if disabled) when it differs; otherwise one is created. Never makes a
        duplicate, so it is safe to run on every DAG run.

        :returns: :func:`webhook_view` of the webhook plus ``action``: ``created``, ``updated`` or ``unchanged``.
        """
        watched_items = normalize_watched(watched)
        wanted_domains = normalize_domains(domains)
        subject = f"webhook for {url}"
        key = _watched_key(watched_items)
        existing = next(
            (
                w
                for w in self.call("list_webhooks", subject=subject)
                if w.url == url and _watched_key(w.watched) == key
            ),
            None,
        )
        if existing is None:
            created = self.call(
                "create_webhook",
                url=url,
                watched=watched_items,
                domains=wanted_domains,
                secret=secret,
                idempotent=False,
                subject=subject,
            )
            return {**webhook_view(created), "action": "created"}
        action = "unchanged"
        webhook = existing
        if set(existing.domains) != set(wanted_domains) or (existing.secret or None) != (secret or None):
            webhook = self.call(
                "update_webhook",
                existing.id,
                url=url,
                watched=watched_items,
                domains=wanted_domains,
                secret=secret,
                subject=subject,
            )
            action = "updated"
        if webhook.disabled:
            webhook = self.call("enable_webhook", existing.id, subject=subject)
            action = "updated"
        return {**webhook_view(webhook), "action": action}
