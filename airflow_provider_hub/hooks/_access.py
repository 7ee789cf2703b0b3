"""``HfHubHook`` methods for the Hub's access area (being built)."""

from __future__ import annotations


class AccessHookMixin:
    """Mixed into ``HfHubHook``; relies on its ``api`` and ``call``."""
