"""``HfHubHook`` and ``HfHubAsyncHook``: the authenticated doors to the Hugging Face Hub.

Both read one Airflow connection (type ``huggingface_hub``), share one retry policy
(:class:`RetryPolicy`) and map Hub failures to :mod:`airflow_provider_hub.exceptions` the same way.

Inference Endpoints routing: ``huggingface_hub`` builds every Inference Endpoints URL from the module
constant ``INFERENCE_ENDPOINTS_ENDPOINT``, shared by the whole process. Rather than patching it (which would
leak one connection's URL into every other connection's calls, in other threads and asyncio tasks), each
hook's ``HfApi`` tags its requests with a private header naming its connection's route, and a request event
hook installed on ``huggingface_hub``'s shared HTTP session strips the header and rewrites the URL. The tag
travels with the ``HfApi`` instance, so ``InferenceEndpoint`` objects returned through the hook (which the
hook rebinds to its ``HfApi``) route correctly for their own later calls (``.fetch()``, ``.wait()``, ...).
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import re
import sys
import threading
import types
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, NoReturn
from urllib.parse import quote, urlsplit

import httpx
import tenacity
from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_hub._offloop import aget_connection, amask_secret, new_async_client
from airflow_provider_hub.exceptions import HfHubConflictError, HfHubError, HfHubNotFoundError
from airflow_provider_hub.hooks._access import AccessHookMixin
from airflow_provider_hub.hooks._endpoints import EndpointsHookMixin
from airflow_provider_hub.hooks._inference_providers import InferenceProvidersHookMixin
from airflow_provider_hub.hooks._jobs import NAMESPACE_RE, JobsHookMixin
from airflow_provider_hub.hooks._repo import RepoHookMixin
from airflow_provider_hub.hooks._webhooks import WebhooksHookMixin

if TYPE_CHECKING:
    from airflow.sdk import Connection
    from huggingface_hub import HfApi

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_INFERENCE_ENDPOINTS_URL = "https://api.endpoints.huggingface.cloud/v2"
DEFAULT_ROUTER_URL = "https://router.huggingface.co"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 5
DEFAULT_RETRY_BACKOFF = 1.0
#: Longest wait between two attempts that the exponential backoff computes.
MAX_BACKOFF = 60.0
#: Longest ``Retry-After`` / ``RateLimit`` reset honoured; a longer one is waited this long.
MAX_RETRY_AFTER = 300.0
#: HTTP statuses worth another attempt: the same set ``huggingface_hub.utils.http_backoff`` retries.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
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
#: ``HfApi`` methods whose every request already goes through ``huggingface_hub.utils.http_backoff``
#: (1 + 5 attempts, waits 1-8 s, ``Retry-After`` honoured): ``call`` adds no attempts of its own on top.
#: Generator methods (``list_*``, ``fetch_job_logs``) are not listed: ``call`` never repeats a generator.
CLIENT_RETRIED_METHODS = frozenset(
    {
        "hf_hub_download",
        "snapshot_download",
        "get_safetensors_metadata",
        "preupload_lfs_files",
        "get_bucket_paths_info",
        "download_bucket_files",
        "batch_bucket_files",
    }
)
_RATELIMIT_RE = re.compile(r"\"\w+\"\s*;\s*r\s*=\s*(?P<r>\d+)\s*;\s*t\s*=\s*(?P<t>\d+)")
_CONN_TYPE = "huggingface_hub"
#: The connection extras the hooks read (each one a field of the connection form).
CONNECTION_EXTRAS = (
    "namespace",
    "inference_endpoints_url",
    "router_url",
    "timeout",
    "max_retries",
    "retry_backoff",
)
_ROUTE_HEADER = "x-airflow-provider-hub-route"


# -- connection settings -----------------------------------------------------------------------------
def _extra(extras: Mapping[str, Any], name: str) -> Any:
    """An extra by its plain name, else by the ``extra__huggingface_hub__<name>`` form some UIs store."""
    for key in (name, f"extra__{_CONN_TYPE}__{name}"):
        value = extras.get(key)
        if value not in (None, ""):
            return value
    return None


def _check_url(conn_id: str, field_name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"Connection {conn_id!r}: {field_name} must be an http(s) URL; got {value!r}")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Connection {conn_id!r}: {field_name} must be an http(s) URL; got {value!r}")
    return value.strip().rstrip("/")


def _check_number(conn_id: str, field_name: str, value: Any, *, integer: bool, positive: bool) -> float:
    """``value`` as a number (strings from the UI accepted): ``> 0`` when ``positive``, else ``>= 0``."""
    expected = f"{'a whole number' if integer else 'a number'} {'> 0' if positive else '>= 0'}"
    try:
        number = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if (
        not math.isfinite(number)
        or (integer and number != int(number))
        or number < 0
        or (positive and number == 0)
    ):
        raise ValueError(f"Connection {conn_id!r}: extra {field_name!r} must be {expected}; got {value!r}")
    return number


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before repeating a failed Hub request; shared by the sync and async hooks.

    Transient failures are retried: HTTP 408, 429, 500, 502, 503, 504, timeouts, refused or dropped
    connections. The wait is the server's ``Retry-After`` (or ``RateLimit`` reset) in seconds when it sends
    one (capped at :data:`MAX_RETRY_AFTER`), else exponential backoff with jitter: attempt ``n`` waits a
    random time between half and all of ``min(backoff * 2 ** (n - 1), MAX_BACKOFF)``. Anything else (400,
    401, 403, 404, 409, 412, 422, ...) is final at once.

    Example::

        policy = RetryPolicy(max_retries=3, backoff=0.5)
        result = policy.retrying()(fetch_status)  # up to 4 attempts
        result = await policy.async_retrying()(afetch_status)

    :param max_retries: extra attempts after the first one (connection extra ``max_retries``).
    :param backoff: base of the exponential backoff in seconds (connection extra ``retry_backoff``).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff: float = DEFAULT_RETRY_BACKOFF

    @property
    def attempts(self) -> int:
        """Attempts a repeatable call gets in total."""
        return self.max_retries + 1

    def is_transient(self, exc: BaseException) -> bool:
        """Whether ``exc`` is worth another attempt of a request that is safe to repeat."""
        status = _status_of(exc)
        if status is not None:
            return status in RETRYABLE_STATUSES
        return isinstance(exc, _transport_errors())

    def wait_seconds(self, exc: BaseException | None, attempt_number: int) -> float:
        """Seconds to wait after failed attempt number ``attempt_number`` (1-based) that raised ``exc``."""
        told = _server_wait(exc) if exc is not None else None
        if told is not None:
            return min(told, MAX_RETRY_AFTER)
        ceiling = min(self.backoff * 2 ** (attempt_number - 1), MAX_BACKOFF)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _wait(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        return self.wait_seconds(exc, retry_state.attempt_number)

    def _tenacity_kwargs(self, attempts: int, before_sleep: Callable[[tenacity.RetryCallState], None] | None):
        return {
            "stop": tenacity.stop_after_attempt(attempts),
            "wait": self._wait,
            "retry": tenacity.retry_if_exception(self.is_transient),
            "reraise": True,
            "before_sleep": before_sleep,
        }

    def retrying(
        self,
        *,
        repeatable: bool = True,
        before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> tenacity.Retrying:
        """A ``tenacity.Retrying`` applying the policy; a single attempt when ``repeatable`` is false."""
        return tenacity.Retrying(**self._tenacity_kwargs(self.attempts if repeatable else 1, before_sleep))

    def async_retrying(
        self,
        *,
        repeatable: bool = True,
        before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> tenacity.AsyncRetrying:
        """The ``tenacity.AsyncRetrying`` twin of :meth:`retrying`."""
        return tenacity.AsyncRetrying(
            **self._tenacity_kwargs(self.attempts if repeatable else 1, before_sleep)
        )


@dataclass(frozen=True)
class HubConnectionSettings:
    """A ``huggingface_hub`` connection, validated. Build it with :meth:`from_connection`."""

    conn_id: str
    endpoint: str
    token: str | None = field(repr=False)
    namespace: str | None
    inference_endpoints_url: str
    router_url: str
    timeout: float
    retry_policy: RetryPolicy

    @classmethod
    def from_connection(cls, conn: Connection) -> HubConnectionSettings:
        """Read and check every field; masks the token before anything else can log it.

        :raises ValueError: naming the connection, the field and the bad value.
        """
        conn_id = conn.conn_id
        token = (conn.password or "").strip() or None
        if token:
            mask_secret(token)
        extras = conn.extra_dejson
        endpoint = DEFAULT_ENDPOINT
        if conn.host:
            host = conn.host.strip()
            if "://" not in host:
                host = f"https://{host}" + (f":{conn.port}" if conn.port else "")
            endpoint = _check_url(conn_id, "host (Hub endpoint)", host)
        extra = {name: _extra(extras, name) for name in CONNECTION_EXTRAS}
        namespace = extra["namespace"]
        if namespace is not None and (
            not isinstance(namespace, str) or not NAMESPACE_RE.fullmatch(namespace)
        ):
            raise ValueError(
                f"Connection {conn_id!r}: extra 'namespace' must be a Hub user or organization name; got {namespace!r}"
            )

        def url(name: str, default: str) -> str:
            value = extra[name]
            return default if value is None else _check_url(conn_id, f"extra {name!r}", value)

        def number(name: str, default: float, *, integer: bool = False, positive: bool = False) -> float:
            value = extra[name]
            return (
                default
                if value is None
                else _check_number(conn_id, name, value, integer=integer, positive=positive)
            )

        return cls(
            conn_id=conn_id,
            endpoint=endpoint,
            token=token,
            namespace=namespace,
            inference_endpoints_url=url("inference_endpoints_url", DEFAULT_INFERENCE_ENDPOINTS_URL),
            router_url=url("router_url", DEFAULT_ROUTER_URL),
            timeout=number("timeout", DEFAULT_TIMEOUT, positive=True),
            retry_policy=RetryPolicy(
                max_retries=int(number("max_retries", DEFAULT_MAX_RETRIES, integer=True)),
                backoff=number("retry_backoff", DEFAULT_RETRY_BACKOFF),
            ),
        )

    def base_url(self, base: str) -> str:
        """The URL a ``base`` name (``"hub"``, ``"endpoints"``, ``"router"``) stands for."""
        urls = {"hub": self.endpoint, "endpoints": self.inference_endpoints_url, "router": self.router_url}
        if base not in urls:
            raise ValueError(f"base must be one of {', '.join(urls)}; got {base!r}")
        return urls[base]


# -- failure classification and error mapping (shared by both hooks) ------------------------------------
@functools.cache
def _transport_errors() -> tuple[type[BaseException], ...]:
    """Network failures of ``httpx`` (async hook) and ``httpx2`` (``huggingface_hub``) worth retrying."""
    errors: list[type[BaseException]] = [
        httpx.TimeoutException,
        httpx.NetworkError,
        httpx.RemoteProtocolError,
    ]
    try:
        import httpx2
    except ImportError:  # huggingface_hub < 2 is not supported, but the async hook does not need httpx2
        pass
    else:
        errors += [httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError]
    return tuple(errors)


def _response_of(exc: BaseException | None) -> Any:
    response = getattr(exc, "response", None)
    return response if response is not None and hasattr(response, "status_code") else None


def _status_of(exc: BaseException | None) -> int | None:
    response = _response_of(exc)
    return int(response.status_code) if response is not None else None


def _server_wait(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (``RateLimit: "api";r=0;t=N`` on a 429, else ``Retry-After: N``)."""
    response = _response_of(exc)
    if response is None:
        return None
    headers = response.headers
    ratelimit = _RATELIMIT_RE.search(headers.get("ratelimit", "")) if response.status_code == 429 else None
    if ratelimit is not None and int(ratelimit["r"]) == 0:
        return float(ratelimit["t"])
    retry_after = (headers.get("retry-after") or "").strip()
    return float(retry_after) if retry_after.isdigit() else None


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


