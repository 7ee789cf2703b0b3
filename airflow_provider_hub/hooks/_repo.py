"""``HfHubHook`` methods for the Hub's repo area (being built)."""

from __future__ import annotations


class RepoHookMixin:
    """Mixed into ``HfHubHook``; relies on its ``api`` and ``call``."""
