"""The emulator's ASGI app: one FastAPI app serving the Hub, ``/v2`` (Inference Endpoints) and ``/v1`` (router).

Each area contributes a backend (attached to the :class:`~airflow_provider_hub.testing._core.HubState`)
and a router; every :class:`~airflow_provider_hub.testing.errors.HubError` is rendered here.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from airflow_provider_hub.testing import _control, backends, routes
from airflow_provider_hub.testing._core import HubState
from airflow_provider_hub.testing._faults import EmulatorMiddleware, FaultInjector
from airflow_provider_hub.testing.errors import (
    HubError,
    MethodNotAllowed,
    NotFound,
    NotImplementedByEmulator,
    RepoNotFound,
    UnprocessableEntity,
)
from airflow_provider_hub.testing.http import error_response, state_of

BACKENDS = (
    backends.repos,
    backends.likes,
    backends.collections,
    backends.access,
    backends.webhooks,
    backends.jobs,
    backends.endpoints,
    backends.providers,
    backends.spaces,
)
# The repos routers come first, as their paths are the Hub's most general ones.
ROUTERS = (
    routes.repos.router,
    routes.uploads.router,
    routes.discussions.router,
    routes.likes.router,
    routes.collections.router,
    routes.access.router,
    routes.webhooks.router,
    routes.jobs.router,
    routes.endpoints.router,
    routes.providers.router,
    routes.spaces.router,
)


def build_state(*, seed: int = 0, data_dir: str | None = None, jobs_mode: str = "simulate") -> HubState:
    """A fresh state with every area's backend attached (``hub.repos``, ``hub.jobs``, ...)."""
    hub = HubState(seed=seed, data_dir=data_dir, jobs_mode=jobs_mode)
    for backend in BACKENDS:
        backend.attach(hub)
    return hub


def create_app(hub: HubState, injector: FaultInjector, control: Any) -> Any:
    app = FastAPI(title="Hugging Face Hub emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hub = hub
    app.state.injector = injector
    app.state.control = control

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> JSONResponse:
        return error_response(exc, request)

    @app.exception_handler(HTTPException)
    async def _no_route(request: Request, exc: HTTPException) -> JSONResponse:
        # A path no route serves: answered as the Hub answers it, request id included. A repo id without a
        # namespace (`gpt2`) names no repo here (every repo has one), so its routes answer RepoNotFound, and
        # repo_exists("gpt2") is False.
        if exc.status_code == 405:
            return error_response(MethodNotAllowed(f"Method {request.method} not allowed"), request)
        if namespaceless_repo_path(app).match(request.url.path):
            return error_response(RepoNotFound(), request)
        return error_response(NotFound(f"Not found: {request.url.path}"), request)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return error_response(UnprocessableEntity(f"Invalid request: {problems}"), request)

    @app.exception_handler(ClientDisconnect)
    async def _client_went_away(_: Request, exc: ClientDisconnect) -> Response:
        # The client closed the connection before its request body arrived: as on the Hub, the request
        # did nothing (every route reads its body before it changes any state) and nobody reads an answer.
        # 499 is nginx's "client closed request"; no error is logged.
        return Response(status_code=499)

    @app.get("/api/agent-harnesses")
    async def agent_harnesses() -> dict[str, Any]:
        return {"standardEnvVars": [], "harnesses": {}}

    @app.get("/api/whoami-v2")
    async def whoami(request: Request) -> dict[str, Any]:
        hub = state_of(request)
        return hub.whoami(hub.require_principal(request))

    @app.api_route("/api/{rest:path}/xet-{kind}-token/{tail:path}", methods=["GET"])
    @app.api_route("/api/buckets/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def xet_not_supported(request: Request) -> JSONResponse:
        raise NotImplementedByEmulator(
            "The Hub emulator does not speak Xet. Set HF_HUB_DISABLE_XET=1 so huggingface_hub uses the LFS "
            "protocol (the pytest fixtures do), and pass uv scripts as a URL or inline source, not a local file.",
        )

    app.include_router(_control.router)
    for router in ROUTERS:
        app.include_router(router)
    return EmulatorMiddleware(app, injector)


def namespaceless_repo_path(app: FastAPI) -> re.Pattern[str]:
    """Paths of the repo routes with a one-segment repo id: ``/api/models/gpt2[/revision/...]``,
    ``/gpt2/resolve/...``. The verbs are read from the app's own repo routes."""
    cached: re.Pattern[str] | None = getattr(app.state, "namespaceless_repo_path", None)
    if cached is not None:
        return cached
    api_verbs, web_verbs = set(), set()
    for route in app.routes:
        path = getattr(route, "path", "")
        if match := re.match(r"^/api/models/\{namespace\}/\{name\}/([^/{]+)", path):
            api_verbs.add(re.escape(match[1]))
        elif match := re.match(r"^/\{namespace\}/\{name\}/([^/{]+)", path):
            web_verbs.add(re.escape(match[1]))
    pattern = re.compile(
        rf"^/api/(?:models|datasets|spaces|kernels)/[^/]+(?:/(?:{'|'.join(sorted(api_verbs))})(?:/.*)?)?$"
        rf"|^/(?:datasets/|spaces/|kernels/)?[^/]+/(?:{'|'.join(sorted(web_verbs))})/.*$"
    )
    app.state.namespaceless_repo_path = pattern
    return pattern
