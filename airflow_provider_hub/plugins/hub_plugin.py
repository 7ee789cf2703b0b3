"""The provider's Airflow plugin, loaded through the ``airflow.plugins`` entry point.

Airflow loads provider-info plugins only with ``[core] lazy_discover_providers = False``; an entry-point
plugin is loaded in every deployment. Several components load plugins, so this module imports nothing but
Airflow's plugin base: the webhook receiver's app is built when the api-server asks for it.
"""

from __future__ import annotations

import functools
from typing import Any

from airflow.plugins_manager import AirflowPlugin


class HfHubPlugin(AirflowPlugin):
    """Mounts the Hub webhook receiver (:mod:`~airflow_provider_hub.plugins.webhook_receiver`) under
    ``/hf-webhooks`` in every api-server."""

    name = "huggingface_hub"

    @functools.cached_property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        from airflow_provider_hub.plugins.webhook_receiver import URL_PREFIX, create_app

        return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Hugging Face Hub webhooks"}]
