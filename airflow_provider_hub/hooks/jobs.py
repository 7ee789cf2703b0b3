"""``HfHubHook`` methods for Hub Jobs: run, inspect, find by labels, cancel, read logs.

Every method takes an explicit ``namespace`` and resolves a missing one once (connection extra
``namespace``, else ``whoami``): ``huggingface_hub.list_jobs`` would otherwise ask ``whoami`` of
``huggingface_hub.constants.ENDPOINT`` rather than of the connection's endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.hooks.host import HubArea

if TYPE_CHECKING:
    from huggingface_hub import JobInfo


def job_url(endpoint: str, namespace: str, job_id: str) -> str:
    """The Job's page on the Hub."""
    return f"{endpoint.rstrip('/')}/jobs/{namespace}/{job_id}"


def job_summary(job: JobInfo | Mapping[str, Any], endpoint: str) -> dict[str, Any]:
    """A plain dict for XCom and trigger events from a ``JobInfo`` or the Hub's raw Job JSON."""
    if isinstance(job, Mapping):
        namespace = str((job.get("owner") or {}).get("name"))
        status = job.get("status") or {}
        job_id, stage, message = job["id"], status.get("stage"), status.get("message")
        flavor, labels = job.get("flavor"), job.get("labels") or {}
    else:
        namespace, job_id = job.owner.name, job.id
        stage, message = job.status.stage, job.status.message
        flavor, labels = job.flavor, job.labels or {}
    return {
        "job_id": job_id,
        "namespace": namespace,
        "url": job_url(endpoint, namespace, job_id),
        "stage": str(getattr(stage, "value", stage)),
        "message": message,
        "flavor": str(getattr(flavor, "value", flavor)) if flavor else None,
        "labels": dict(labels),
    }


class JobsHookMixin(HubArea):
    """``HfHubHook``'s Jobs methods.

    Example::

        job = hook.run_job(image="python:3.12", command=["python", "-c", "print(1)"], labels={"run": "42"})
        hook.job_summary(hook.get_job(job.id))["stage"]
    """

    def job_namespace(self, namespace: str | None = None) -> str:
        """``namespace``, else the connection's default namespace, else the token's user."""
        return self.resolve_namespace(namespace)

    def run_job(
        self, *, image: str, command: list[str], namespace: str | None = None, **kwargs: Any
    ) -> JobInfo:
        """Start a Job (``HfApi.run_job``). Never retried: a repeated ``POST`` would start a second Job."""
        namespace = self.job_namespace(namespace)
        return self.call(
            "run_job",
            image=image,
            command=command,
            namespace=namespace,
            idempotent=False,
            subject=f"Job in {namespace}",
            **kwargs,
        )

    def run_uv_job(self, *, script: str, namespace: str | None = None, **kwargs: Any) -> JobInfo:
        """Start a uv script Job (``HfApi.run_uv_job``); ``script`` must be a URL here (see the operator)."""
        namespace = self.job_namespace(namespace)
        return self.call(
            "run_uv_job",
            script=script,
            namespace=namespace,
            idempotent=False,
            subject=f"Job in {namespace}",
            **kwargs,
        )

    def get_job(self, job_id: str, namespace: str | None = None) -> JobInfo:
        """The Job's current state (``HfApi.inspect_job``)."""
        namespace = self.job_namespace(namespace)
        return self.call(
            "inspect_job", job_id=job_id, namespace=namespace, subject=f"Job {namespace}/{job_id}"
        )

    def cancel_job(self, job_id: str, namespace: str | None = None) -> None:
        """Cancel the Job; cancelling a finished Job is a no-op on the Hub, so this is safe to repeat."""
        namespace = self.job_namespace(namespace)
        self.call("cancel_job", job_id=job_id, namespace=namespace, subject=f"Job {namespace}/{job_id}")

    def find_jobs(
        self, *, labels: Mapping[str, str], namespace: str | None = None, stages: list[str] | None = None
    ) -> list[JobInfo]:
        """Jobs of ``namespace`` carrying every label of ``labels``, newest first."""
        namespace = self.job_namespace(namespace)
        jobs = list(
            self.call(
                "list_jobs",
                labels=dict(labels),
                status=stages,
                namespace=namespace,
                subject=f"Jobs of {namespace}",
            )
        )
        return sorted(
            jobs, key=lambda job: job.created_at.timestamp() if job.created_at else 0.0, reverse=True
        )

    def job_log_lines(
        self, job_id: str, namespace: str | None = None, *, follow: bool = False
    ) -> Iterator[str]:
        """The Job's log lines from the first one; with ``follow`` they keep coming until the Job ends."""
        namespace = self.job_namespace(namespace)
        yield from self.call(
            "fetch_job_logs",
            job_id=job_id,
            namespace=namespace,
            follow=follow,
            subject=f"Job {namespace}/{job_id}",
        )

    def job_summary(self, job: JobInfo | Mapping[str, Any]) -> dict[str, Any]:
        """:func:`job_summary` with this connection's endpoint."""
        return job_summary(job, self.endpoint)