def _one_line(text: str, token: str | None) -> str:
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
    response = _response_of(exc)
    if response is None:
        if isinstance(exc, _transport_errors()):
            return HfHubError(
                _one_line(f"{what} failed: {_transport_reason(exc, timeout)}{tried}", token),
                attempts=attempts,
            )
        return None
    status = int(response.status_code)
    code = response.headers.get("x-error-code")
    detail = _server_message(exc, response) or getattr(response, "reason_phrase", "") or "no message"
    message = _one_line(f"{what} failed with HTTP {status}: {detail}{tried}", token)
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


# -- Inference Endpoints / router routing on huggingface_hub's shared session ----------------------------
@dataclass(frozen=True)
class _Route:
    inference_endpoints_url: str
    router_url: str
    timeout: float


_ROUTES: dict[str, _Route] = {}
_ROUTE_KEYS: dict[_Route, str] = {}
_ROUTES_LOCK = threading.Lock()


def _route_key(route: _Route) -> str:
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
    key = request.headers.pop(_ROUTE_HEADER, None)
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


def _ensure_route_hook() -> None:
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
def _routed_api_class() -> type[HfApi]:
    from huggingface_hub import HfApi

    class RoutedHfApi(HfApi):
        """``HfApi`` that makes sure the routing hook is on the session before building request headers."""

        def _build_hf_headers(self, *args: Any, **kwargs: Any) -> dict[str, str]:
            _ensure_route_hook()
            return super()._build_hf_headers(*args, **kwargs)

    return RoutedHfApi


