"""Extra links on task instances: the repo, commit, Job and Inference Endpoint pages on the Hub.

Operators persist the URL in XCom while they run (``Hf*Link.persist(context, url)``); Airflow 3
renders links from XCom, so a link shows on failed and deferred tasks too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


class _XComUrlLink(BaseOperatorLink):
    """A link whose URL the operator stored in XCom under :attr:`key`."""

    key: ClassVar[str]

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return XCom.get_value(key=self.key, ti_key=ti_key) or ""

    @classmethod
    def persist(cls, context: Any, url: str | None) -> None:
        """Store ``url`` for this link on the running task instance."""
        if url:
            context["ti"].xcom_push(key=cls.key, value=url)


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


class HfInferenceEndpointLink(_XComUrlLink):
    """The Inference Endpoint page."""

    name = "Inference Endpoint"
    key = "hf_endpoint_url"
