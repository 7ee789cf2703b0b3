"""The Inference Endpoints area's backend (``/v2``): Endpoints, their plans and their derived status.

An Endpoint's status is derived from the time elapsed since its last lifecycle start (create, update,
resume) and the plan for its name (:meth:`EndpointBackend.set_plan`; :mod:`.plans`), so tests control
timings without background threads. A running Endpoint advertises ``status.url`` = ``{base}/_endpoints/{ns}/{name}``,
whose health route answers 200 only while it is running.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.testing._core import Principal
from airflow_provider_hub.testing.backends.plans import Plan, parse_plan, stage_at
from airflow_provider_hub.testing.errors import BadRequest, Conflict, Forbidden, NotFound

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState

#: Plan used when none was set for an Endpoint's name.
DEFAULT_PLAN: Plan = (
    ("pending", 0.2),
    ("initializing", 0.3),
    ("running", None),
)
#: Plan of an update when none was set: a short ``updating`` phase, then running again.
DEFAULT_UPDATE_PLAN: Plan = (("updating", 0.2), ("running", None))
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
#: The one instance type the emulator offers (``GET /v2/provider/{namespace}``).
COMPUTE = {
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
VENDORS = [{"name": "aws", "regions": [{"name": "us-east-1", "computes": [COMPUTE]}]}]


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
    plan: Plan = DEFAULT_PLAN
    started: float = field(default_factory=time.monotonic)
    held_status: str | None = None  # paused / scaledToZero: not derived from the plan

    def status(self) -> str:
        if self.held_status is not None:
            return self.held_status
        return stage_at(self.plan, time.monotonic() - self.started)

    def start(self, plan: Plan) -> None:
        self.plan = plan
        self.started = time.monotonic()
        self.held_status = None
        self.updated_at = time.time()

    def hold(self, status: str) -> None:
        """Keep the Endpoint in ``status`` until its next lifecycle start, whatever its plan says."""
        self.held_status = status
        self.updated_at = time.time()


class EndpointBackend:
    """Every Endpoint of the emulator, keyed by ``(namespace, name)``, and the per-name plans."""

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        self.endpoints: dict[tuple[str, str], Endpoint] = {}
        self.plans: dict[str, Plan] = {}

    def set_plan(self, name: str, transitions: list[tuple[str, float | None]]) -> None:
        """The status sequence of Endpoint ``name`` from its next create/update/resume on.

        Every step but the last needs a duration in seconds; the last one (``None``) is final.
        """
        plan = parse_plan(transitions, known=STATUSES, what="Endpoint status")
        with self.hub.lock:
            self.plans[name] = plan

    def _plan(self, name: str, default: Plan) -> Plan:
        return self.plans.get(name, default)

    def authorize(self, principal: Principal, namespace: str, *, write: bool) -> None:
        allowed = (
            self.hub.can_write_namespace(principal, namespace)
            if write
            else self.hub.can_read_namespace(principal, namespace)
        )
        if not allowed:
            raise Forbidden(f"You don't have access to Inference Endpoints in namespace {namespace!r}")

    def get(self, namespace: str, name: str) -> Endpoint:
        endpoint = self.endpoints.get((namespace, name))
        if endpoint is None:
            raise NotFound(f"Inference Endpoint {name!r} not found in namespace {namespace!r}")
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

    # -- operations behind the routes ----------------------------------------------------------------
    def list_json(self, namespace: str) -> list[dict[str, Any]]:
        with self.hub.lock:
            return [self.to_json(ep) for (ns, _), ep in sorted(self.endpoints.items()) if ns == namespace]

    def get_json(self, namespace: str, name: str) -> dict[str, Any]:
        with self.hub.lock:
            return self.to_json(self.get(namespace, name))

    def create(self, principal: Principal, namespace: str, config: dict[str, Any]) -> dict[str, Any]:
        name = config.get("name")
        repository = (config.get("model") or {}).get("repository")
        if not isinstance(name, str) or not name:
            raise BadRequest("Field 'name' is required")
        if not isinstance(repository, str) or not repository:
            raise BadRequest("Field 'model.repository' is required")
        with self.hub.lock:
            if (namespace, name) in self.endpoints:
                raise Conflict(f"Inference Endpoint {name!r} already exists in namespace {namespace!r}")
            endpoint = Endpoint(namespace=namespace, name=name, config=config, created_by=principal.user)
            endpoint.start(self._plan(name, DEFAULT_PLAN))
            self.endpoints[(namespace, name)] = endpoint
            return self.to_json(endpoint)

    def update(self, namespace: str, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.hub.lock:
            endpoint = self.get(namespace, name)
            changes.pop("name", None)  # renaming is not supported by the emulator
            _deep_merge(endpoint.config, changes)
            endpoint.start(self._plan(name, DEFAULT_UPDATE_PLAN))
            return self.to_json(endpoint)

    def delete(self, namespace: str, name: str) -> None:
        with self.hub.lock:
            self.get(namespace, name)
            del self.endpoints[(namespace, name)]

    def pause(self, namespace: str, name: str) -> dict[str, Any]:
        with self.hub.lock:
            endpoint = self.get(namespace, name)
            endpoint.hold("paused")
            return self.to_json(endpoint)

    def scale_to_zero(self, namespace: str, name: str) -> dict[str, Any]:
        with self.hub.lock:
            endpoint = self.get(namespace, name)
            if endpoint.status() == "paused":
                raise BadRequest("Cannot scale a paused Inference Endpoint to zero: resume it first")
            endpoint.hold("scaledToZero")
            return self.to_json(endpoint)

    def resume(self, namespace: str, name: str) -> dict[str, Any]:
        with self.hub.lock:
            endpoint = self.get(namespace, name)
            if endpoint.status() == "running":
                # huggingface_hub's resume(running_ok=True) recognises this text and falls back to a GET.
                raise BadRequest(f"Inference Endpoint {name!r} is already running")
            endpoint.start(self._plan(name, DEFAULT_PLAN))
            return self.to_json(endpoint)

    def serving_status(self, namespace: str, name: str) -> str | None:
        """What the Endpoint's model server would see: its status, ``None`` when there is no such Endpoint."""
        with self.hub.lock:
            endpoint = self.endpoints.get((namespace, name))
            return endpoint.status() if endpoint is not None else None


def attach(hub: HubState) -> None:
    """Create this area's backend on ``hub`` (``hub.endpoints``)."""
    hub.endpoints = EndpointBackend(hub)
