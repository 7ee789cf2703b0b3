"""Hub failures as provider errors: one mapping for the sync hook, the async hook and ``test_connection``.

Example::

    try:
        api.model_info("alice/x")
    except Exception as exc:
        mapped = map_hub_error(exc, action="model_info", subject="model alice/x", token=token, timeout=30)
        if mapped is None:
            raise
        raise mapped from exc
"""

from __future__ import annotations

import sys
from typing import Any

from airflow_provider_hub.exceptions import HfHubConflictError, HfHubError, HfHubNotFoundError
from airflow_provider_hub.hooks.retry import response_of, transport_errors

CONFLICT_STATUSES = frozenset({409, 412})
#: ``X-Error-Code`` values the Hub sends for something missing.
_NOT_FOUND_CODES = frozenset({"RepoNotFound", "RevisionNotFound", "EntryNotFound"})
#: ``huggingface_hub`` errors that mean "does not exist" (``GatedRepoError`` subclasses one but is access).
_NOT_FOUND_ERRORS = (
    "RepositoryNotFoundError",
    "RevisionNotFoundError",
    "EntryNotFoundError",
    "JobNotFoundError",
    "BucketNotFoundError",
)


def _server_message(exc: BaseException, response: Any) -> str:
    """The Hub's own explanation: ``X-Error-Message``, else the JSON ``error``, else a short text body."""
    message = getattr(exc, "server_message", None)
    if message:
        return str(message).strip()
    if header := response.headers.get("x-error-message"):
        return header
    try:
        body = response.json()
    except Exception:
        body = None
    if isinstance(body, dict) and body.get("error"):
        error = body["error"]
        return "; ".join(map(str, error)) if isinstance(error, list) else str(error)
    try:
        text = response.text.strip()
    except Exception:  # a streamed body that was never read
        return ""
    return "" if text.startswith("<") else text[:500]


def one_line(text: str, token: str | None) -> str:
    """``text`` on one line, with ``token`` (the connection's secret) masked out."""
    if token:
        text = text.replace(token, "***")
    return " ".join(text.split())


def _transport_reason(exc: BaseException, timeout: float) -> str:
    """Why no HTTP answer came: a timeout, a refused/unresolvable host, or a dropped connection."""
    try:
        url = exc.request.url  # type: ignore[attr-defined]
        target = f"{url.scheme}://{url.netloc.decode() if isinstance(url.netloc, bytes) else url.netloc}"
    except Exception:
        target = "the server"
    name = type(exc).__name__
    if "Timeout" in name:
        return f"timed out after {timeout:g} s waiting for {target} ({name})"
    if "ConnectError" in name:
        return f"could not connect to {target} ({exc or name})"
    return f"connection to {target} failed ({name}: {exc})"


def map_hub_error(
    exc: BaseException,
    *,
    action: str,
    subject: str | None,
    token: str | None,
    timeout: float,
    attempts: int = 1,
) -> HfHubError | None:
    """The provider error for a failed Hub request, or ``None`` when ``exc`` is not an HTTP/network failure.

    404 and the Hub's "not found" errors give :class:`HfHubNotFoundError`, 409 and 412
    :class:`HfHubConflictError`, any other status or network failure :class:`HfHubError`. The message names
    ``subject`` and carries the Hub's message; the token never appears in it.
    """
    what = f"{action} on {subject}" if subject else action
    tried = f" (after {attempts} attempts)" if attempts > 1 else ""
    response = response_of(exc)
    if response is None and type(exc).__name__ == "LocalEntryNotFoundError" and exc.__cause__ is not None:
        # hf_hub_download reports a failed metadata request as "not in the local cache", the Hub's answer (or
        # the network failure) as its cause: that cause is the failure.
        return map_hub_error(
            exc.__cause__, action=action, subject=subject, token=token, timeout=timeout, attempts=attempts
        )
    if response is None:
        if isinstance(exc, transport_errors()):
            return HfHubError(
                one_line(f"{what} failed: {_transport_reason(exc, timeout)}{tried}", token),
                attempts=attempts,
            )
        return None
    status = int(response.status_code)
    code = response.headers.get("x-error-code")
    detail = _server_message(exc, response) or getattr(response, "reason_phrase", "") or "no message"
    message = one_line(f"{what} failed with HTTP {status}: {detail}{tried}", token)
    hf_errors = sys.modules.get("huggingface_hub.errors")
    gated = code == "GatedRepo" or (hf_errors is not None and isinstance(exc, hf_errors.GatedRepoError))
    hf_not_found = hf_errors is not None and isinstance(
        exc, tuple(getattr(hf_errors, name) for name in _NOT_FOUND_ERRORS if hasattr(hf_errors, name))
    )
    if not gated and (status == 404 or code in _NOT_FOUND_CODES or hf_not_found):
        return HfHubNotFoundError(message, status_code=status, attempts=attempts)
    if status in CONFLICT_STATUSES:
        return HfHubConflictError(message, status_code=status, attempts=attempts)
    return HfHubError(message, status_code=status, attempts=attempts)
