"""``HfHubHook`` methods for the Hub's endpoints area (being built)."""

from __future__ import annotations


class EndpointsHookMixin:
    """Mixed into ``HfHubHook``; relies on its ``api`` and ``call``."""
