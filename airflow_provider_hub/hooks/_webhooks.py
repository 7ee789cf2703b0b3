"""``HfHubHook`` methods for the Hub's webhooks area (being built)."""

from __future__ import annotations


class WebhooksHookMixin:
    """Mixed into ``HfHubHook``; relies on its ``api`` and ``call``."""
