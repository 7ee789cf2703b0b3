"""HTTP helpers shared by every area's routes: request parsing, pagination and rendering.

Routes stay thin with these: they parse a request (:func:`json_body`, :func:`is_true`, :func:`expand`,
:func:`segment`), call their backend and render its answer (:func:`paginated`, :func:`sse`);
:func:`error_response` renders every :class:`~airflow_provider_hub.testing.errors.HubError`.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers

from airflow_provider_hub.testing.errors import BadRequest, HubError, shown

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState

#: The repo type of each plural in ``/api/{models|datasets|spaces|kernels}/...`` and of each web prefix
#: ``/{datasets|spaces|kernels}/...`` (models have none).
PLURALS = {"models": "model", "datasets": "dataset", "spaces": "space", "kernels": "kernel"}
WEB_PREFIXES = tuple(plural for plural in PLURALS if plural != "models")


def state_of(request: Request) -> HubState:
    return request.app.state.hub  # type: ignore[no-any-return]


def base_url(request: Request) -> str:
    """The emulator's URL as the caller reached it (absolute links are built from it)."""
    return str(request.base_url).rstrip("/")


def repo_route(router: APIRouter, path: str, methods: list[str], *, kernels: bool = True) -> Any:
    """Register a handler under ``/api/{models|datasets|spaces|kernels}/{namespace}/{name}{path}``.

    One route per repo type (not a ``{plural}`` parameter), so other areas' ``/api/jobs/...`` and
    ``/api/settings/...`` routes are never shadowed. ``kernels=False`` leaves out kernels, for the areas
    ``huggingface_hub`` refuses to call for a kernel repo (discussions, settings, access requests, ...).
    """

    def register(handler: Any) -> Any:
        for plural in PLURALS:
            if plural == "kernels" and not kernels:
                continue
            router.add_api_route(f"/api/{plural}/{{namespace}}/{{name}}{path}", handler, methods=methods)
        return handler

    return register


def web_route(router: APIRouter, path: str, methods: list[str]) -> Any:
    """Register a handler under ``/{namespace}/{name}{path}`` and the ``datasets/``, ``spaces/`` and
    ``kernels/`` prefixes."""

    def register(handler: Any) -> Any:
        for prefix in ("", *(f"/{plural}" for plural in WEB_PREFIXES)):
            router.add_api_route(f"{prefix}/{{namespace}}/{{name}}{path}", handler, methods=methods)
        return handler

    return register


def api_repo_type(request: Request) -> str:
    """Repo type of an API path (``/api/{models|datasets|spaces|kernels}/...``)."""
    return PLURALS[request.scope["path"].split("/")[2]]


def web_repo_type(request: Request) -> str:
    """Repo type of a web path (``/{ns}/{name}/...``, ``/datasets/{ns}/{name}/...``, ``/kernels/...``)."""
    segments = request.scope["path"].split("/")
    if segments[1] in WEB_PREFIXES and len(segments) > 4 and segments[4] in ("resolve", "info"):
        return PLURALS[segments[1]]
    if segments[1] in WEB_PREFIXES and len(segments) > 3 and segments[3].endswith(".git"):
        return PLURALS[segments[1]]
    return "model"


def segment(value: str) -> str:
    """Decode one path segment (revisions arrive as ONE segment: ``refs%2Fpr%2F1``)."""
    return unquote(value)


def is_true(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def expand(request: Request) -> list[str]:
    """The ``expand`` query parameter, repeated as ``expand`` or ``expand[]``."""
    return request.query_params.getlist("expand") + request.query_params.getlist("expand[]")


async def json_body(
    request: Request, *, required: bool = False, not_object: str = "The body must be a JSON object"
) -> dict[str, Any]:
    """The request's JSON object; ``{}`` for an empty body unless ``required``; 400 otherwise."""
    raw = await request.body()
    if not raw.strip() and not required:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"Invalid JSON body: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest(not_object)
    return body


def next_link(request: Request, params: list[tuple[str, str]]) -> str:
    """The absolute ``Link: <...>; rel="next"`` to this path with ``params`` (the client follows it verbatim)."""
    raw_path = (request.scope.get("raw_path") or request.scope["path"].encode()).decode("latin-1")
    return f'<{base_url(request)}{raw_path.split("?", 1)[0]}?{urlencode(params)}>; rel="next"'


def with_param(request: Request, key: str, value: int) -> list[tuple[str, str]]:
    """The request's query parameters with ``key`` set to ``value``."""
    return [(k, v) for k, v in request.query_params.multi_items() if k != key] + [(key, str(value))]


def offset(request: Request, key: str = "cursor") -> int:
    try:
        return max(int(request.query_params.get(key, "0")), 0)
    except ValueError as exc:
        raise BadRequest(f"Invalid {key}") from exc


def paginated(
    request: Request,
    items: list[Any],
    page_size: int,
    *,
    key: str = "cursor",
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """One page of ``items`` from the offset in query parameter ``key``, with a ``Link`` to the next page."""
    start = offset(request, key)
    return page_response(
        request, items[start : start + page_size], start, len(items), page_size, key=key, headers=headers
    )


def page_response(
    request: Request,
    page: list[Any],
    start: int,
    total: int,
    page_size: int,
    *,
    key: str = "cursor",
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``page``, the items of a listing of ``total`` from offset ``start`` (query parameter ``key``), with a
    ``Link`` to the next page: for a backend that renders only the page asked for."""
    links = {"Link": next_link(request, with_param(request, key, start + page_size))}
    return JSONResponse(page, headers={**(links if start + page_size < total else {}), **(headers or {})})


def sse(payload: dict[str, Any]) -> bytes:
    """One Server-Sent Event carrying ``payload`` as JSON."""
    return f"data: {json.dumps(payload)}\n\n".encode()


def request_id(headers: Headers) -> str:
    """The id the client sent (``X-Request-Id``, else ``X-Amzn-Trace-Id``), or a new one.

    The client sends ``X-Amzn-Trace-Id`` on every call and quotes the answer's ``X-Request-Id`` in its
    error messages, so echoing it ties an emulator error to the call that got it.
    """
    return shown(headers.get("x-request-id") or headers.get("x-amzn-trace-id") or uuid.uuid4().hex)


def error_response(error: HubError, request: Request) -> JSONResponse:
    headers = {
        "X-Error-Message": shown(error.message.replace("\n", " ")),
        "X-Request-Id": request_id(request.headers),
        **error.headers,
    }
    if error.code:
        headers["X-Error-Code"] = error.code
    return JSONResponse(
        {"error": error.message, **(error.body or {})}, status_code=error.status, headers=headers
    )
