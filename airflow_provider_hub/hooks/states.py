"""What a Hub resource's reported state means for a task waiting on it, said once for every caller.

A Job's stage, an Inference Endpoint's status, a pull request's status and an Inference Provider's status
are judged here, and only here: the operators that wait in the worker, the sensors and the triggers all ask
these types whether a state ends a wait, as a success or as a failure, and the failure's reason for the
task's error message.

The states are plain strings as the Hub sends them (``"RUNNING"``, ``"scaledToZero"``, ``"live"``), not
``huggingface_hub`` enums: DAG files import the operators, which import this module, and parsing a DAG must not
import ``huggingface_hub`` (``tests/package/test_lazy_imports.py``).

Example::

    state = EndpointState.from_summary(hook.get_inference_endpoint("support-bot"))
    if state.verdict(["running"]) is Verdict.FAILED:
        raise HfHubTerminalStateError(f"Inference Endpoint acme/support-bot {state.failure_reason()}")
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


class Verdict(str, enum.Enum):
    """How a reported state ends a wait for target states: not yet, reached, or never (a failure)."""

    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class JobState:
    """A Hub Job's stage and status message.

    Example::

        JobState("ERROR", "bad image").verdict(["COMPLETED"])  # Verdict.FAILED
        JobState("ERROR", "bad image").failure_reason()  # 'ended in stage ERROR (bad image)'
        JobState("RUNNING").verdict(["RUNNING"])  # Verdict.DONE: a sensor may wait for a Job to start

    :param stage: the stage the Hub reports (``SCHEDULING``, ``RUNNING``, ``COMPLETED``...).
    :param message: the Hub's status message, e.g. why the Job failed.
    """

    #: Every stage a Job reports, from start to end; the order error messages list them in.
    STAGES: ClassVar[tuple[str, ...]] = ("SCHEDULING", "RUNNING", "COMPLETED", "CANCELED", "ERROR", "DELETED")
    #: Stages of a Job that has not finished yet.
    ACTIVE: ClassVar[tuple[str, ...]] = ("SCHEDULING", "RUNNING")
    #: Stages a Job never leaves.
    TERMINAL: ClassVar[tuple[str, ...]] = ("COMPLETED", "CANCELED", "ERROR", "DELETED")
    #: The one stage in which a Job did what it was started for.
    SUCCEEDED: ClassVar[str] = "COMPLETED"

    stage: str | None
    message: str | None = None

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> JobState:
        """The state of a Job summary (``HfHubHook.job_summary``: ``{"stage", "message", ...}``)."""
        return cls(summary.get("stage"), summary.get("message"))

    @classmethod
    def from_api(cls, raw: Mapping[str, Any] | None) -> JobState:
        """The state in the Hub's Job JSON (``{"status": {"stage", "message"}, ...}``), as triggers read it."""
        status = (raw or {}).get("status") or {}
        return cls(status.get("stage"), status.get("message"))

    @property
    def active(self) -> bool:
        """The Job is scheduled or running: it may still succeed."""
        return self.stage in self.ACTIVE

    @property
    def terminal(self) -> bool:
        """The Job ended: its stage will not change any more."""
        return self.stage in self.TERMINAL

    @property
    def succeeded(self) -> bool:
        """The Job ended ``COMPLETED``."""
        return self.stage == self.SUCCEEDED

    @property
    def failed(self) -> bool:
        """The Job ended in a stage other than ``COMPLETED`` (cancelled, errored, deleted)."""
        return self.terminal and not self.succeeded

    def verdict(self, target_stages: Collection[str]) -> Verdict:
        """``DONE`` in a target stage, ``FAILED`` in any other terminal stage, else ``WAITING``."""
        if self.stage in target_stages:
            return Verdict.DONE
        if self.terminal:
            return Verdict.FAILED
        return Verdict.WAITING

    def failure_reason(self, what: str | None = None) -> str:
        """Why a task fails on this Job, after its name: ``"ended in stage ERROR (bad image)"``.

        :param what: what went wrong instead of the stage it ended in, e.g. ``"did not finish in time"``;
            the Hub's status message follows it all the same.
        """
        reason = what or f"ended in stage {self.stage}"
        return f"{reason} ({self.message})" if self.message else reason


