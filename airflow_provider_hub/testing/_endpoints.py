"""Emulator area: the Inference Endpoints API (``/v2``), as ``huggingface_hub``'s ``HfApi`` calls it.

An Endpoint's status is derived from the time elapsed since its last lifecycle start (create, update,
resume) and the plan for its name (:meth:`EndpointStore.set_plan`), so tests control timings without
background threads. A running Endpoint advertises ``status.url`` = ``{base}/_endpoints/{ns}/{name}``,
whose health route answers 200 only while it is running.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from airflow_provider_hub.testing._core import HubError, HubState, Principal, state_of

router = APIRouter()

#: Plan used when none was set for an Endpoint's name.
DEFAULT_PLAN: tuple[tuple[str, float | None], ...] = (
    ("pending", 0.2),
    ("initializing", 0.3),
    ("running", None),
)
#: Plan of an update when none was set: a short ``updating`` phase, then running again.
DEFAULT_UPDATE_PLAN: tuple[tuple[str, float | None], ...] = (("updating", 0.2), ("running", None))
#: The statuses the emulated service reports. Deliberately not imported from the client side
#: (``hooks._endpoints``): the emulator stands in for the Hub and must not inherit the client's assumptions.
STATUSES = (
    "pending",
    "initializing",
    "updating",
    "updateFailed",
    "running",
    "paused",
    "failed",
    "scaledToZero",
)
FAILURE_MESSAGE = "Endpoint failed to start: the model server exited with code 1 (emulated failure)"
HEALTH_ROUTE = "/health"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _deep_merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


@dataclass
class Endpoint:
    namespace: str
    name: str
    config: dict[str, Any]  # type, provider, compute, model, ... as sent by the client
    created_by: str
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    plan: tuple[tuple[str, float | None], ...] = DEFAULT_PLAN
    started: float = field(default_factory=time.monotonic)
    held_status: str | None = None  # paused / scaledToZero: not derived from the plan

    def status(self) -> str:
        if self.held_status is not None:
            return self.held_status
        elapsed = time.monotonic() - self.started
        for state, duration in self.plan:
            if duration is None or elapsed < duration:
                return state
            elapsed -= duration
        return self.plan[-1][0]

    def start(self, plan: tuple[tuple[str, float | None], ...]) -> None:
        self.plan = plan
        self.started = time.monotonic()
        self.held_status = None
        self.updated_at = time.time()

    def hold(self, status: str) -> None:
        """Keep the Endpoint in ``status`` until its next lifecycle start, whatever its plan says."""
        self.held_status = status
        self.updated_at = time.time()


class EndpointStore:
    """Every Endpoint of the emulator, keyed by ``(namespace, name)``, and the per-name plans."""

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        self.endpoints: dict[tuple[str, str], Endpoint] = {}
        self.plans: dict[str, tuple[tuple[str, float | None], ...]] = {}

    def set_plan(self, name: str, transitions: list[tuple[str, float | None]]) -> None:
        """The status sequence of Endpoint ``name`` from its next create/update/resume on.

        Every step but the last needs a duration in seconds; the last one (``None``) is final.
        """
        plan = tuple((str(state), None if after is None else float(after)) for state, after in transitions)
        if not plan:
            raise ValueError("transitions must not be empty")
        unknown = [state for state, _ in plan if state not in STATUSES]
        if unknown:
            raise ValueError(f"unknown Endpoint status {unknown[0]!r}; expected one of {', '.join(STATUSES)}")
        if any(after is None for _, after in plan[:-1]):
            raise ValueError(f"only the last transition may have no duration; got {transitions!r}")
        with self.hub.lock:
            self.plans[name] = plan

    def _plan(
        self, name: str, default: tuple[tuple[str, float | None], ...]
    ) -> tuple[tuple[str, float | None], ...]:
        return self.plans.get(name, default)

    def get(self, namespace: str, name: str) -> Endpoint:
        endpoint = self.endpoints.get((namespace, name))
        if endpoint is None:
            raise HubError(404, f"Inference Endpoint {name!r} not found in namespace {namespace!r}")
        return endpoint

    def to_json(self, endpoint: Endpoint) -> dict[str, Any]:
        state = endpoint.status()
        config = endpoint.config
        model = {
            "revision": None,
            "task": None,
            "framework": "pytorch",
            **copy.deepcopy(config.get("model", {})),
        }
        if model.get("secrets"):
            # Like the Hub, never send secret values back.
            model["secrets"] = {key: "******" for key in model["secrets"]}
        running = state == "running"
        scaling = config.get("compute", {}).get("scaling", {})
        replicas = max(1, int(scaling.get("minReplica") or 1)) if running else 0
        return {
            "name": endpoint.name,
            "type": config.get("type", "protected"),
            "accountId": None,
            "provider": copy.deepcopy(config.get("provider", {})),
            "compute": copy.deepcopy(config.get("compute", {})),
            "model": model,
            "healthRoute": HEALTH_ROUTE,
            "tags": list(config.get("tags") or []),
            "status": {
                "state": state,
                "message": FAILURE_MESSAGE if state in ("failed", "updateFailed") else f"Endpoint is {state}",
                "url": f"{self.hub.base_url}/_endpoints/{endpoint.namespace}/{endpoint.name}"
                if running
                else None,
                "private": None,
                "createdAt": _iso(endpoint.created_at),
                "createdBy": {"id": f"u-{endpoint.created_by}", "name": endpoint.created_by},
                "updatedAt": _iso(endpoint.updated_at),
                "updatedBy": {"id": f"u-{endpoint.created_by}", "name": endpoint.created_by},
                "readyReplica": replicas,
                "targetReplica": replicas,
            },
        }


def attach(hub: HubState) -> None:
    """Create this area's store on ``hub``."""
    hub.endpoints = EndpointStore(hub)


