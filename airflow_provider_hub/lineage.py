"""OpenLineage for the Hub: a repo is a dataset, a commit its version, a Job a run facet.

A Hub repo is the OpenLineage dataset ``namespace="hf://{host of the Hub}"`` (``hf://huggingface.co``, a
private Hub's host, the emulator's ``hf://127.0.0.1:PORT``), ``name="{models|datasets|spaces}/{repo_id}"``
(the path of its ``hf://`` asset), with the commit sha as its ``version`` facet. S3 objects are named as the
Amazon provider names them (``namespace="s3://{bucket}"``, ``name=key``), local folders as Airflow's ``file``
assets are (``namespace="file"``, ``name=`` the absolute path).

Three ways in, all optional: nothing here imports OpenLineage until the OpenLineage provider asks.

- The operators record what they read and wrote in :attr:`HfHubBaseOperator.lineage
  <airflow_provider_hub.operators.base.HfHubBaseOperator.lineage>` as they run; the provider reads it from
  ``get_openlineage_facets_on_complete``.
- The hook's read and write methods report to Airflow's hook lineage collector (:func:`report_repo`), so a
  ``@task`` that calls :class:`~airflow_provider_hub.hooks.hub.HfHubHook` has lineage too.
- ``hf://`` inlets and outlets are converted by :func:`convert_asset_to_openlineage` (registered under
  ``asset-uris``).

Example::

    lineage = Lineage()
    lineage.read_s3("warehouse", "exports/2026-01-05")
    lineage.wrote_repo("https://huggingface.co", "dataset", "acme/reviews", "3f9a...")
    lineage.operator_lineage()  # OperatorLineage(inputs=[s3://warehouse ...], outputs=[hf://huggingface.co ...])
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from airflow_provider_hub.utils.checks import REPO_TYPE_PLURALS

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Asset
    from openlineage.client.event_v2 import Dataset

#: The Hub an ``hf://`` asset names when nothing says which: the client's own default.
DEFAULT_ENDPOINT = "https://huggingface.co"
_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")


def hub_namespace(endpoint: str) -> str:
    """``https://huggingface.co`` → ``hf://huggingface.co``; ``http://127.0.0.1:8765`` → ``hf://127.0.0.1:8765``."""
    return f"hf://{urlsplit(endpoint).netloc or endpoint}"


@dataclass(frozen=True)
class RepoRead:
    """A repo of one Hub, at a commit when known."""

    endpoint: str
    repo_type: str
    repo_id: str
    sha: str | None = None

    def dataset(self) -> Dataset:
        from openlineage.client.event_v2 import Dataset
        from openlineage.client.facet_v2 import DatasetFacet, dataset_version_dataset

        facets: dict[str, DatasetFacet] = {}
        if self.sha:
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=self.sha)
        name = f"{REPO_TYPE_PLURALS[self.repo_type]}/{self.repo_id}"
        return Dataset(namespace=hub_namespace(self.endpoint), name=name, facets=facets)


@dataclass(frozen=True)
class S3Objects:
    """An S3 key or prefix."""

    bucket: str
    key: str

    def dataset(self) -> Dataset:
        from openlineage.client.event_v2 import Dataset

        return Dataset(namespace=f"s3://{self.bucket}", name=self.key.strip("/") or "/")


@dataclass(frozen=True)
class StoragePath:
    """A local folder (``namespace="file"``, the absolute path as name, as Airflow's ``file`` assets are named)
    or a location of another object store (``namespace="{scheme}://{bucket}"``, the key as name)."""

    namespace: str
    name: str

    @classmethod
    def of(cls, url: str) -> StoragePath | S3Objects:
        """``/data/m`` or ``file:///data/m`` → ``file``, ``/data/m``; ``s3://b/k`` as :class:`S3Objects`."""
        parts = urlsplit(url)
        if parts.scheme in ("", "file", "local"):
            return cls("file", parts.path or "/")
        if parts.scheme in ("s3", "s3a", "s3n"):
            return S3Objects(parts.netloc, parts.path)
        return cls(f"{parts.scheme}://{parts.netloc}", parts.path.strip("/") or "/")

    def dataset(self) -> Dataset:
        from openlineage.client.event_v2 import Dataset

        return Dataset(namespace=self.namespace, name=self.name)


