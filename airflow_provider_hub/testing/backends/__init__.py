"""Per Hub area, its state and rules: what the HTTP routes and the Python seeding methods both call.

A backend owns its area's objects, checks the caller's rights, raises the Hub's errors
(:mod:`airflow_provider_hub.testing.errors`) and publishes repo changes; it knows nothing of HTTP.
"""

from airflow_provider_hub.testing.backends import (
    access,
    collections,
    endpoints,
    jobs,
    likes,
    providers,
    repos,
    spaces,
    webhooks,
)

__all__ = ["access", "collections", "endpoints", "jobs", "likes", "providers", "repos", "spaces", "webhooks"]
