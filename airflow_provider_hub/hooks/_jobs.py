"""``HfHubHook`` methods for the Hub's jobs area (being built)."""

from __future__ import annotations


class JobsHookMixin:
    """Mixed into ``HfHubHook``; relies on its ``api`` and ``call``."""
