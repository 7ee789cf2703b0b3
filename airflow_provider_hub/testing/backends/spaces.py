"""The Spaces area's backend: each Space's runtime (stage, hardware, sleep time, dev mode, volumes), its
secrets and variables, and the runtime plans that stand in for building and running an app.

A Space's stage is derived from a plan (:mod:`.plans`) and the time the plan started, like an
Endpoint's status. A plan starts when the Space is created, restarted (``factory_reboot`` or not), gets
a hardware request, or gets a commit on ``main`` (a merged PR and a squash are commits too); a plan set
with :meth:`SpaceBackend.set_plan` is used from the next of those on, and replayed by each one after
it. Without a seeded plan:

- a start (create, restart, hardware change) plays :data:`DEFAULT_PLAN`: ``BUILDING`` (0.3 s),
  ``APP_STARTING`` (0.2 s), ``RUNNING``;
- a commit to a running Space plays :data:`DEFAULT_REBUILD_PLAN`: the app keeps running while the new
  version builds (``RUNNING_BUILDING`` 0.3 s, ``RUNNING_APP_STARTING`` 0.2 s, then ``RUNNING``);
- a static Space is always ``RUNNING``, on no hardware.

A paused Space stays ``PAUSED`` (commits and hardware requests included) until it is restarted. The
running hardware (``hardware.current``) becomes the requested one once the plan reaches ``RUNNING``;
until then it is the hardware the Space ran on before (``None`` for a Space that never ran, and while
paused). The error stages carry ``errorMessage``: the plan's ``error_message``, else a default one.

The runtime, secrets and variables live in memory (not in ``data_dir``); a Space the emulator has no
runtime for yet (seeded with ``add_repo``, or kept in a ``data_dir``) gets one as if its default plan had
started when the repo was created.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.testing._core import Principal, RepoChange
from airflow_provider_hub.testing.backends.plans import Plan, parse_plan, reached, stage_at
from airflow_provider_hub.testing.backends.repo_model import iso
from airflow_provider_hub.testing.errors import BadRequest, Forbidden, Unauthorized, shown

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState
    from airflow_provider_hub.testing.backends.repo_model import Repo

#: The Hub's Space stages (``SpaceInfo.ts`` as ``huggingface_hub`` copies it).
STAGES = (
    "NO_APP_FILE",
    "CONFIG_ERROR",
    "BUILDING",
    "BUILD_ERROR",
    "RUNNING",
    "RUNNING_BUILDING",
    "RUNTIME_ERROR",
    "DELETING",
    "STOPPED",
    "PAUSED",
    "APP_STARTING",
    "RUNNING_APP_STARTING",
)
#: The stages in which the app answers (one replica up).
SERVING_STAGES = ("RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING")
#: The message each error stage carries when the plan gives none.
ERROR_MESSAGES = {
    "BUILD_ERROR": "Build failed with exit code: 1 (emulated build error)",
    "RUNTIME_ERROR": "Exit code: 1. Reason: the application exited (emulated runtime error)",
    "CONFIG_ERROR": "Invalid Space configuration in README.md (emulated configuration error)",
    "NO_APP_FILE": "No application file found in the Space's repository (emulated)",
}
#: The hardware flavors a Space may request (``SpaceHardwareFlavor.ts`` as ``huggingface_hub`` copies it).
HARDWARE = (
    "cpu-basic",
    "cpu-upgrade",
    "zero-a10g",
    "t4-small",
    "t4-medium",
    "l4x1",
    "l4x4",
    "l40sx1",
    "l40sx4",
    "l40sx8",
    "a10g-small",
    "a10g-large",
    "a10g-largex2",
    "a10g-largex4",
    "a100-large",
    "a100x4",
    "a100x8",
    "rtx-pro-6000",
    "rtx-pro-6000x2",
    "rtx-pro-6000x4",
    "rtx-pro-6000x8",
)
#: The free hardware every new Space gets, and its fixed sleep time (48 h, not configurable).
FREE_HARDWARE = "cpu-basic"
FREE_SLEEP_TIME = 48 * 3600
VOLUME_TYPES = ("bucket", "model", "dataset", "space")

DEFAULT_PLAN: Plan = (("BUILDING", 0.3), ("APP_STARTING", 0.2), ("RUNNING", None))
DEFAULT_REBUILD_PLAN: Plan = (("RUNNING_BUILDING", 0.3), ("RUNNING_APP_STARTING", 0.2), ("RUNNING", None))
STATIC_PLAN: Plan = (("RUNNING", None),)


@dataclass(frozen=True)
class SpacePlan:
    steps: Plan
    error_message: str | None = None


@dataclass
class Setting:
    """A secret or a variable: its value (never shown for a secret), description and last update."""

    value: str
    description: str | None
    updated_at: float = field(default_factory=time.time)


@dataclass
class Space:
    """One Space's runtime state. ``started`` is monotonic; ``ran_on`` is the hardware the Space ran on
    before its current plan started."""

    plan: SpacePlan
    started: float
    requested_hardware: str | None
    ran_on: str | None = None
    paused: bool = False
    sleep_time: int | None = None
    dev_mode: bool = False
    volumes: list[dict[str, Any]] | None = None
    secrets: dict[str, Setting] = field(default_factory=dict)
    variables: dict[str, Setting] = field(default_factory=dict)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def stage(self) -> str:
        return "PAUSED" if self.paused else stage_at(self.plan.steps, self.elapsed())

    def hardware(self) -> str | None:
        """The hardware the Space runs on now."""
        if self.paused:
            return None
        if reached(self.plan.steps, self.elapsed(), "RUNNING"):
            return self.requested_hardware
        return self.ran_on

    def start(self, plan: SpacePlan, *, hardware: str | None = None) -> None:
        """Play ``plan`` from now (on ``hardware`` when given), from whatever stage the Space is in."""
        self.ran_on = self.hardware()
        if hardware is not None:
            self.requested_hardware = hardware
        self.plan = plan
        self.started = time.monotonic()
        self.paused = False


@dataclass(frozen=True)
class NewSpaceSettings:
    """What ``create_repo`` may send for a Space besides its SDK (checked before the repo is created)."""

    hardware: str | None = None
    sleep_time: int | None = None
    secrets: tuple[tuple[str, str, str | None], ...] = ()
    variables: tuple[tuple[str, str, str | None], ...] = ()
    volumes: list[dict[str, Any]] | None = None


class SpaceBackend:
    """The runtime of every Space, keyed by lowercased repo id (ids match in any case), and the plans."""

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        self.spaces: dict[str, Space] = {}
        self.plans: dict[str, SpacePlan] = {}
        hub.subscribe(self._on_change)

    # -- seeding ------------------------------------------------------------------------------------
    def set_plan(
        self,
        repo_id: str,
        transitions: Iterable[Sequence[Any]],
        *,
        error_message: str | None = None,
    ) -> None:
        """The stage sequence of Space ``repo_id`` from its next create, restart, hardware request or
        commit on ``main``; ``error_message`` is the ``errorMessage`` of its error stages."""
        steps = parse_plan(transitions, known=STAGES, what="Space stage")
        if error_message is not None and not isinstance(error_message, str):
            raise ValueError(f"error_message must be a string, got {error_message!r}")
        with self.hub.lock:
            repo = self.hub.repos.get("space", repo_id)
            if repo is not None:
                # A Space with no runtime yet gets it now: the new plan waits for its next start.
                self._space(repo)
            self.plans[repo_id.lower()] = SpacePlan(steps, error_message)

    # -- state --------------------------------------------------------------------------------------
    def _is_static(self, repo: Repo) -> bool:
        return self._sdk(repo) == "static"

    def _sdk(self, repo: Repo) -> str | None:
        """The Space's SDK: its README's ``sdk`` on ``main``, else the one it was created with."""
        head = repo.branches.get("main")
        card = self.hub.repos.card(repo.commits[head]) if head else None
        sdk = card.get("sdk") if isinstance(card, dict) else None
        return sdk if isinstance(sdk, str) else repo.sdk

    def _plan(self, repo: Repo, space: Space | None = None, *, commit: bool = False) -> SpacePlan:
        seeded = self.plans.get(repo.repo_id.lower())
        if seeded is not None:
            return seeded
        if self._is_static(repo):
            return SpacePlan(STATIC_PLAN)
        if commit and space is not None and space.stage() in SERVING_STAGES:
            return SpacePlan(DEFAULT_REBUILD_PLAN)
        return SpacePlan(DEFAULT_PLAN)

    def _space(self, repo: Repo) -> Space:
        """The Space's runtime, made when first needed as if its plan had started at the repo's creation."""
        key = repo.repo_id.lower()
        space = self.spaces.get(key)
        if space is None:
            age = max(0.0, time.time() - repo.created_at)
            space = Space(
                plan=self._plan(repo),
                started=time.monotonic() - age,
                requested_hardware=None if self._is_static(repo) else FREE_HARDWARE,
            )
            self.spaces[key] = space
        return space

    def _readable(self, principal: Principal | None, repo_id: str) -> Repo:
        """The Space, if ``principal`` may see it; ``RepoNotFound`` for a missing or hidden one, and for a
        model, dataset or kernel id (these are Space routes)."""
        return self.hub.repos.readable("space", repo_id, principal)

    def _writable(
        self, principal: Principal | None, repo_id: str, action: str, *, static_ok: bool = True
    ) -> Repo:
        """The Space, if ``principal`` may ``action`` it: only writers of its namespace may change a
        Space; ``static_ok=False``: a static Space refuses ``action`` (400), as on the Hub."""
        repo = self._readable(principal, repo_id)
        if principal is None:
            raise Unauthorized()
        if not self.hub.can_write_namespace(principal, repo.namespace):
            raise Forbidden(
                f"You don't have the rights to {action} the Space {repo.repo_id}: only its owner "
                f"({repo.namespace}) can"
            )
        if not static_ok and self._is_static(repo):
            raise BadRequest(
                f"The Space {repo.repo_id} is a static Space: static Spaces are always running and never "
                f"billed, so you cannot {action} it"
            )
        return repo

    # -- JSON ---------------------------------------------------------------------------------------
    def runtime_json(self, repo: Repo) -> dict[str, Any]:
        """The Space's runtime as the Hub answers it (``SpaceRuntime``; ``space_info().runtime``)."""
        with self.hub.lock:
            space = self._space(repo)
            static = self._is_static(repo)
            stage = space.stage()
            current = space.hardware()
            runtime: dict[str, Any] = {
                "stage": stage,
                "hardware": None if static else {"current": current, "requested": space.requested_hardware},
                "storage": None,
                "gcTimeout": None if static else self._sleep_time(space, current),
                "replicas": {"current": 1 if stage in SERVING_STAGES else 0, "requested": 1},
                "devMode": space.dev_mode,
                "domains": [{"domain": f"{_subdomain(repo.repo_id)}.hf.space", "stage": "READY"}],
            }
            if space.volumes is not None:
                runtime["volumes"] = copy.deepcopy(space.volumes)
            if stage in ERROR_MESSAGES:
                runtime["errorMessage"] = space.plan.error_message or ERROR_MESSAGES[stage]
            return runtime

    @staticmethod
    def _sleep_time(space: Space, current: str | None) -> int | None:
        """``gcTimeout``: fixed at 48 h on the free hardware, else the one set (``None``: never sleeps)."""
        if (space.requested_hardware or current) == FREE_HARDWARE:
            return FREE_SLEEP_TIME
        return space.sleep_time

    @staticmethod
    def _secrets_json(space: Space) -> dict[str, Any]:
        return {
            key: {"description": s.description, "updatedAt": iso(s.updated_at)}
            for key, s in sorted(space.secrets.items())
        }

    @staticmethod
    def _variables_json(space: Space) -> dict[str, Any]:
        return {
            key: {"value": v.value, "description": v.description, "updatedAt": iso(v.updated_at)}
            for key, v in sorted(space.variables.items())
        }

    # -- runtime operations -------------------------------------------------------------------------
    def runtime(self, principal: Principal | None, repo_id: str) -> dict[str, Any]:
        with self.hub.lock:
            return self.runtime_json(self._readable(principal, repo_id))

    def restart(self, principal: Principal | None, repo_id: str, *, factory: bool = False) -> dict[str, Any]:
        """Start the Space's plan again, whatever its stage (a paused one too). A factory reboot (rebuild
        without cache) plays the same plan: the emulator has no build cache."""
        with self.hub.lock:
            repo = self._writable(principal, repo_id, "restart", static_ok=False)
            space = self._space(repo)
            space.start(self._plan(repo, space))
            return self.runtime_json(repo)

    def pause(self, principal: Principal | None, repo_id: str) -> dict[str, Any]:
        with self.hub.lock:
            repo = self._writable(principal, repo_id, "pause", static_ok=False)
            self._space(repo).paused = True
            return self.runtime_json(repo)

    def request_hardware(
        self, principal: Principal | None, repo_id: str, flavor: Any, sleep_time: Any = None
    ) -> dict[str, Any]:
        """Ask for ``flavor`` (and set the sleep time when given): the Space restarts on it, unless paused."""
        flavor = _flavor(flavor)
        seconds = None if sleep_time is None else _sleep_seconds(sleep_time, "sleepTimeSeconds")
        with self.hub.lock:
            repo = self._writable(principal, repo_id, "change the hardware of", static_ok=False)
            space = self._space(repo)
            if space.paused:
                space.requested_hardware = flavor
            else:
                space.start(self._plan(repo, space), hardware=flavor)
            if seconds is not None and flavor != FREE_HARDWARE:
                space.sleep_time = seconds
            return self.runtime_json(repo)

    def set_sleep_time(self, principal: Principal | None, repo_id: str, seconds: Any) -> dict[str, Any]:
        """Set the sleep time (``-1``: never sleep). The free hardware's is fixed at 48 h: there the request
        is answered and changes nothing (``huggingface_hub`` warns about it)."""
        seconds = _sleep_seconds(seconds, "seconds")
        with self.hub.lock:
            repo = self._writable(principal, repo_id, "set the sleep time of", static_ok=False)
            space = self._space(repo)
            if (space.requested_hardware or space.hardware()) != FREE_HARDWARE:
                space.sleep_time = seconds
            return self.runtime_json(repo)

    def set_dev_mode(self, principal: Principal | None, repo_id: str, enabled: Any) -> dict[str, Any]:
        if not isinstance(enabled, bool):
            raise BadRequest(f"'enabled' must be true or false, got {shown(repr(enabled))}")
        with self.hub.lock:
            repo = self._writable(principal, repo_id, "set dev mode on", static_ok=False)
            self._space(repo).dev_mode = enabled
            return self.runtime_json(repo)

    def set_volumes(self, principal: Principal | None, repo_id: str, volumes: Any) -> None:
        checked = _volumes(volumes)
        with self.hub.lock:
            repo = self._writable(principal, repo_id, "set the volumes of")
            self._space(repo).volumes = checked

    def delete_volumes(self, principal: Principal | None, repo_id: str) -> None:
        with self.hub.lock:
            repo = self._writable(principal, repo_id, "delete the volumes of")
            space = self._space(repo)
            if not space.volumes:
                raise BadRequest(f"The Space {repo.repo_id} has no volumes")
            space.volumes = None

    # -- secrets and variables ----------------------------------------------------------------------
    def secrets(self, principal: Principal | None, repo_id: str) -> dict[str, Any]:
        """The secrets' keys, descriptions and update times (never their values); writers only."""
        with self.hub.lock:
            repo = self._writable(principal, repo_id, "read the secrets of")
            return self._secrets_json(self._space(repo))

    def add_secret(
        self, principal: Principal | None, repo_id: str, key: Any, value: Any, description: Any = None
    ) -> dict[str, Any]:
        key, value, description = _setting(key, value, description)
        with self.hub.lock:
            space = self._space(self._writable(principal, repo_id, "add a secret to"))
            _put(space.secrets, key, value, description)
            return self._secrets_json(space)

    def delete_secret(self, principal: Principal | None, repo_id: str, key: Any) -> dict[str, Any]:
        """Delete the secret; a key the Space does not have is no error."""
        key = _key(key)
        with self.hub.lock:
            space = self._space(self._writable(principal, repo_id, "delete a secret of"))
            space.secrets.pop(key, None)
            return self._secrets_json(space)

    def variables(self, principal: Principal | None, repo_id: str) -> dict[str, Any]:
        """The variables with their values; anyone who can see the Space may read them."""
        with self.hub.lock:
            return self._variables_json(self._space(self._readable(principal, repo_id)))

    def add_variable(
        self, principal: Principal | None, repo_id: str, key: Any, value: Any, description: Any = None
    ) -> dict[str, Any]:
        """Add or update the variable; answers every variable of the Space."""
        key, value, description = _setting(key, value, description)
        with self.hub.lock:
            space = self._space(self._writable(principal, repo_id, "add a variable to"))
            _put(space.variables, key, value, description)
            return self._variables_json(space)

    def delete_variable(self, principal: Principal | None, repo_id: str, key: Any) -> dict[str, Any]:
        """Delete the variable (a missing one is no error); answers the remaining variables."""
        key = _key(key)
        with self.hub.lock:
            space = self._space(self._writable(principal, repo_id, "delete a variable of"))
            space.variables.pop(key, None)
            return self._variables_json(space)

    # -- create_repo's Space arguments --------------------------------------------------------------
    @staticmethod
    def new_space_settings(body: Mapping[str, Any]) -> NewSpaceSettings:
        """The Space arguments of a ``create_repo`` body (``hardware``, ``sleepTimeSeconds``, ``secrets``,
        ``variables``, ``volumes``), checked; a 400 before anything is created otherwise."""
        hardware = body.get("hardware")
        sleep_time = body.get("sleepTimeSeconds")
        return NewSpaceSettings(
            hardware=None if hardware is None else _flavor(hardware),
            sleep_time=None if sleep_time is None else _sleep_seconds(sleep_time, "sleepTimeSeconds"),
            secrets=_settings_list(body.get("secrets"), "secrets"),
            variables=_settings_list(body.get("variables"), "variables"),
            volumes=None if body.get("volumes") is None else _volumes(body.get("volumes")),
        )

    def configure_new(self, repo_id: str, settings: NewSpaceSettings) -> None:
        """Apply ``settings`` to the Space just created (it builds on the requested hardware)."""
        with self.hub.lock:
            repo = self.hub.repos.get("space", repo_id)
            if repo is None:
                return
            space = self._space(repo)
            if settings.hardware is not None and not self._is_static(repo):
                space.requested_hardware = settings.hardware
            if settings.sleep_time is not None and space.requested_hardware != FREE_HARDWARE:
                space.sleep_time = settings.sleep_time
            for key, value, description in settings.secrets:
                _put(space.secrets, key, value, description)
            for key, value, description in settings.variables:
                _put(space.variables, key, value, description)
            if settings.volumes is not None:
                space.volumes = settings.volumes

    # -- the repos area's changes -------------------------------------------------------------------
    def _on_change(self, change: RepoChange) -> None:
        if change.repo_type != "space":
            return
        key = change.repo_id.lower()
        with self.hub.lock:
            if change.scope == "repo" and change.action == "create":
                self.spaces.pop(key, None)
                repo = self.hub.repos.get("space", change.repo_id)
                if repo is not None:
                    self._space(repo)
            elif change.scope == "repo" and change.action == "delete":
                self.spaces.pop(key, None)
            elif change.scope == "repo" and change.action == "move" and change.moved_to:
                target = change.moved_to.lower()
                if key in self.spaces:
                    self.spaces[target] = self.spaces.pop(key)
                if key in self.plans:
                    self.plans[target] = self.plans.pop(key)
            elif change.scope == "repo.content" and any(
                ref.get("ref") == "refs/heads/main" and ref.get("newSha") for ref in change.updated_refs
            ):
                repo = self.hub.repos.get("space", change.repo_id)
                if repo is None:
                    return
                space = self._space(repo)
                if not space.paused:
                    space.start(self._plan(repo, space, commit=True))


