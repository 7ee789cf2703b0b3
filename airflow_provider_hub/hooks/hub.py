"""``HfHubHook`` and ``HfHubAsyncHook``: the authenticated doors to the Hugging Face Hub.

Both read one Airflow connection (:mod:`~airflow_provider_hub.hooks.settings`), retry under its
:mod:`~airflow_provider_hub.hooks.retry` policy and map Hub failures to :mod:`airflow_provider_hub.exceptions`
the same way (:mod:`~airflow_provider_hub.hooks.errors`). ``HfHubHook``'s methods for each Hub area live in
the area's module (:mod:`~airflow_provider_hub.hooks.repo`, ``jobs``, ``endpoints``, ``access``,
``webhooks``, ``inference_providers``); its Inference Endpoints and router requests are routed per
connection by :mod:`~airflow_provider_hub.hooks.routing`.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from airflow.sdk import BaseHook

from airflow_provider_hub._offloop import aget_connection, amask_secret
from airflow_provider_hub.hooks.access import AccessHookMixin
from airflow_provider_hub.hooks.async_clients import aclose_loop_clients, in_flight_limit, shared_client
from airflow_provider_hub.hooks.collections import CollectionsHookMixin
from airflow_provider_hub.hooks.discussions import DiscussionsHookMixin
from airflow_provider_hub.hooks.endpoints import EndpointsHookMixin
from airflow_provider_hub.hooks.errors import map_hub_error, one_line
from airflow_provider_hub.hooks.inference_providers import InferenceProvidersHookMixin
from airflow_provider_hub.hooks.jobs import JobsHookMixin
from airflow_provider_hub.hooks.repo import RepoHookMixin
from airflow_provider_hub.hooks.retry import RetryPolicy, status_of, transport_errors
from airflow_provider_hub.hooks.routing import (
    ROUTE_HEADER,
    Route,
    ensure_route_hook,
    route_key,
    routed_api_class,
)
from airflow_provider_hub.hooks.settings import CONN_TYPE, HubConnectionSettings
from airflow_provider_hub.hooks.shared_polls import (
    ACTIVE_JOBS,
    INFERENCE_ENDPOINTS,
    OPEN_PULL_REQUESTS,
    SPACE_RUNTIMES,
    shared_poll,
)
from airflow_provider_hub.hooks.spaces import SpacesHookMixin
from airflow_provider_hub.hooks.webhooks import WebhooksHookMixin
from airflow_provider_hub.utils.checks import (
    DEFAULT_CONN_ID,
    REPO_TYPE_PLURALS,
    check_namespace,
    check_repo_type,
)

if TYPE_CHECKING:
    from airflow.sdk import Connection
    from huggingface_hub import HfApi

T = TypeVar("T")

#: ``HfApi`` methods whose every request already goes through ``huggingface_hub.utils.http_backoff``
#: (1 + 5 attempts, waits 1-8 s, ``Retry-After`` honoured): ``call`` adds no attempts of its own on top.
#: Generator methods (``list_*``, ``fetch_job_logs``) are not listed: ``call`` never repeats a generator.
#: ``hf_hub_download`` is not listed either: its metadata ``HEAD`` is sent once (``retry_on_errors=False``, so
#: that an offline client falls back to its cache at once), so a 5xx there would fail the download for good;
#: ``call`` retries it under the connection's policy (only its body ``GET`` has the client's retries too).
CLIENT_RETRIED_METHODS = frozenset(
    {
        "snapshot_download",
        "get_safetensors_metadata",
        "preupload_lfs_files",
        "get_bucket_paths_info",
        "download_bucket_files",
        "batch_bucket_files",
    }
)


class HfHubHook(
    RepoHookMixin,
    DiscussionsHookMixin,
    CollectionsHookMixin,
    SpacesHookMixin,
    JobsHookMixin,
    EndpointsHookMixin,
    InferenceProvidersHookMixin,
    AccessHookMixin,
    WebhooksHookMixin,
    BaseHook,
):
    """Interact with the Hugging Face Hub through ``huggingface_hub.HfApi``.

    Every call made through :meth:`call` (and so every hook method) runs under the connection's
    :class:`~airflow_provider_hub.hooks.retry.RetryPolicy` and raises :mod:`airflow_provider_hub.exceptions`
    errors that name what was acted on. Inference Endpoints and router requests go to the connection's URLs, whatever other connections in
    the same process use.

    Example::

        hook = HfHubHook(hf_conn_id="huggingface_hub_default")
        info = hook.call("model_info", "alice/demo", subject="model alice/demo")
        ok, message = hook.test_connection()

    :param hf_conn_id: the :doc:`Hugging Face Hub connection </connection>`.
    """

    conn_name_attr = "hf_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Hugging Face Hub"

    def __init__(self, hf_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hf_conn_id = hf_conn_id
        self._whoami_name: str | None = None

    @cached_property
    def connection(self) -> Connection:
        return self.get_connection(self.hf_conn_id)

    @cached_property
    def settings(self) -> HubConnectionSettings:
        """The connection's validated settings (token masked on first read)."""
        return HubConnectionSettings.from_connection(self.connection)

    @cached_property
    def api(self) -> HfApi:
        return self.get_conn()

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.settings.retry_policy

    @cached_property
    def endpoint(self) -> str:
        """The Hub endpoint, without a trailing ``/``."""
        return self.settings.endpoint

    @cached_property
    def namespace(self) -> str | None:
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
        route = Route(settings.inference_endpoints_url, settings.router_url, settings.timeout)
        ensure_route_hook()
        return routed_api_class()(
            **settings.client_credentials(),
            library_name="airflow-provider-hub",
            library_version=__version__,
            headers={ROUTE_HEADER: route_key(route)},
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
        get no extra attempts, nor does a call made inside an attempt of a retried whole (the commit
        engine's "did it land?" check): retries never nest. A method returning a generator (``list_*``, ``fetch_job_logs``) is returned
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
        ensure_route_hook()
        result = self.run_retried(
            lambda: function(*args, **kwargs),
            action=method,
            subject=subject,
            repeatable=idempotent and method not in CLIENT_RETRIED_METHODS,
        )
        if isinstance(result, types.GeneratorType):
            return self._mapped_generator(result, method, subject)
        return self._adopt(result)

    def run_retried(
        self, attempt: Callable[[], T], *, action: str, subject: str | None, repeatable: bool = True
    ) -> T:
        """``attempt()`` under the connection's retry policy, its failure raised as a provider error.

        :param action: what ``attempt`` does (``"model_info"``, ``"GET /v1/models"``), named in logs and errors.
        :param repeatable: whether repeating ``attempt`` cannot duplicate its effect.
        """
        retrying = self.retry_policy.retrying(
            repeatable=repeatable,
            before_sleep=self.retry_policy.log_before_retry(
                self.log, f"Hub call {action}" + (f" on {subject}" if subject else "")
            ),
        )
        try:
            return retrying(attempt)
        except Exception as exc:
            self._raise_mapped(exc, action, subject, retrying.statistics.get("attempt_number", 1))

    def resolve_namespace(self, namespace: str | None) -> str:
        """``namespace``, else the connection's default namespace, else the token's user (asked once).

        :raises ValueError: for a ``namespace`` that cannot be a user or organization, before any request.
        """
        if namespace:
            # It becomes a URL path segment: a '/' or a space would address another resource or fail obscurely.
            return check_namespace(namespace)
        if self.namespace:
            return self.namespace
        if self._whoami_name is None:
            self._whoami_name = self.call("whoami", subject="the token's user")["name"]
        return self._whoami_name

    def test_connection(self) -> tuple[bool, str]:
        """Check the token with one ``whoami`` request (no retries); a one-line verdict.

        Tells a rejected token (401) from a timeout, an unreachable host and an anonymous connection.
        """
        try:
            settings = self.settings
        except Exception as exc:
            return False, one_line(f"Invalid connection: {exc}", None)
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

        ensure_route_hook()
        response = get_session().get(f"{self.endpoint}/api/whoami-v2", headers=self.api._build_hf_headers())
        if response.status_code >= 500:
            return (
                False,
                f"{self.endpoint} answered HTTP {response.status_code} (the Hub is not serving requests)",
            )
        return True, f"Anonymous connection to {self.endpoint} (no token): only public repos can be read"

    def _test_failure(self, exc: BaseException) -> str:
        endpoint, token = self.endpoint, self.settings.token
        status = status_of(exc)
        if status == 401:
            return f"Authentication failed at {endpoint}: the token was rejected (HTTP 401)"
        if status is not None:
            mapped = map_hub_error(
                exc, action="whoami", subject=None, token=token, timeout=self.settings.timeout
            )
            return one_line(f"{endpoint} refused the check: {mapped}", token)
        name = type(exc).__name__
        if isinstance(exc, transport_errors()) and "Timeout" in name:
            return f"Timed out after {self.settings.timeout:g} s waiting for {endpoint} ({name})"
        if isinstance(exc, transport_errors()) and "ConnectError" in name:
            return one_line(f"Cannot reach {endpoint} (wrong host, or unreachable): {exc}", token)
        return one_line(f"Connection check against {endpoint} failed: {name}: {exc}", token)

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


class HfHubAsyncHook(BaseHook):
    """Async status reads for triggers, on one shared ``httpx.AsyncClient`` per process, event loop and connection.

    Same connection fields, :class:`~airflow_provider_hub.hooks.retry.RetryPolicy` and error mapping as
    :class:`HfHubHook`. Every call is a read or idempotent (cancelling a Job twice leaves it cancelled), so
    all are retried on transient failures.

    Example::

        hook = HfHubAsyncHook(hf_conn_id="huggingface_hub_default")
        job = await hook.get_job("68f0c1...")
        sha = await hook.get_repo_head("alice/demo", revision="main")

    :param hf_conn_id: the :doc:`Hugging Face Hub connection </connection>`.
    """

    conn_name_attr = "hf_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
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
        return await shared_client(self.hf_conn_id)

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

    async def get_pages(
        self,
        path_or_url: str,
        *,
        base: Literal["hub", "endpoints", "router"] = "hub",
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        subject: str | None = None,
    ) -> AsyncIterator[Any]:
        """The JSON of each page of a listing that links its next page (``Link: <url>; rel="next"``), as
        ``huggingface_hub``'s ``paginate`` follows it: the next URL is requested as given. Each page is one
        request under the retry policy; a failed page ends the iteration with its error.

        Example::

            async for page in hook.get_pages("/api/jobs/alice", params=[("stage", "RUNNING")]):
                running += page
        """
        url: str | None = path_or_url
        while url is not None:
            response = await self._send("GET", url, base=base, params=params, subject=subject)
            yield response.json()
            url, params = response.links.get("next", {}).get("url"), None

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
        response = await self._send(method, path_or_url, base=base, params=params, data=data, subject=subject)
        return response.json() if response.content else None

    async def _send(
        self,
        method: Literal["GET", "POST"],
        path_or_url: str,
        *,
        base: Literal["hub", "endpoints", "router"] = "hub",
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        data: Mapping[str, Any] | None = None,
        subject: str | None = None,
    ) -> httpx.Response:
        """One request under the retry policy; its failure raised as a provider error."""
        settings = await self.get_settings()
        if path_or_url.startswith(("http://", "https://")):
            url = path_or_url
        else:
            url = settings.base_url(base) + "/" + path_or_url.lstrip("/")
        headers = {"authorization": f"Bearer {settings.token}"} if settings.token else {}
        client = await self._client()
        in_flight = in_flight_limit()

        async def attempt() -> httpx.Response:
            async with in_flight:
                response = await client.request(
                    method, url, params=params, data=data, headers=headers, timeout=settings.timeout
                )
            response.raise_for_status()
            return response

        # urlsplit, not httpx.URL: this runs for every poll of every trigger, and httpx.URL parses for
        # ~10 us, more than the rest of this method's own work.
        action = f"{method} {urlsplit(url).path}"
        retrying = settings.retry_policy.async_retrying(
            before_sleep=settings.retry_policy.log_before_retry(
                self.log, action + (f" ({subject})" if subject else "")
            )
        )
        try:
            return await retrying(attempt)
        except Exception as exc:
            mapped = map_hub_error(
                exc,
                action=action,
                subject=subject,
                token=settings.token,
                timeout=settings.timeout,
                attempts=retrying.statistics.get("attempt_number", 1),
            )
            if mapped is None:
                raise
            raise mapped from exc

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

    async def poll_job(self, job_id: str, namespace: str | None = None, *, interval: float) -> dict[str, Any]:
        """The Job as :meth:`get_job` reads it, taken from the namespace's listing of active Jobs shared by the
        triggers polling every ``interval`` seconds (:mod:`~airflow_provider_hub.hooks.shared_polls`); a Job
        the listing does not show (it ended, or does not exist) is read alone. Returns at the poll's next
        listing."""
        namespace = await self._namespace(namespace)
        entry = await shared_poll(self, ACTIVE_JOBS, namespace, interval=interval).read(job_id)
        return entry if entry is not None else await self.get_job(job_id, namespace)

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

    async def poll_inference_endpoint(
        self, name: str, namespace: str | None = None, *, interval: float
    ) -> dict[str, Any]:
        """The Endpoint as :meth:`get_inference_endpoint` reads it, taken from the namespace's listing shared by
        the triggers polling every ``interval`` seconds (:mod:`~airflow_provider_hub.hooks.shared_polls`)."""
        namespace = await self._namespace(namespace)
        entry = await shared_poll(self, INFERENCE_ENDPOINTS, namespace, interval=interval).read(name)
        return entry if entry is not None else await self.get_inference_endpoint(name, namespace)

    async def get_repo_head(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> str:
        """The commit sha ``revision`` points at: one light ``GET /api/{type}s/{repo}/revision/{rev}?expand=sha``."""
        data = await self.get_json(
            f"/api/{REPO_TYPE_PLURALS[check_repo_type(repo_type)]}/{repo_id}/revision/{quote(revision, safe='')}",
            params={"expand": "sha"},
            subject=f"{repo_type} {repo_id}@{revision}",
        )
        return data["sha"]

    async def get_discussion(self, repo_id: str, num: int, *, repo_type: str = "model") -> dict[str, Any]:
        """A discussion or pull request as the Hub's raw JSON (``GET /api/{type}s/{repo}/discussions/{num}``):
        ``{"num", "title", "status", "isPullRequest", "changes": {"base", "mergeCommitId"}, ...}``."""
        return await self.get_json(
            f"/api/{REPO_TYPE_PLURALS[check_repo_type(repo_type)]}/{repo_id}/discussions/{int(num)}",
            subject=f"discussion #{num} of {repo_type} {repo_id}",
        )

    async def poll_pull_request(
        self, repo_id: str, num: int, *, repo_type: str = "model", interval: float
    ) -> dict[str, Any]:
        """The pull request as :meth:`get_discussion` reads it while it is open (the entry of the repo's listing
        of open pull requests shared by the triggers polling every ``interval`` seconds:
        :mod:`~airflow_provider_hub.hooks.shared_polls`), its details once it is not (merged, closed)."""
        scope = f"{REPO_TYPE_PLURALS[check_repo_type(repo_type)]}/{repo_id}"
        entry = await shared_poll(self, OPEN_PULL_REQUESTS, scope, interval=interval).read(str(int(num)))
        return entry if entry is not None else await self.get_discussion(repo_id, num, repo_type=repo_type)

    async def poll_space_runtime(self, repo_id: str, *, interval: float) -> dict[str, Any]:
        """The Space's runtime as :meth:`get_space_runtime` reads it, taken from the listing of its author's
        Spaces shared by the triggers polling every ``interval`` seconds
        (:mod:`~airflow_provider_hub.hooks.shared_polls`)."""
        author = repo_id.split("/", 1)[0]
        entry = await shared_poll(self, SPACE_RUNTIMES, author, interval=interval).read(repo_id)
        return entry["runtime"] if entry is not None else await self.get_space_runtime(repo_id)

    async def get_space_runtime(self, repo_id: str) -> dict[str, Any]:
        """A Space's runtime as the Hub's raw JSON (``GET /api/spaces/{repo}/runtime``): ``{"stage", "hardware",
        "errorMessage", ...}``."""
        return await self.get_json(f"/api/spaces/{repo_id}/runtime", subject=f"Space {repo_id}")

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
            f"/api/{REPO_TYPE_PLURALS[check_repo_type(repo_type)]}/{repo_id}/paths-info/{quote(revision, safe='')}",
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
        await aclose_loop_clients()
