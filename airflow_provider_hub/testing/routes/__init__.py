"""Per Hub area, its HTTP routes: each parses a request, calls the area's backend and renders the answer."""

from airflow_provider_hub.testing.routes import (
    access,
    collections,
    discussions,
    endpoints,
    jobs,
    likes,
    providers,
    repos,
    spaces,
    uploads,
    webhooks,
)

__all__ = [
    "access",
    "collections",
    "discussions",
    "endpoints",
    "jobs",
    "likes",
    "providers",
    "repos",
    "spaces",
    "uploads",
    "webhooks",
]
