"""The validated fields of a ``huggingface_hub`` Airflow connection, shared by the sync and async hooks."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.sdk.log import mask_secret

from airflow_provider_hub.hooks.retry import DEFAULT_MAX_RETRIES, DEFAULT_RETRY_BACKOFF, RetryPolicy
from airflow_provider_hub.utils.checks import check_namespace

if TYPE_CHECKING:
    from airflow.sdk import Connection

CONN_TYPE = "huggingface_hub"
DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_INFERENCE_ENDPOINTS_URL = "https://api.endpoints.huggingface.cloud/v2"
DEFAULT_ROUTER_URL = "https://router.huggingface.co"
DEFAULT_TIMEOUT = 30.0
#: The connection extras the hooks read (each one a field of the connection form).
CONNECTION_EXTRAS = (
    "namespace",
    "inference_endpoints_url",
    "router_url",
    "timeout",
    "max_retries",
    "retry_backoff",
)

#: What Airflow leaves of a ``huggingface_hub://...`` URI. A URI scheme cannot contain "_", so Airflow parses
#: it as having no scheme: an empty connection type, and the rest of the URI (minus its first "h" and the
#: ":") in ``schema``, token included.
_UNDERSCORE_URI_REMAINS = re.compile(r"^h?uggingface_hub:?//")


def check_connection_type(conn: Connection) -> None:
    """Refuse what Airflow made of a ``huggingface_hub://`` URI, which would otherwise read as an anonymous
    connection to huggingface.co.

    :raises ValueError: saying what to write instead; the parsed fields are not quoted (they hold the token).
    """
    if conn.conn_type:
        return
    if any(_UNDERSCORE_URI_REMAINS.match(value or "") for value in (conn.schema, conn.host)):
        raise ValueError(
            f"Connection {conn.conn_id!r} has no connection type: it was given as a URI starting with "
            "'huggingface_hub://', which Airflow cannot parse (a URI scheme cannot contain '_'). Write the "
            "scheme with a hyphen, 'huggingface-hub://:TOKEN@HOST?namespace=NAME', or use the JSON form "
            '\'{"conn_type": "huggingface_hub", "password": "TOKEN", "host": "HOST"}\''
        )


def _extra(extras: Mapping[str, Any], name: str) -> Any:
    """An extra by its plain name, else by the ``extra__huggingface_hub__<name>`` form some UIs store."""
    for key in (name, f"extra__{CONN_TYPE}__{name}"):
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
class HubConnectionSettings:
    """A ``huggingface_hub`` connection, validated. Build it with :meth:`from_connection`.

    Example::

        settings = HubConnectionSettings.from_connection(BaseHook.get_connection("huggingface_hub_default"))
        settings.base_url("endpoints")  # "https://api.endpoints.huggingface.cloud/v2" unless the extra says
        settings.retry_policy.attempts  # max_retries + 1
    """

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

        :raises ValueError: naming the connection, the field and the bad value; or, for a connection given as
            a ``huggingface_hub://`` URI, saying what to write instead.
        """
        check_connection_type(conn)
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
        if namespace is not None:
            check_namespace(namespace, f"Connection {conn_id!r}: extra 'namespace'")

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

    def client_credentials(self) -> dict[str, Any]:
        """The ``endpoint`` and ``token`` arguments of every ``huggingface_hub`` client built from the connection
        (``HfApi``, ``HfFileSystem``): the one place they are derived, so each client gets the stripped token.

        ``token=False`` for an anonymous connection: the client then sends no token from ``HF_TOKEN`` or the
        local token file either.
        """
        return {"endpoint": self.endpoint, "token": self.token or False}

    def base_url(self, base: str) -> str:
        """The URL a ``base`` name (``"hub"``, ``"endpoints"``, ``"router"``) stands for."""
        urls = {"hub": self.endpoint, "endpoints": self.inference_endpoints_url, "router": self.router_url}
        if base not in urls:
            raise ValueError(f"base must be one of {', '.join(urls)}; got {base!r}")
        return urls[base]
