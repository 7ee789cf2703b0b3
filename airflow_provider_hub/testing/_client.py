"""Point the ``huggingface_hub`` client of this process (and its children) at an emulator."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def client_environment(url: str, hf_home: str) -> dict[str, str]:
    """The environment variables that make ``huggingface_hub`` talk to the emulator at ``url``."""
    return {
        "HF_ENDPOINT": url,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        "HF_HOME": hf_home,
        "HF_HUB_CACHE": os.path.join(hf_home, "hub"),
    }


def _constant_overrides(url: str, hf_home: str) -> dict[str, object]:
    return {
        "ENDPOINT": url,
        "HUGGINGFACE_CO_URL_TEMPLATE": url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_DISABLE_TELEMETRY": True,
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": True,
        "HF_HOME": hf_home,
        "HF_HUB_CACHE": os.path.join(hf_home, "hub"),
        "HF_TOKEN_PATH": os.path.join(hf_home, "token"),
    }


@contextmanager
def emulated_client(url: str, hf_home: str) -> Iterator[None]:
    """Set the client's environment and, if ``huggingface_hub`` is already imported, its constants.

    ``huggingface_hub`` reads most settings once at import; a process that imported it before the
    emulator started still needs its constants patched.
    """
    saved_env = {key: os.environ.get(key) for key in client_environment(url, hf_home)}
    os.environ.update(client_environment(url, hf_home))
    constants = sys.modules.get("huggingface_hub.constants")
    overrides = _constant_overrides(url, hf_home)
    saved_constants = {name: getattr(constants, name) for name in overrides if hasattr(constants, name)}
    if constants is not None:
        for name, value in overrides.items():
            setattr(constants, name, value)
    try:
        yield
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if constants is not None:
            for name, value in saved_constants.items():
                setattr(constants, name, value)
