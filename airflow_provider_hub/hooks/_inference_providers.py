"""``HfHubHook`` methods for the Hub's inference_providers area (being built)."""

from __future__ import annotations


class InferenceProvidersHookMixin:
    """Mixed into ``HfHubHook``; relies on its ``api`` and ``call``."""
