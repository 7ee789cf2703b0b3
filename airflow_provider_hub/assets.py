"""``hf://`` assets: a Hub repository as an Airflow asset.

``hf://models/acme/sentiment``, ``hf://datasets/acme/reviews`` and ``hf://spaces/acme/demo`` name a repo.
The publishing operators put the commit they made (or found) on the asset event as
``extra={"revision": "<sha>", ...}``, so a DAG scheduled on the asset knows which revision to read.

Registered under ``asset-uris`` in the provider info: Airflow calls :func:`sanitize_uri` for every
``Asset("hf://...")``, so a malformed repo URI fails when the DAG is parsed, not when it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult

from airflow_provider_hub.utils.checks import REPO_TYPE_PLURALS, check_repo_id, check_repo_type

if TYPE_CHECKING:
    from airflow.sdk import Asset, AssetWatcher

SCHEME = "hf"
_TYPE_BY_PLURAL = {plural: repo_type for repo_type, plural in REPO_TYPE_PLURALS.items()}


def hf_asset(
    repo_id: str,
    repo_type: str = "model",
    *,
    extra: dict[str, Any] | None = None,
    watchers: list[AssetWatcher] | None = None,
) -> Asset:
    """The asset of a Hub repo: ``Asset("hf://{models|datasets|spaces}/{repo_id}")``.

    Example::

        reviews = hf_asset("acme/reviews", "dataset")
        with DAG("train", schedule=[reviews]): ...

        # Started by the Hub's changes too, not only by DAGs that publish the repo:
        watched = hf_asset(
            "acme/reviews", "dataset",
            watchers=[AssetWatcher(name="reviews_head", trigger=HfRepoCommitTrigger(repo_id="acme/reviews",
                                                                                    repo_type="dataset"))],
        )

    :param repo_id: ``namespace/name``.
    :param repo_type: ``model``, ``dataset`` or ``space``.
    :param extra: the asset's ``extra``.
    :param watchers: ``AssetWatcher`` instances whose event triggers
        (:class:`~airflow_provider_hub.triggers.webhooks.HfWebhookTrigger`,
        :class:`~airflow_provider_hub.triggers.webhooks.HfRepoCommitTrigger`) start the DAGs scheduled on it.
    :raises ValueError: on a malformed repo id or an unknown repo type.
    """
    from airflow.sdk import Asset

    check_repo_type(repo_type)
    check_repo_id(repo_id, require_namespace=True)
    return Asset(
        uri=f"{SCHEME}://{REPO_TYPE_PLURALS[repo_type]}/{repo_id}", extra=extra or {}, watchers=watchers or []
    )


def parse_hf_uri(uri: str) -> tuple[str, str, str]:
    """``hf://datasets/acme/reviews/data/x.parquet`` → ``("dataset", "acme/reviews", "data/x.parquet")``."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if parts.scheme != SCHEME:
        raise ValueError(f"Not an hf:// URI: {uri!r}")
    repo_type = _TYPE_BY_PLURAL.get(parts.netloc)
    if repo_type is None:
        raise ValueError(
            f"hf:// URI {uri!r} must start with hf://models/, hf://datasets/ or hf://spaces/; got {parts.netloc!r}"
        )
    segments = parts.path.strip("/").split("/")
    if len(segments) < 2:
        raise ValueError(f"hf:// URI {uri!r} must name a repo as <namespace>/<name>")
    return repo_type, f"{segments[0]}/{segments[1]}", "/".join(segments[2:])


def sanitize_uri(parts: SplitResult) -> SplitResult:
    """Validate and normalise an ``hf://`` asset URI (Airflow's ``asset-uris`` handler).

    The URI names exactly one repo: ``hf://<models|datasets|spaces>/<namespace>/<name>``. Query and
    fragment are not part of an asset's identity and are dropped.

    :raises ValueError: on an unknown repo type or a malformed repo id, naming the URI.
    """
    uri = parts.geturl()
    if parts.netloc not in _TYPE_BY_PLURAL:
        raise ValueError(
            f"hf:// asset URI {uri!r}: the first part must be models, datasets or spaces; got {parts.netloc!r}"
        )
    segments = parts.path.strip("/").split("/")
    if len(segments) != 2:
        raise ValueError(f"hf:// asset URI {uri!r} must be hf://{parts.netloc}/<namespace>/<name> (one repo)")
    try:
        repo_id = check_repo_id("/".join(segments), "repo id", require_namespace=True)
    except ValueError as exc:
        raise ValueError(f"hf:// asset URI {uri!r}: {exc}") from None
    return parts._replace(path=f"/{repo_id}", query="", fragment="")


def create_asset(*, path: str, extra: dict[str, Any] | None = None) -> Asset:
    """Airflow's ``asset-uris`` factory: ``path`` is ``<models|datasets|spaces>/<namespace>/<name>``
    (``hf://`` optional)."""
    from airflow.sdk import Asset

    uri = path if path.startswith(f"{SCHEME}://") else f"{SCHEME}://{path.lstrip('/')}"
    return Asset(uri=uri, extra=extra or {})
