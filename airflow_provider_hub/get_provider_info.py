"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

Airflow validates this dict against ``provider_info.schema.json`` for *every* provider
discovery: a mistake here breaks ``airflow providers list`` for all providers, so
``tests/package/test_provider_info.py`` validates it.
"""

from __future__ import annotations

from typing import Any

INTEGRATION = "Hugging Face Hub"


def _modules(*names: str) -> list[dict[str, Any]]:
    return [{"integration-name": INTEGRATION, "python-modules": list(names)}]


def get_provider_info() -> dict[str, Any]:
    from airflow_provider_hub import __version__

    return {
        "package-name": "airflow-provider-hub",
        "name": "Hugging Face Hub",
        "description": "`Hugging Face Hub <https://huggingface.co/>`__: publish models and datasets, run Jobs, "
        "roll out Inference Endpoints, triage gated-repo access requests and start DAGs on Hub changes.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://huggingface.co/docs/hub",
                "tags": ["software"],
            }
        ],
        "hooks": _modules("airflow_provider_hub.hooks.hub"),
        "operators": _modules(
            "airflow_provider_hub.operators.repo",
            "airflow_provider_hub.operators.discussions",
            "airflow_provider_hub.operators.collections",
            "airflow_provider_hub.operators.spaces",
            "airflow_provider_hub.operators.jobs",
            "airflow_provider_hub.operators.endpoints",
            "airflow_provider_hub.operators.inference_providers",
            "airflow_provider_hub.operators.access",
            "airflow_provider_hub.operators.webhooks",
        ),
        "sensors": _modules(
            "airflow_provider_hub.sensors.repo",
            "airflow_provider_hub.sensors.discussions",
            "airflow_provider_hub.sensors.spaces",
            "airflow_provider_hub.sensors.jobs",
            "airflow_provider_hub.sensors.endpoints",
            "airflow_provider_hub.sensors.inference_providers",
        ),
        "triggers": _modules(
            "airflow_provider_hub.triggers.jobs",
            "airflow_provider_hub.triggers.discussions",
            "airflow_provider_hub.triggers.spaces",
            "airflow_provider_hub.triggers.endpoints",
            "airflow_provider_hub.triggers.inference_providers",
            "airflow_provider_hub.triggers.repo",
            "airflow_provider_hub.triggers.webhooks",
        ),
        "transfers": [
            {
                "source-integration-name": "Amazon Simple Storage Service (S3)",
                "target-integration-name": INTEGRATION,
                "python-module": "airflow_provider_hub.transfers.s3_to_hub",
            },
            {
                "source-integration-name": INTEGRATION,
                "target-integration-name": "Amazon Simple Storage Service (S3)",
                "python-module": "airflow_provider_hub.transfers.hub_to_s3",
            },
        ],
        "connection-types": [
            {
                "connection-type": "huggingface_hub",
                "hook-class-name": "airflow_provider_hub.hooks.hub.HfHubHook",
                "hook-name": "Hugging Face Hub",
                "conn-fields": {
                    "namespace": {
                        "label": "Default namespace",
                        "schema": {"type": ["string", "null"]},
                        "description": "User or organization used for repos, Jobs and Endpoints "
                        "when an operator does not name one.",
                    },
                    "inference_endpoints_url": {
                        "label": "Inference Endpoints API URL",
                        "schema": {"type": ["string", "null"], "format": "url"},
                        "description": "Defaults to https://api.endpoints.huggingface.cloud/v2",
                    },
                    "router_url": {
                        "label": "Inference Providers router URL",
                        "schema": {"type": ["string", "null"], "format": "url"},
                        "description": "Defaults to https://router.huggingface.co",
                    },
                    "timeout": {
                        "label": "Request timeout (seconds)",
                        "schema": {"type": ["number", "null"], "minimum": 0},
                        "description": "Per-request timeout for Hub calls. Default 30.",
                    },
                    "max_retries": {
                        "label": "Max retries",
                        "schema": {"type": ["integer", "null"], "minimum": 0},
                        "description": "Retries of transient failures (429, 5xx, timeouts) on calls "
                        "that are safe to repeat. Default 5.",
                    },
                    "retry_backoff": {
                        "label": "Retry backoff (seconds)",
                        "schema": {"type": ["number", "null"], "minimum": 0},
                        "description": "Base of the exponential backoff between retries "
                        "(at most 60 s per wait). Default 1.",
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login", "extra"],
                    "relabeling": {"password": "Access token", "host": "Hub endpoint"},
                    "placeholders": {"host": "https://huggingface.co", "password": "hf_..."},
                },
            }
        ],
        "extra-links": [
            "airflow_provider_hub.links.HfRepoLink",
            "airflow_provider_hub.links.HfCommitLink",
            "airflow_provider_hub.links.HfDiscussionLink",
            "airflow_provider_hub.links.HfSpaceLink",
            "airflow_provider_hub.links.HfJobLink",
            "airflow_provider_hub.links.HfInferenceEndpointLink",
        ],
        "asset-uris": [
            {
                "schemes": ["hf"],
                "handler": "airflow_provider_hub.assets.sanitize_uri",
                "factory": "airflow_provider_hub.assets.create_asset",
                "to_openlineage_converter": "airflow_provider_hub.lineage.convert_asset_to_openlineage",
            }
        ],
        "filesystems": ["airflow_provider_hub.fs.hf"],
        "task-decorators": [
            {"name": "hf_job", "class-name": "airflow_provider_hub.decorators.hf_job.hf_job_task"}
        ],
        "config": {
            "huggingface_hub": {
                "description": "Defaults for the Hugging Face Hub provider.",
                "options": {
                    "default_poll_interval": {
                        "description": "Seconds between status reads of Jobs and Endpoints when an "
                        "operator or trigger does not set poll_interval (sensors wait poke_interval).",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "30",
                        "default": "30",
                    },
                    "webhook_receiver_url": {
                        "description": "Where triggerers read the Hub webhook deliveries that the api-servers "
                        "recorded: the api-server's /hf-webhooks. Empty means next to "
                        "[core] execution_api_server_url, else under [api] base_url.",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": "http://airflow-api-server:8080/hf-webhooks",
                        "default": "",
                    },
                },
            }
        },
    }