@dataclass(frozen=True)
class EndpointState:
    """An Inference Endpoint's status, the URL it serves at, and its status message.

    Example::

        EndpointState("running", url=None).verdict(["running"])  # Verdict.WAITING: it serves no URL yet
        EndpointState("failed", message="OOM").failure_reason()  # 'is failed: OOM'

    :param status: the status the Inference Endpoints API reports (``pending``, ``running``, ``paused``...).
    :param url: the URL the Endpoint serves at, once it does.
    :param message: the API's status message, e.g. why the Endpoint failed.
    """

    #: Every status an Endpoint reports (``huggingface_hub.InferenceEndpointStatus``).
    STATUSES: ClassVar[tuple[str, ...]] = (
        "pending",
        "initializing",
        "updating",
        "updateFailed",
        "running",
        "paused",
        "failed",
        "scaledToZero",
    )
    #: Statuses that end any wait with a failure: the Endpoint will not get anywhere by itself.
    FAILED: ClassVar[tuple[str, ...]] = ("failed", "updateFailed")
    #: Statuses an Endpoint only leaves when someone resumes it.
    SLEEPING: ClassVar[tuple[str, ...]] = ("paused", "scaledToZero")

    status: str | None
    url: str | None = None
    message: str | None = None

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> EndpointState:
        """The state of an Endpoint summary (``HfHubHook.get_inference_endpoint``: ``{"status", "url", ...}``)."""
        return cls(summary.get("status"), summary.get("url"), summary.get("message"))

    @classmethod
    def from_api(cls, raw: Mapping[str, Any] | None) -> EndpointState:
        """The state in the API's Endpoint JSON (``{"status": {"state", "url", "message"}, ...}``)."""
        status = (raw or {}).get("status") or {}
        return cls(status.get("state"), status.get("url"), status.get("message"))

    @property
    def failed(self) -> bool:
        """The Endpoint reports ``failed`` or ``updateFailed``: it needs someone to act on it."""
        return self.status in self.FAILED

    @property
    def sleeping(self) -> bool:
        """The Endpoint is paused or scaled to zero: it stays so until resumed."""
        return self.status in self.SLEEPING

    def verdict(self, target_statuses: Collection[str]) -> Verdict:
        """``DONE`` in a target status, ``FAILED`` in a failed one, else ``WAITING``.

        ``running`` only counts once the Endpoint advertises its URL (as ``InferenceEndpoint.wait()`` requires).
        ``failed`` / ``updateFailed`` fail any wait that does not target them.
        """
        if self.status in target_statuses and (self.status != "running" or self.url):
            return Verdict.DONE
        if self.failed:
            return Verdict.FAILED
        return Verdict.WAITING

    def failure_reason(self) -> str:
        """Why a task fails on this Endpoint, after its name: ``"is failed: the model server exited"``."""
        return f"is {self.status}: {self.message or 'no message'}"


#: The statuses a discussion or pull request can be given (a PR becomes ``merged`` by merging it).
DISCUSSION_STATUSES = ("open", "closed")


