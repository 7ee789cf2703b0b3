"""The emulator's errors: one class per Hub error, each answered the way the Hub answers it.

Backends raise them, for HTTP callers and Python (seeding) callers alike; the app renders them with
:func:`airflow_provider_hub.testing.http.error_response`: the status, ``X-Error-Message``, a JSON object
``{"error": message}``, ``X-Request-Id`` and, for the four errors ``huggingface_hub`` maps to its own
exception classes, ``X-Error-Code`` (over plain http the client has nothing else to go by).

Not-found errors are also ``KeyError`` and bad requests also ``ValueError``, so Python callers of the
seeding methods can catch them as they would any failed lookup or invalid argument.
"""

from __future__ import annotations

from typing import Any


def shown(text: str) -> str:
    """``text`` made safe for a header (latin-1), other characters escaped."""
    return text.encode("latin-1", "backslashreplace").decode("latin-1")


class HubError(Exception):
    """An error with the Hub's status and message; ``code`` becomes ``X-Error-Code`` when set.

    ``body`` adds keys to the JSON error body (``create_repo(exist_ok=True)`` reads ``url`` from a 409),
    ``headers`` adds response headers (``X-Repo-Commit`` on a missing file, ``Content-Range`` on a 416).
    """

    status = 500
    code: str | None = None

    def __init__(
        self, message: str, *, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.body = body
        self.headers = headers or {}

    def __str__(self) -> str:
        return self.message


# -- the errors huggingface_hub recognises by X-Error-Code ------------------------------------------
class NotFound(HubError, KeyError):
    """404 for something that is not a repo, revision or file (a discussion, Job, webhook, user...)."""

    status = 404


class RepoNotFound(NotFound):
    code = "RepoNotFound"

    def __init__(self, message: str = "Repository not found") -> None:
        super().__init__(message)


class RevisionNotFound(NotFound):
    code = "RevisionNotFound"

    def __init__(self, revision: str) -> None:
        super().__init__(f"Invalid rev id: {shown(revision)}")


class EntryNotFound(NotFound):
    code = "EntryNotFound"


class GatedRepo(HubError):
    """401 for an anonymous caller, 403 for a signed-in one without access."""

    code = "GatedRepo"

    def __init__(self, message: str, *, anonymous: bool) -> None:
        super().__init__(message)
        self.status = 401 if anonymous else 403


# -- errors known by their status only ----------------------------------------------------------------
class BadRequest(HubError, ValueError):
    status = 400


class Unauthorized(HubError):
    status = 401

    def __init__(
        self, message: str = "You must be authenticated to access this resource. Please provide a token."
    ) -> None:
        super().__init__(message)


class Forbidden(HubError):
    status = 403


class MethodNotAllowed(HubError):
    status = 405


class NotAcceptable(HubError):
    status = 406


class Conflict(HubError):
    status = 409


class PreconditionFailed(HubError):
    status = 412


class RangeNotSatisfiable(HubError):
    status = 416


class UnprocessableEntity(HubError, ValueError):
    status = 422


class NotImplementedByEmulator(HubError):
    status = 501
