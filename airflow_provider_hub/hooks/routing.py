"""Request routing on ``huggingface_hub``'s shared HTTP session, per connection.

``huggingface_hub`` builds every Inference Endpoints URL from the module
constant ``INFERENCE_ENDPOINTS_ENDPOINT``, shared by the whole process. Rather than patching it (which would
leak one connection's URL into every other connection's calls, in other threads and asyncio tasks), each
hook's ``HfApi`` tags its requests with a private header naming its connection's route, and a request event
hook installed on ``huggingface_hub``'s shared HTTP session strips the header and rewrites the URL. The tag
travels with the ``HfApi`` instance, so ``InferenceEndpoint`` objects returned through the hook (which the
hook rebinds to its ``HfApi``) route correctly for their own later calls (``.fetch()``, ``.wait()``, ...).

Example::

    route_header = {ROUTE_HEADER: route_key(Route(endpoints_url, router_url, timeout=30.0))}
    api = routed_api_class()(endpoint=hub_url, token=token, headers=route_header)
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from huggingface_hub import HfApi

ROUTE_HEADER = "x-airflow-provider-hub-route"


@dataclass(frozen=True)
class Route:
    """Where one connection's Inference Endpoints and router requests go, and their default timeout."""

    inference_endpoints_url: str
    router_url: str
    timeout: float


_ROUTES: dict[str, Route] = {}
_ROUTE_KEYS: dict[Route, str] = {}
_ROUTES_LOCK = threading.Lock()


def route_key(route: Route) -> str:
    """An opaque key for ``route``: one per distinct setting, so the table stays as small as the connections."""
    with _ROUTES_LOCK:
        key = _ROUTE_KEYS.get(route)
        if key is None:
            key = _ROUTE_KEYS[route] = str(len(_ROUTES) + 1)
            _ROUTES[key] = route
        return key


def _rebase(url: str, default_base: str, base: str) -> str | None:
    """``url`` moved from ``default_base`` to ``base``, or ``None`` when it is not under ``default_base``."""
    default_base = default_base.rstrip("/")
    if base == default_base or not (
        url == default_base or url.startswith((default_base + "/", default_base + "?"))
    ):
        return None
    return base + url[len(default_base) :]


def _route_request(request: Any) -> None:
    """Request event hook on ``huggingface_hub``'s session: apply the tagging hook's route, if any.

    Moves Inference Endpoints and router URLs to the connection's bases and gives requests that
    ``huggingface_hub`` leaves without a timeout the connection's timeout.
    """
    key = request.headers.pop(ROUTE_HEADER, None)
    route = _ROUTES.get(key) if key else None
    if route is None:
        return
    import httpx2
    from huggingface_hub import constants

    url = str(request.url)
    router_parts = urlsplit(constants.INFERENCE_PROXY_TEMPLATE)
    for default_base, base in (
        (constants.INFERENCE_ENDPOINTS_ENDPOINT, route.inference_endpoints_url),
        (f"{router_parts.scheme}://{router_parts.netloc}", route.router_url),
    ):
        moved = _rebase(url, default_base, base)
        if moved is not None:
            request.url = httpx2.URL(moved)
            request.headers["host"] = request.url.netloc.decode("ascii")
            break
    timeout = request.extensions.get("timeout")
    if not timeout or all(value is None for value in timeout.values()):
        request.extensions["timeout"] = httpx2.Timeout(route.timeout).as_dict()


def ensure_route_hook() -> None:
    """Install :func:`_route_request` on the current shared session (recreated after a fork or a reset)."""
    from huggingface_hub import get_session

    session = get_session()
    if _route_request in session.event_hooks["request"]:
        return
    with _ROUTES_LOCK:
        hooks = session.event_hooks
        if _route_request not in hooks["request"]:
            session.event_hooks = {
                "request": [_route_request, *hooks["request"]],
                "response": hooks["response"],
            }


@functools.cache
def routed_api_class() -> type[HfApi]:
    from huggingface_hub import HfApi

    class RoutedHfApi(HfApi):
        """``HfApi`` that makes sure the routing hook is on the session before building request headers."""

        def _build_hf_headers(self, *args: Any, **kwargs: Any) -> dict[str, str]:
            ensure_route_hook()
            return super()._build_hf_headers(*args, **kwargs)

    return RoutedHfApi