def _caller(request: Request, namespace: str, *, write: bool) -> tuple[HubState, EndpointStore, Principal]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    allowed = (
        hub.can_write_namespace(principal, namespace)
        if write
        else hub.can_read_namespace(principal, namespace)
    )
    if not allowed:
        raise HubError(403, f"You don't have access to Inference Endpoints in namespace {namespace!r}")
    return hub, hub.endpoints, principal


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise HubError(400, "Request body must be JSON") from exc
    if not isinstance(body, dict):
        raise HubError(400, "Request body must be a JSON object")
    return body


@router.get("/v2/endpoint/{namespace}")
async def list_endpoints(request: Request, namespace: str) -> dict[str, Any]:
    hub, store, _ = _caller(request, namespace, write=False)
    with hub.lock:
        items = [store.to_json(ep) for (ns, _), ep in sorted(store.endpoints.items()) if ns == namespace]
    return {"items": items}


@router.post("/v2/endpoint/{namespace}")
async def create_endpoint(request: Request, namespace: str) -> dict[str, Any]:
    hub, store, principal = _caller(request, namespace, write=True)
    body = await _json_body(request)
    name = body.get("name")
    repository = (body.get("model") or {}).get("repository")
    if not isinstance(name, str) or not name:
        raise HubError(400, "Field 'name' is required")
    if not isinstance(repository, str) or not repository:
        raise HubError(400, "Field 'model.repository' is required")
    with hub.lock:
        if (namespace, name) in store.endpoints:
            raise HubError(409, f"Inference Endpoint {name!r} already exists in namespace {namespace!r}")
        endpoint = Endpoint(namespace=namespace, name=name, config=body, created_by=principal.user)
        endpoint.start(store._plan(name, DEFAULT_PLAN))
        store.endpoints[(namespace, name)] = endpoint
        return store.to_json(endpoint)