# -- sync hook -----------------------------------------------------------------------------------------
class HfHubHook(
    RepoHookMixin,
    JobsHookMixin,
    EndpointsHookMixin,
    InferenceProvidersHookMixin,
    AccessHookMixin,
    WebhooksHookMixin,
    BaseHook,
):
    """Interact with the Hugging Face Hub through ``huggingface_hub.HfApi``.

    Every call made through :meth:`call` (and so every hook method) runs under the connection's
    :class:`RetryPolicy` and raises :mod:`airflow_provider_hub.exceptions` errors that name what was acted
    on. Inference Endpoints and router requests go to the connection's URLs, whatever other connections in
    the same process use.

    Example::

        hook = HfHubHook(hf_conn_id="huggingface_hub_default")
        info = hook.call("model_info", "alice/demo", subject="model alice/demo")
        ok, message = hook.test_connection()

    :param hf_conn_id: the :doc:`Hugging Face Hub connection </connection>`.
    """

    conn_name_attr = "hf_conn_id"
    default_conn_name = "huggingface_hub_default"
    conn_type = _CONN_TYPE
    hook_name = "Hugging Face Hub"

    def __init__(self, hf_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hf_conn_id = hf_conn_id

    @cached_property
    def connection(self) -> Connection:
        return self.get_connection(self.hf_conn_id)

    @cached_property
    def settings(self) -> HubConnectionSettings:
        """The connection's validated settings (token masked on first read)."""
        return HubConnectionSettings.from_connection(self.connection)

    @cached_property  # the mixins declare it as a plain attribute
    def api(self) -> HfApi:  # type: ignore[override]
        return self.get_conn()

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.settings.retry_policy

    @cached_property
    def endpoint(self) -> str:  # type: ignore[override]
        """The Hub endpoint, without a trailing ``/``."""
        return self.settings.endpoint

    @cached_property
    def namespace(self) -> str | None:  # type: ignore[override]
        """The connection's default namespace (extra ``namespace``)."""
        return self.settings.namespace

    def get_conn(self) -> HfApi:
        """A ``huggingface_hub.HfApi`` configured from the connection.

        An empty token means anonymous: no token from ``HF_TOKEN`` or the local token file is sent either.
        huggingface_hub's progress bars are turned off: a task's stderr is its log at error level, and the
        operators log their own progress lines.
        """
        from huggingface_hub.utils import disable_progress_bars

        from airflow_provider_hub import __version__

        disable_progress_bars()

        settings = self.settings
        route = _Route(settings.inference_endpoints_url, settings.router_url, settings.timeout)
        _ensure_route_hook()
        return _routed_api_class()(
            endpoint=settings.endpoint,
            token=settings.token or False,
            library_name="airflow-provider-hub",
            library_version=__version__,
            headers={_ROUTE_HEADER: _route_key(route)},
        )

    def call(
        self, method: str, /, *args: Any, idempotent: bool = True, subject: str | None = None, **kwargs: Any
    ) -> Any:
        """Call ``HfApi.<method>(*args, **kwargs)`` under the connection's retry and error policy.

        Transient failures (429, 5xx, timeouts, connection errors) are retried up to ``max_retries`` times
        only when ``idempotent`` is true. A non-idempotent call (a commit ``POST``, ``run_job``, creating a
        webhook) is attempted once: after a timeout or a 5xx the Hub may well have applied it, and repeating
        it blindly could commit twice or start a second Job. The operators reconcile instead: the commit
        engine reads the head and only commits what is still missing, ``HfRunJobOperator`` looks its Job up
        by labels before starting another.

        Methods whose requests ``huggingface_hub`` already retries itself (:data:`CLIENT_RETRIED_METHODS`)
        get no extra attempts. A method returning a generator (``list_*``, ``fetch_job_logs``) is returned
        as a generator with the same error mapping; it is never restarted (paginated listings retry each
        page inside ``huggingface_hub``).

        :param method: name of the ``HfApi`` method.
        :param idempotent: whether repeating the call cannot duplicate its effect.
        :param subject: what the call acts on (``"model alice/x@main"``, ``"Job alice/1234"``), named in errors.
        :raises HfHubNotFoundError: 404, or a missing repo, revision, file or Job.
        :raises HfHubConflictError: 409 or 412.
        :raises HfHubError: any other HTTP error, or no answer after the retries.
        """
        function = getattr(self.api, method)
        _ensure_route_hook()
        repeatable = idempotent and method not in CLIENT_RETRIED_METHODS
        retrying = self.retry_policy.retrying(
            repeatable=repeatable, before_sleep=self._log_retry(method, subject)
        )
        try:
            result = retrying(function, *args, **kwargs)
        except Exception as exc:
            self._raise_mapped(exc, method, subject, retrying.statistics.get("attempt_number", 1))
        if isinstance(result, types.GeneratorType):
            return self._mapped_generator(result, method, subject)
        return self._adopt(result)

    def test_connection(self) -> tuple[bool, str]:
        """Check the token with one ``whoami`` request (no retries); a one-line verdict.

        Tells a rejected token (401) from a timeout, an unreachable host and an anonymous connection.
        """
        try:
            settings = self.settings
        except Exception as exc:
            return False, _one_line(f"Invalid connection: {exc}", None)
        endpoint = settings.endpoint
        try:
            if not settings.token:
                return self._test_anonymous()
            retrying = self.retry_policy.retrying(repeatable=False)
            who = retrying(self.api.whoami)
        except Exception as exc:
            return False, self._test_failure(exc)
        role = ((who.get("auth") or {}).get("accessToken") or {}).get("role")
        token_kind = f"{role} token" if role else "token"
        return True, f"Connected to {endpoint} as {who.get('name')} ({token_kind})"

    def _test_anonymous(self) -> tuple[bool, str]:
        from huggingface_hub import get_session

        _ensure_route_hook()
        response = get_session().get(f"{self.endpoint}/api/whoami-v2", headers=self.api._build_hf_headers())
        if response.status_code >= 500:
            return (
                False,
                f"{self.endpoint} answered HTTP {response.status_code} (the Hub is not serving requests)",
            )
        return True, f"Anonymous connection to {self.endpoint} (no token): only public repos can be read"

    def _test_failure(self, exc: BaseException) -> str:
        endpoint, token = self.endpoint, self.settings.token
        status = _status_of(exc)
        if status == 401:
            return f"Authentication failed at {endpoint}: the token was rejected (HTTP 401)"
        if status is not None:
            mapped = map_hub_error(
                exc, action="whoami", subject=None, token=token, timeout=self.settings.timeout
            )
            return _one_line(f"{endpoint} refused the check: {mapped}", token)
        name = type(exc).__name__
        if isinstance(exc, _transport_errors()) and "Timeout" in name:
            return f"Timed out after {self.settings.timeout:g} s waiting for {endpoint} ({name})"
        if isinstance(exc, _transport_errors()) and "ConnectError" in name:
            return _one_line(f"Cannot reach {endpoint} (wrong host, or unreachable): {exc}", token)
        return _one_line(f"Connection check against {endpoint} failed: {name}: {exc}", token)

    def _log_retry(self, method: str, subject: str | None) -> Callable[[tenacity.RetryCallState], None]:
        attempts = self.retry_policy.attempts

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            status = _status_of(exc)
            reason = f"HTTP {status}" if status is not None else type(exc).__name__
            self.log.warning(
                "Hub call %s%s failed (%s), attempt %d of %d; retrying in %.1f s",
                method,
                f" on {subject}" if subject else "",
                reason,
                state.attempt_number,
                attempts,
                state.upcoming_sleep,
            )

        return before_sleep

    def _raise_mapped(self, exc: Exception, method: str, subject: str | None, attempts: int) -> NoReturn:
        settings = self.settings
        mapped = map_hub_error(
            exc,
            action=method,
            subject=subject,
            token=settings.token,
            timeout=settings.timeout,
            attempts=attempts,
        )
        if mapped is None:
            raise exc
        raise mapped from exc

    def _mapped_generator(self, results: Iterator[Any], method: str, subject: str | None) -> Iterator[Any]:
        try:
            for item in results:
                yield self._adopt(item)
        except Exception as exc:
            self._raise_mapped(exc, method, subject, 1)

    def _adopt(self, result: Any) -> Any:
        """Bind ``InferenceEndpoint`` results to this hook's ``HfApi`` and token.

        ``huggingface_hub`` gives them a fresh default ``HfApi()`` (default endpoint, implicit token from the
        environment); rebinding makes ``.fetch()``, ``.wait()``, ``.pause()``... use this connection.
        """
        if isinstance(result, list):
            return [self._adopt(item) for item in result]
        if type(result).__name__ == "InferenceEndpoint" and hasattr(result, "_api"):
            result._api = self.api
            result._token = self.settings.token or False
        return result


# -- async hook ----------------------------------------------------------------------------------------
#: One ``httpx.AsyncClient`` per event loop and connection id. Keyed weakly by the loop: a client is bound to
#: the loop it first ran on, so a new loop (a new test, a restarted triggerer) gets new clients.
_ASYNC_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
#: Requests in flight per event loop, kept below a client's connection pool (100): when a thousand triggers
#: poll at once, the surplus queues here without a deadline instead of timing out waiting for a connection.
_MAX_IN_FLIGHT = 64
_IN_FLIGHT: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
#: Held while a loop's client is built (on a worker thread), so concurrent first reads build one.
_CLIENT_BUILDS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _repo_type_plural(repo_type: str) -> str:
    """``models``, ``datasets`` or ``spaces``: the Hub API's path segment for ``repo_type``."""
    plurals = {"model": "models", "dataset": "datasets", "space": "spaces"}
    if repo_type not in plurals:
        raise ValueError(f"repo_type must be one of {', '.join(plurals)}; got {repo_type!r}")
    return plurals[repo_type]


class HfHubAsyncHook(BaseHook):
    """Async status reads for triggers, on one shared ``httpx.AsyncClient`` per process, event loop and connection.

    Same connection fields, :class:`RetryPolicy` and error mapping as :class:`HfHubHook`. Every call is a
    read or idempotent (cancelling a Job twice leaves it cancelled), so all are retried on transient failures.

    Example::

        hook = HfHubAsyncHook(hf_conn_id="huggingface_hub_default")
        job = await hook.get_job("68f0c1...")
        sha = await hook.get_repo_head("alice/demo", revision="main")

    :param hf_conn_id: the :doc:`Hugging Face Hub connection </connection>`.
    """

    conn_name_attr = "hf_conn_id"
    default_conn_name = "huggingface_hub_default"
    conn_type = _CONN_TYPE
    hook_name = "Hugging Face Hub (async)"

    def __init__(self, hf_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hf_conn_id = hf_conn_id
        self._settings: HubConnectionSettings | None = None
        self._whoami_name: str | None = None

    async def get_settings(self) -> HubConnectionSettings:
        """The connection's validated settings, fetched once per hook without blocking the event loop."""
        if self._settings is None:
            conn = await aget_connection(self.hf_conn_id)
            if conn.password:
                await amask_secret(conn.password.strip())
            self._settings = HubConnectionSettings.from_connection(conn)
        return self._settings

    async def _client(self) -> httpx.AsyncClient:
        """The shared client of the running loop and this connection; a new one is built on a worker thread."""
        # A client's open connections keep its loop alive, so the weak keys alone never let go of a
        # closed loop: drop those entries here (their sockets died with the loop).
        for closed_loop in [loop for loop in _ASYNC_CLIENTS if loop.is_closed()]:
            del _ASYNC_CLIENTS[closed_loop]
            _IN_FLIGHT.pop(closed_loop, None)
            _CLIENT_BUILDS.pop(closed_loop, None)
        loop = asyncio.get_running_loop()
        client = _ASYNC_CLIENTS.get(loop, {}).get(self.hf_conn_id)
        if client is None or client.is_closed:
            # One build per loop at a time: a thousand triggers starting together share the first client.
            async with _CLIENT_BUILDS.setdefault(loop, asyncio.Lock()):
                clients = _ASYNC_CLIENTS.setdefault(loop, {})
                client = clients.get(self.hf_conn_id)
                if client is None or client.is_closed:
                    from airflow_provider_hub import __version__

                    client = clients[self.hf_conn_id] = await new_async_client(
                        follow_redirects=True,
                        headers={
                            "user-agent": f"airflow-provider-hub/{__version__}; httpx/{httpx.__version__}"
                        },
                    )
        return client

    async def get_json(
        self,
        path_or_url: str,
        *,
        base: Literal["hub", "endpoints", "router"] = "hub",
        params: Mapping[str, Any] | None = None,
        subject: str | None = None,
    ) -> Any:
        """``GET`` a Hub, Inference Endpoints or router resource and return its JSON, under the retry policy.

        :param path_or_url: a path relative to ``base`` (``"/api/whoami-v2"``) or an absolute URL.
        :param base: which of the connection's base URLs a path is relative to.
        :param params: query parameters.
        :param subject: what is read, named in errors.
        """
        return await self._request("GET", path_or_url, base=base, params=params, subject=subject)

    async def _request(
        self,
        method: Literal["GET", "POST"],
        path_or_url: str,
        *,
        base: Literal["hub", "endpoints", "router"] = "hub",
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        subject: str | None = None,
    ) -> Any:
        settings = await self.get_settings()
        if path_or_url.startswith(("http://", "https://")):
            url = path_or_url
        else:
            url = settings.base_url(base) + "/" + path_or_url.lstrip("/")
        headers = {"authorization": f"Bearer {settings.token}"} if settings.token else {}
        client = await self._client()
        in_flight = _IN_FLIGHT.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(_MAX_IN_FLIGHT))

        async def attempt() -> Any:
            async with in_flight:
                response = await client.request(
                    method, url, params=params, data=data, headers=headers, timeout=settings.timeout
                )
            response.raise_for_status()
            return response.json() if response.content else None

        retrying = settings.retry_policy.async_retrying(
            before_sleep=self._log_retry(method, url, subject, settings)
        )
        try:
            return await retrying(attempt)
        except Exception as exc:
            mapped = map_hub_error(
                exc,
                action=f"{method} {httpx.URL(url).path}",
                subject=subject,
                token=settings.token,
                timeout=settings.timeout,
                attempts=retrying.statistics.get("attempt_number", 1),
            )
            if mapped is None:
                raise
            raise mapped from exc

    def _log_retry(
        self, method: str, url: str, subject: str | None, settings: HubConnectionSettings
    ) -> Callable[[tenacity.RetryCallState], None]:
        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            status = _status_of(exc)
            self.log.warning(
                "%s %s%s failed (%s), attempt %d of %d; retrying in %.1f s",
                method,
                httpx.URL(url).path,
                f" ({subject})" if subject else "",
                f"HTTP {status}" if status is not None else type(exc).__name__,
                state.attempt_number,
                settings.retry_policy.attempts,
                state.upcoming_sleep,
            )

        return before_sleep

    async def _namespace(self, namespace: str | None) -> str:
        """``namespace``, else the connection's default namespace, else the token's user (asked once)."""
        if namespace:
            return namespace
        settings = await self.get_settings()
        if settings.namespace:
            return settings.namespace
        if not settings.token:
            raise ValueError(
                f"Connection {self.hf_conn_id!r} has neither a token nor extra 'namespace': pass namespace"
            )
        if self._whoami_name is None:
            self._whoami_name = (await self.get_json("/api/whoami-v2", subject="the token's user"))["name"]
        return self._whoami_name

    async def get_job(self, job_id: str, namespace: str | None = None) -> dict[str, Any]:
        """The Job as the Hub's raw JSON (``GET /api/jobs/{namespace}/{job_id}``)."""
        namespace = await self._namespace(namespace)
        return await self.get_json(
            f"/api/jobs/{quote(namespace, safe='')}/{quote(job_id, safe='')}",
            subject=f"Job {namespace}/{job_id}",
        )

    async def cancel_job(self, job_id: str, namespace: str | None = None) -> None:
        """Cancel the Job (``POST /api/jobs/{namespace}/{job_id}/cancel``); a finished Job stays as it is."""
        namespace = await self._namespace(namespace)
        await self._request(
            "POST",
            f"/api/jobs/{quote(namespace, safe='')}/{quote(job_id, safe='')}/cancel",
            subject=f"Job {namespace}/{job_id}",
        )

    async def get_inference_endpoint(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The Inference Endpoint as raw JSON (``GET {inference_endpoints_url}/endpoint/{namespace}/{name}``)."""
        namespace = await self._namespace(namespace)
        return await self.get_json(
            f"/endpoint/{quote(namespace, safe='')}/{quote(name, safe='')}",
            base="endpoints",
            subject=f"Inference Endpoint {namespace}/{name}",
        )

    async def get_repo_head(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> str:
        """The commit sha ``revision`` points at: one light ``GET /api/{type}s/{repo}/revision/{rev}?expand=sha``."""
        data = await self.get_json(
            f"/api/{_repo_type_plural(repo_type)}/{repo_id}/revision/{quote(revision, safe='')}",
            params={"expand": "sha"},
            subject=f"{repo_type} {repo_id}@{revision}",
        )
        return data["sha"]

    async def get_path_info(
        self, repo_id: str, path_in_repo: str, *, repo_type: str = "model", revision: str | None = None
    ) -> dict[str, Any] | None:
        """The Hub's entry for ``path_in_repo`` at ``revision`` (``POST /api/{type}s/{repo}/paths-info/{rev}``):
        ``{"type": "file" | "directory", "path", "oid", "size", "lfs"}``, or ``None`` when there is no such path.

        :raises HfHubNotFoundError: the repo or the revision does not exist.
        """
        revision = revision or "main"
        entries = await self._request(
            "POST",
            f"/api/{_repo_type_plural(repo_type)}/{repo_id}/paths-info/{quote(revision, safe='')}",
            data={"paths": [path_in_repo]},
            subject=f"{repo_type} {repo_id}@{revision}",
        )
        return next((entry for entry in entries or [] if entry.get("path") == path_in_repo), None)

    async def get_model_provider_mapping(self, model_id: str) -> dict[str, Any]:
        """The model's Inference Providers mapping, as the Hub sends it (``{provider: {status, providerId, task, ...}}``)."""
        data = await self.get_json(
            f"/api/models/{model_id}",
            params={"expand": "inferenceProviderMapping"},
            subject=f"model {model_id}",
        )
        return data.get("inferenceProviderMapping") or {}

    @classmethod
    async def aclose_shared_clients(cls) -> None:
        """Close the shared clients of the running event loop (a triggerer shutting down, a test ending)."""
        _IN_FLIGHT.pop(asyncio.get_running_loop(), None)
        _CLIENT_BUILDS.pop(asyncio.get_running_loop(), None)
        clients = _ASYNC_CLIENTS.pop(asyncio.get_running_loop(), {})
        for client in clients.values():
            await client.aclose()