@dataclass(frozen=True)
class JobRun:
    """A Hub Job a task ran: its id and page."""

    job_id: str
    url: str


@dataclass
class Lineage:
    """What an operator read and wrote while it ran, as plain values (no OpenLineage import)."""

    inputs: list[RepoRead | S3Objects | StoragePath] = field(default_factory=list)
    outputs: list[RepoRead | S3Objects | StoragePath] = field(default_factory=list)
    job: JobRun | None = None

    def read_repo(self, endpoint: str, repo_type: str, repo_id: str, sha: str | None = None) -> None:
        self._add(self.inputs, RepoRead(endpoint, repo_type, repo_id, sha))

    def wrote_repo(self, endpoint: str, repo_type: str, repo_id: str, sha: str | None = None) -> None:
        self._add(self.outputs, RepoRead(endpoint, repo_type, repo_id, sha))

    def read_s3(self, bucket: str, key: str) -> None:
        self._add(self.inputs, S3Objects(bucket, key))

    def wrote_s3(self, bucket: str, key: str) -> None:
        self._add(self.outputs, S3Objects(bucket, key))

    def wrote_storage(self, url: str) -> None:
        """A local folder or an object-storage URI (``s3://bucket/prefix``, ``gs://...``) written to."""
        self._add(self.outputs, StoragePath.of(url))

    def ran_job(self, job_id: str, url: str) -> None:
        self.job = JobRun(job_id, url)

    @staticmethod
    def _add(
        into: list[RepoRead | S3Objects | StoragePath], item: RepoRead | S3Objects | StoragePath
    ) -> None:
        if item not in into:
            into.append(item)

    def operator_lineage(self) -> OperatorLineage:
        from airflow.providers.openlineage.extractors import OperatorLineage

        run_facets = {}
        if self.job is not None:
            from airflow_provider_hub.lineage_facets import HfJobRunFacet

            run_facets["hfJob"] = HfJobRunFacet(jobId=self.job.job_id, url=self.job.url)
        return OperatorLineage(
            inputs=[item.dataset() for item in self.inputs],
            outputs=[item.dataset() for item in self.outputs],
            run_facets=run_facets,
        )


def report_repo(
    hook: Any, direction: Literal["input", "output"], repo_type: str, repo_id: str, revision: str | None
) -> None:
    """Tell Airflow's hook lineage collector that ``hook`` read or wrote a repo (at ``revision``, when it is a
    commit sha); a no-op unless a lineage reader (the OpenLineage provider) is installed."""
    from airflow.sdk.lineage import get_hook_lineage_collector

    collector = get_hook_lineage_collector()
    add = collector.add_input_asset if direction == "input" else collector.add_output_asset
    extra: dict[str, Any] | None = (
        {"revision": revision} if revision and _COMMIT_SHA.match(revision) else None
    )
    add(context=hook, uri=f"hf://{REPO_TYPE_PLURALS[repo_type]}/{repo_id}", asset_extra=extra)


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Dataset:
    """An ``hf://`` asset as an OpenLineage dataset (the ``asset-uris`` converter).

    The Hub is the reporting hook's (``lineage_context``) when it is ours, else ``HF_ENDPOINT`` or the public
    Hub; the version is the asset's ``extra["revision"]``, when given.
    """
    from airflow_provider_hub.assets import parse_hf_uri
    from airflow_provider_hub.hooks.hub import HfHubHook

    repo_type, repo_id, _ = parse_hf_uri(asset.uri)
    if isinstance(lineage_context, HfHubHook):
        endpoint = lineage_context.endpoint
    else:
        endpoint = os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
    revision = (asset.extra or {}).get("revision")
    return RepoRead(endpoint, repo_type, repo_id, revision if isinstance(revision, str) else None).dataset()