@dataclass(frozen=True)
class PullRequestState:
    """A pull request's status as the Hub reports it: ``draft``, ``open``, ``closed`` or ``merged``.

    Example::

        PullRequestState("closed").verdict(["merged"])  # Verdict.FAILED: a closed PR is not merged any more
        PullRequestState("draft").verdict(["merged"])  # Verdict.WAITING

    :param status: the PR's status.
    """

    STATUSES: ClassVar[tuple[str, ...]] = ("draft", "open", "closed", "merged")
    #: The statuses each status can still lead to. A closed PR may be reopened but not merged as it is
    #: (someone must reopen it first: a wait for ``merged`` ends there); a merged PR stays merged.
    REACHABLE: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "draft": ("draft", "open", "closed", "merged"),
        "open": ("open", "draft", "closed", "merged"),
        "closed": ("closed", "open"),
        "merged": ("merged",),
    }

    status: str | None

    def verdict(self, target_statuses: Collection[str]) -> Verdict:
        """``DONE`` in a target status, ``FAILED`` when no target can be reached any more, else ``WAITING``."""
        if self.status in target_statuses:
            return Verdict.DONE
        if not set(self.REACHABLE.get(self.status or "", ())) & set(target_statuses):
            return Verdict.FAILED
        return Verdict.WAITING


@dataclass(frozen=True)
class SpaceState:
    """A Space's runtime stage as the Hub reports it, and its error message.

    Example::

        SpaceState("BUILD_ERROR", "pip failed").verdict("RUNNING")  # Verdict.FAILED
        SpaceState("RUNNING_BUILDING").verdict("RUNNING")  # Verdict.WAITING: the new version still builds

    :param stage: the stage (``BUILDING``, ``RUNNING``, ``PAUSED``...).
    :param error_message: the Space's own message on an error stage.
    """

    #: Every stage a Space reports (``huggingface_hub.SpaceStage``).
    STAGES: ClassVar[tuple[str, ...]] = (
        "NO_APP_FILE",
        "CONFIG_ERROR",
        "BUILDING",
        "BUILD_ERROR",
        "APP_STARTING",
        "RUNNING",
        "RUNNING_BUILDING",
        "RUNNING_APP_STARTING",
        "RUNTIME_ERROR",
        "DELETING",
        "STOPPED",
        "PAUSED",
        "SLEEPING",
    )
    #: Stages that need someone to change the Space: they end any wait for another stage with a failure.
    FAILED: ClassVar[tuple[str, ...]] = ("BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR", "NO_APP_FILE")
    #: Stages a Space only leaves when someone restarts it.
    HALTED: ClassVar[tuple[str, ...]] = ("PAUSED", "STOPPED", "DELETING")

    stage: str | None
    error_message: str | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any] | None) -> SpaceState:
        """The state in the Hub's runtime JSON (``{"stage", "errorMessage", "hardware", ...}``)."""
        raw = raw or {}
        return cls(raw.get("stage"), raw.get("errorMessage"))

    def verdict(self, target_stage: str) -> Verdict:
        """``DONE`` at ``target_stage``; ``FAILED`` on an error stage, or halted, when that is not the target."""
        if self.stage == target_stage:
            return Verdict.DONE
        if self.stage in self.FAILED or self.stage in self.HALTED:
            return Verdict.FAILED
        return Verdict.WAITING

    def failure_reason(self) -> str:
        """Why a task fails on this Space, after its name: ``"is BUILD_ERROR: pip failed"``."""
        return f"is {self.stage}: {self.error_message}" if self.error_message else f"is {self.stage}"


#: The status of an Inference Provider that serves the model, in the Hub's mapping and the router's metadata.
LIVE_PROVIDER_STATUS = "live"


def live_providers(mapping: Mapping[str, Mapping[str, Any]], wanted: Collection[str] | None) -> list[str]:
    """Providers of ``mapping`` (the Hub's ``inferenceProviderMapping``) that are ``live``, among ``wanted`` if given.

    Sorted by name, so the first one is a deterministic pick. A wait for a provider never fails: a provider
    that is not live (``staging``, ``error``) may become live.

    Example::

        live_providers({"together": {"status": "live"}, "novita": {"status": "staging"}}, None)  # ['together']
    """
    return sorted(
        name
        for name, entry in mapping.items()
        if (entry or {}).get("status") == LIVE_PROVIDER_STATUS and (not wanted or name in wanted)
    )