# -- checks -----------------------------------------------------------------------------------------
def _subdomain(repo_id: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", repo_id.lower().replace("/", "-"))


def _flavor(flavor: Any) -> str:
    if flavor not in HARDWARE:
        raise BadRequest(
            f"Invalid hardware flavor {shown(repr(flavor))}; expected one of {', '.join(HARDWARE)}"
        )
    return str(flavor)


def _sleep_seconds(seconds: Any, name: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or (seconds != -1 and seconds <= 0):
        raise BadRequest(
            f"'{name}' must be a positive number of seconds, or -1 to never sleep; got {shown(repr(seconds))}"
        )
    return seconds


def _key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise BadRequest(f"'key' must be a non-empty string, got {shown(repr(key))}")
    return key


def _setting(key: Any, value: Any, description: Any) -> tuple[str, str, str | None]:
    key = _key(key)
    if not isinstance(value, str):
        raise BadRequest(f"'value' of {shown(key)} must be a string")
    if description is not None and not isinstance(description, str):
        raise BadRequest(f"'description' of {shown(key)} must be a string")
    return key, value, description


def _put(settings: dict[str, Setting], key: str, value: str, description: str | None) -> None:
    """Add or update a secret or variable; an update without a description keeps the one it had."""
    old = settings.get(key)
    if description is None and old is not None:
        description = old.description
    settings[key] = Setting(value, description)


def _settings_list(items: Any, name: str) -> tuple[tuple[str, str, str | None], ...]:
    if items is None:
        return ()
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadRequest(f"'{name}' must be a list of {{key, value, description?}} objects")
    return tuple(_setting(item.get("key"), item.get("value"), item.get("description")) for item in items)


def _volumes(volumes: Any) -> list[dict[str, Any]]:
    if not isinstance(volumes, list) or not all(isinstance(volume, dict) for volume in volumes):
        raise BadRequest("'volumes' must be a list of {type?, source, mountPath, ...} objects")
    checked = []
    for volume in volumes:
        kind = volume.get("type", "model")
        source, mount_path = volume.get("source"), volume.get("mountPath")
        if kind not in VOLUME_TYPES:
            raise BadRequest(
                f"Invalid volume type {shown(repr(kind))}; expected one of {', '.join(VOLUME_TYPES)}"
            )
        if not isinstance(source, str) or not source:
            raise BadRequest("Each volume needs a 'source'")
        if not isinstance(mount_path, str) or not mount_path.startswith("/"):
            raise BadRequest(f"The 'mountPath' of volume {shown(source)} must be an absolute path")
        checked.append({"type": kind, **copy.deepcopy(volume)})
    return checked


def attach(hub: HubState) -> None:
    """Create this area's backend on ``hub`` (``hub.spaces``)."""
    hub.spaces = SpaceBackend(hub)
