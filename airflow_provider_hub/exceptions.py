"""Errors raised by the provider. All are ``AirflowException`` subclasses so Airflow handles them as usual."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException, AirflowFailException


class HfHubError(AirflowException):
    """A Hub call failed; the message names what was called on (repo, revision, Job, Endpoint) and carries
    the Hub's own message. ``status_code`` is the HTTP status when there was a response; ``attempts`` how
    many times the request was sent (more than one: an earlier attempt may have been applied)."""

    def __init__(self, message: str, *, status_code: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        # AirflowException's class-level HTTPStatus is for the API server's replies; ours is the Hub's answer.
        self.status_code = status_code  # type: ignore[assignment]
        self.attempts = attempts


class HfHubNotFoundError(HfHubError):
    """The repo, revision, file, Job or Endpoint does not exist (or the token may not see it)."""


class HfHubConflictError(HfHubError):
    """The Hub refused a change that conflicts with its current state (409, or 412 stale parent commit)."""


class HfHubTerminalStateError(AirflowFailException):
    """A Job or Endpoint reached a state it will never leave towards success; retrying the task cannot help."""
