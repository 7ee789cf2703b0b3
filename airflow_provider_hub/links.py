"""Extra links on task instances: the repo, commit, discussion, Space, Job and Inference Endpoint pages on the Hub.

Operators persist the URL in XCom while they run (``Hf*Link.persist(context, url)``); Airflow 3
renders links from XCom, so a link shows on failed and deferred tasks too.

An Airflow 3 worker evaluates every declared link at the end of each task (and at each deferral),
whether or not the task got as far as storing it. Reading an XCom that does not exist makes the
Execution API client log ``[error] XCom not found``, so :meth:`_XComUrlLink.get_link` never asks for
one that cannot be there: a task that starts (not resumes) has its XComs cleared first, so its links are
the ones this process persisted, which are remembered here; only a task resumed from a deferral reads
the XCom, after a count (which reports absence quietly) says it exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

#: ``{task instance try: {xcom key: url}}`` for the links this process persisted.
_PERSISTED: dict[tuple[Any, ...], dict[str, str]] = {}


def _try_of(ti: Any) -> tuple[Any, ...]:
    """What identifies one try of a task instance (a RuntimeTaskInstance or a TaskInstanceKey)."""
    map_index = getattr(ti, "map_index", None)
    return (
        getattr(ti, "dag_id", None),
        getattr(ti, "run_id", None),
        getattr(ti, "task_id", None),
        -1 if map_index is None else map_index,
        getattr(ti, "try_number", None),
    )


def _started_fresh(ti: Any) -> bool:
    """True for a task instance the worker started (not resumed from a deferral).

    The Execution API clears a task instance's XComs when it starts, unless it resumes from a deferral;
    ``ti`` is the worker's RuntimeTaskInstance there, which carries the server's run context.
    """
    run_context = getattr(ti, "_ti_context_from_server", None)
    return run_context is not None and not getattr(run_context, "next_method", None)


def _stored_url(key: str, ti: Any) -> str:
    """The URL stored under ``key`` for ``ti``, or ``""``, without an error-level log when there is none."""
    from airflow.sdk.execution_time.comms import GetXComCount, XComCountResponse
    from airflow.sdk.execution_time.task_runner import SUPERVISOR_COMMS
    from airflow.sdk.execution_time.xcom import XCom

    # HEAD answers a count (0 when absent); GET answers 404, which the client logs as an error.
    count = SUPERVISOR_COMMS.send(
        GetXComCount(key=key, dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id)
    )
    if not isinstance(count, XComCountResponse) or count.len == 0:
        return ""
    return XCom.get_value(key=key, ti_key=ti) or ""


class _XComUrlLink(BaseOperatorLink):
    """A link whose URL the operator stored in XCom under :attr:`key`."""

    key: ClassVar[str]

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        persisted = _PERSISTED.get(_try_of(ti_key), {})
        if self.key in persisted:
            return persisted[self.key]
        if _started_fresh(ti_key):
            return ""  # its XComs were cleared when it started, and this process stored none under key
        return _stored_url(self.key, ti_key)

    @classmethod
    def persist(cls, context: Any, url: str | None) -> None:
        """Store ``url`` for this link on the running task instance."""
        if url:
            ti = context["ti"]
            ti.xcom_push(key=cls.key, value=url)
            _PERSISTED.setdefault(_try_of(ti), {})[cls.key] = url


class HfRepoLink(_XComUrlLink):
    """The repository page on the Hub."""

    name = "Hugging Face repo"
    key = "hf_repo_url"


class HfCommitLink(_XComUrlLink):
    """The commit (or pull request) page the task created."""

    name = "Hugging Face commit"
    key = "hf_commit_url"


class HfJobLink(_XComUrlLink):
    """The Hub Job page."""

    name = "Hugging Face Job"
    key = "hf_job_url"


class HfDiscussionLink(_XComUrlLink):
    """The discussion or pull request page."""

    name = "Hugging Face discussion"
    key = "hf_discussion_url"


class HfSpaceLink(_XComUrlLink):
    """The Space's page."""

    name = "Hugging Face Space"
    key = "hf_space_url"


class HfInferenceEndpointLink(_XComUrlLink):
    """The Inference Endpoint page."""

    name = "Inference Endpoint"
    key = "hf_endpoint_url"
