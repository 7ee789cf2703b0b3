"""Routes of the Spaces area: a Space's runtime, restart, pause, hardware, sleep time, dev mode, volumes,
secrets and variables, under ``/api/spaces/{namespace}/{name}/...`` as ``HfApi`` calls them.

Each route parses its request, calls :class:`~airflow_provider_hub.testing.backends.spaces.SpaceBackend`
(``hub.spaces``) and renders the answer. The Space's info (``space_info``, ``list_spaces``, with their
``runtime``) is served by the repos area, which asks the same backend for the runtime.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from airflow_provider_hub.testing.errors import MethodNotAllowed, RepoNotFound
from airflow_provider_hub.testing.http import is_true, json_body, state_of

router = APIRouter()

PREFIX = "/api/spaces/{namespace}/{name}"
#: The verbs of the routes below that change a Space (for the one-segment ids, see the last route).
CHANGING_VERBS = frozenset(
    {"restart", "pause", "hardware", "sleeptime", "dev-mode", "volumes", "secrets", "variables"}
)


@router.get(f"{PREFIX}/runtime")
async def runtime(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    return hub.spaces.runtime(hub.principal(request), f"{namespace}/{name}")


@router.post(f"{PREFIX}/restart")
async def restart(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    factory = is_true(request.query_params.get("factory"))
    return hub.spaces.restart(hub.principal(request), f"{namespace}/{name}", factory=factory)


@router.post(f"{PREFIX}/pause")
async def pause(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    return hub.spaces.pause(hub.principal(request), f"{namespace}/{name}")


@router.post(f"{PREFIX}/hardware")
async def request_hardware(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    body = await json_body(request)
    return hub.spaces.request_hardware(
        hub.principal(request), f"{namespace}/{name}", body.get("flavor"), body.get("sleepTimeSeconds")
    )


@router.post(f"{PREFIX}/sleeptime")
async def set_sleep_time(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    body = await json_body(request)
    return hub.spaces.set_sleep_time(hub.principal(request), f"{namespace}/{name}", body.get("seconds"))


@router.post(f"{PREFIX}/dev-mode")
async def set_dev_mode(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    body = await json_body(request)
    return hub.spaces.set_dev_mode(hub.principal(request), f"{namespace}/{name}", body.get("enabled"))


@router.put(f"{PREFIX}/volumes")
async def set_volumes(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    body = await json_body(request)
    hub.spaces.set_volumes(hub.principal(request), f"{namespace}/{name}", body.get("volumes"))
    return {}


@router.delete(f"{PREFIX}/volumes")
async def delete_volumes(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    hub.spaces.delete_volumes(hub.principal(request), f"{namespace}/{name}")
    return {}


# -- secrets and variables: {KEY: {...}} objects; DELETE carries a JSON body {"key": ...} -------------
@router.get(f"{PREFIX}/secrets")
async def secrets(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    return hub.spaces.secrets(hub.principal(request), f"{namespace}/{name}")


@router.post(f"{PREFIX}/secrets")
async def add_secret(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    body = await json_body(request)
    return hub.spaces.add_secret(
        hub.principal(request),
        f"{namespace}/{name}",
        body.get("key"),
        body.get("value"),
        body.get("description"),
    )


@router.delete(f"{PREFIX}/secrets")
async def delete_secret(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    body = await json_body(request)
    return hub.spaces.delete_secret(hub.principal(request), f"{namespace}/{name}", body.get("key"))


@router.get(f"{PREFIX}/variables")
async def variables(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    return hub.spaces.variables(hub.principal(request), f"{namespace}/{name}")


@router.post(f"{PREFIX}/variables")
async def add_variable(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    body = await json_body(request)
    return hub.spaces.add_variable(
        hub.principal(request),
        f"{namespace}/{name}",
        body.get("key"),
        body.get("value"),
        body.get("description"),
    )


@router.delete(f"{PREFIX}/variables")
async def delete_variable(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    body = await json_body(request)
    return hub.spaces.delete_variable(hub.principal(request), f"{namespace}/{name}", body.get("key"))


@router.api_route("/api/spaces/{name}/{verb}", methods=["POST", "PUT", "DELETE"])
async def namespaceless(request: Request, verb: str) -> None:
    """A one-segment id (``restart_space("gpt2")``) names no Space (every repo has a namespace). Its GETs
    reach the Space info route (``/api/spaces/{namespace}/{name}``), which answers ``RepoNotFound``; its
    changes would be a 405 there, as any other method on that path still is."""
    if verb in CHANGING_VERBS:
        raise RepoNotFound()
    raise MethodNotAllowed(f"Method {request.method} not allowed")