@router.get("/v2/endpoint/{namespace}/{name}")
async def get_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store, _ = _caller(request, namespace, write=False)
    with hub.lock:
        return store.to_json(store.get(namespace, name))


@router.put("/v2/endpoint/{namespace}/{name}")
async def update_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store, _ = _caller(request, namespace, write=True)
    body = await _json_body(request)
    with hub.lock:
        endpoint = store.get(namespace, name)
        body.pop("name", None)  # renaming is not supported by the emulator
        _deep_merge(endpoint.config, body)
        endpoint.start(store._plan(name, DEFAULT_UPDATE_PLAN))
        return store.to_json(endpoint)


@router.delete("/v2/endpoint/{namespace}/{name}")
async def delete_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store, _ = _caller(request, namespace, write=True)
    with hub.lock:
        store.get(namespace, name)
        del store.endpoints[(namespace, name)]
    return {}


@router.post("/v2/endpoint/{namespace}/{name}/pause")
async def pause_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store, _ = _caller(request, namespace, write=True)
    with hub.lock:
        endpoint = store.get(namespace, name)
        endpoint.hold("paused")
        return store.to_json(endpoint)


@router.post("/v2/endpoint/{namespace}/{name}/scale-to-zero")
async def scale_to_zero_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store, _ = _caller(request, namespace, write=True)
    with hub.lock:
        endpoint = store.get(namespace, name)
        if endpoint.status() == "paused":
            raise HubError(400, "Cannot scale a paused Inference Endpoint to zero: resume it first")
        endpoint.hold("scaledToZero")
        return store.to_json(endpoint)


@router.post("/v2/endpoint/{namespace}/{name}/resume")
async def resume_endpoint(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store, _ = _caller(request, namespace, write=True)
    with hub.lock:
        endpoint = store.get(namespace, name)
        if endpoint.status() == "running":
            # huggingface_hub's resume(running_ok=True) recognises this text and falls back to a GET.
            raise HubError(400, f"Inference Endpoint {name!r} is already running")
        endpoint.start(store._plan(name, DEFAULT_PLAN))
        return store.to_json(endpoint)


@router.get("/v2/provider/{namespace}")
async def list_hardware(request: Request, namespace: str) -> dict[str, Any]:
    _caller(request, namespace, write=False)
    compute = {
        "id": "aws-us-east-1-cpu-intel-icl-x2",
        "accelerator": "cpu",
        "instanceType": "intel-icl",
        "instanceSize": "x2",
        "architecture": "x86_64",
        "numAccelerators": 1,
        "numCpus": 2,
        "memoryGb": 4,
        "pricePerHour": 0.067,
        "status": "available",
        "quota": {"maxAccelerators": 4, "usedAccelerators": 0},
    }
    return {"vendors": [{"name": "aws", "regions": [{"name": "us-east-1", "computes": [compute]}]}]}


@router.get("/_endpoints/{namespace}/{name}/health")
async def endpoint_health(request: Request, namespace: str, name: str) -> JSONResponse:
    hub = state_of(request)
    with hub.lock:
        endpoint = hub.endpoints.endpoints.get((namespace, name))
        state = endpoint.status() if endpoint is not None else None
    if state != "running":
        return JSONResponse({"error": f"Endpoint is {state or 'missing'}"}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.post("/_endpoints/{namespace}/{name}")
async def endpoint_inference(request: Request, namespace: str, name: str) -> JSONResponse:
    """A stand-in for the model server: echoes the request's ``inputs`` while the Endpoint runs."""
    hub = state_of(request)
    with hub.lock:
        endpoint = hub.endpoints.endpoints.get((namespace, name))
        state = endpoint.status() if endpoint is not None else None
    if state != "running":
        return JSONResponse({"error": f"Endpoint is {state or 'missing'}"}, status_code=503)
    body = await request.body()
    return JSONResponse({"endpoint": f"{namespace}/{name}", "echo": body.decode("utf-8", "replace")})
