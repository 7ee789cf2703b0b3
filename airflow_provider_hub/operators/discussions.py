"""Review releases through pull requests: open one, comment on it, merge it, close or reopen it.

Each change is made once, also when a task is retried after its answer was lost: a pull request or a comment
is found again by the task instance that made it (an invisible marker, see
:mod:`airflow_provider_hub.hooks.discussions`), and merging a merged PR, or giving a discussion the status it
has, succeeds without a change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.hooks.states import DISCUSSION_STATUSES
from airflow_provider_hub.links import HfDiscussionLink
from airflow_provider_hub.operators.base import hub_template_fields, task_instance_key
from airflow_provider_hub.operators.repo import _HfRepoOperator
from airflow_provider_hub.utils.checks import check_discussion_num

if TYPE_CHECKING:
    from airflow.sdk import BaseOperatorLink, Context


def check_text(value: Any, field_name: str, *, optional: bool = False) -> str | None:
    """A rendered, non-blank string (or ``None`` when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field_name} must be a non-empty string; got {value!r}")
    return value


class _DiscussionOperator(_HfRepoOperator):
    """The repo arguments and checks of the repo operators, with the discussion's page as the link."""

    operator_extra_links: Collection[BaseOperatorLink] = (HfDiscussionLink(),)


class HfCreatePullRequestOperator(_DiscussionOperator):
    """Open a (draft) pull request on a repo, to push commits to with ``revision=git_reference``.

    A retried task finds the pull request its earlier try opened instead of opening a second one.
    Returns ``{"num", "url", "git_reference"}``.

    Example::

        pr = HfCreatePullRequestOperator(
            task_id="open_review",
            repo_id="acme/sentiment",
            title="Candidate {{ dag_run.run_after | ds }}",
        )
        HfUploadFolderOperator(task_id="push", repo_id="acme/sentiment", folder_path="/models/out",
                               revision="{{ ti.xcom_pull('open_review')['git_reference'] }}")

    :param repo_id: ``namespace/name`` (``name`` alone takes the connection's namespace). (templated)
    :param title: the pull request's title. (templated)
    :param description: its description, in Markdown. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "title", "description", "repo_type")
    template_fields_renderers = {"description": "md"}

    def __init__(self, *, repo_id: str, title: str, description: str | None = None, **kwargs: Any) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.title = title
        self.description = description

    def execute(self, context: Context) -> dict[str, Any]:
        title = check_text(self.title, "title")
        description = check_text(self.description, "description", optional=True)
        repo_id, repo_type = self._checked_repo()
        pr = self.hook.create_pull_request(
            repo_id,
            str(title).strip(),
            description=description,
            repo_type=repo_type,
            request_key=task_instance_key(context["ti"]),
        )
        HfDiscussionLink.persist(context, pr["url"])
        self.log.info("Pull request #%s: %s", pr["num"], pr["url"])
        return {"num": pr["num"], "url": pr["url"], "git_reference": pr["git_reference"]}


class HfCommentDiscussionOperator(_DiscussionOperator):
    """Comment on a discussion or pull request (an evaluation's results, say).

    A retried task finds the comment its earlier try posted instead of posting it again.
    Returns ``{"comment_id", "url"}``.

    Example::

        HfCommentDiscussionOperator(
            task_id="report",
            repo_id="acme/sentiment",
            discussion_num="{{ ti.xcom_pull('open_review')['num'] }}",
            comment="Accuracy: {{ ti.xcom_pull('evaluate')['accuracy'] }}",
        )

    :param repo_id: ``namespace/name``. (templated)
    :param discussion_num: the discussion's or pull request's number. (templated)
    :param comment: the comment, in Markdown. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "discussion_num", "comment", "repo_type")
    template_fields_renderers = {"comment": "md"}

    def __init__(self, *, repo_id: str, discussion_num: int | str, comment: str, **kwargs: Any) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.discussion_num = discussion_num
        self.comment = comment

    def execute(self, context: Context) -> dict[str, Any]:
        num = check_discussion_num(self.discussion_num)
        comment = check_text(self.comment, "comment")
        repo_id, repo_type = self._checked_repo()
        posted = self.hook.comment_discussion(
            repo_id, num, str(comment), repo_type=repo_type, request_key=task_instance_key(context["ti"])
        )
        HfDiscussionLink.persist(context, posted["url"])
        return posted


class HfMergePullRequestOperator(_DiscussionOperator):
    """Merge a pull request into its target branch; a pull request merged already succeeds as it is.

    Fails on a closed pull request (reopen it first) and on a merge conflict. Returns
    ``{"num", "status": "merged", "merge_commit_oid"}``.

    Example::

        HfMergePullRequestOperator(
            task_id="merge", repo_id="acme/sentiment", discussion_num="{{ ti.xcom_pull('open_review')['num'] }}"
        )

    :param repo_id: ``namespace/name``. (templated)
    :param discussion_num: the pull request's number. (templated)
    :param comment: a comment posted with the merge. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "discussion_num", "comment", "repo_type")

    def __init__(
        self, *, repo_id: str, discussion_num: int | str, comment: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.discussion_num = discussion_num
        self.comment = comment

    def execute(self, context: Context) -> dict[str, Any]:
        num = check_discussion_num(self.discussion_num)
        comment = check_text(self.comment, "comment", optional=True)
        repo_id, repo_type = self._checked_repo()
        merged = self.hook.merge_pull_request(repo_id, num, comment=comment, repo_type=repo_type)
        HfDiscussionLink.persist(context, merged["url"])
        self.log.info("Pull request #%s is merged as %s", num, merged["merge_commit_oid"])
        return {
            "num": merged["num"],
            "status": merged["status"],
            "merge_commit_oid": merged["merge_commit_oid"],
        }


class HfChangeDiscussionStatusOperator(_DiscussionOperator):
    """Close (or reopen) a discussion or pull request; one that has that status already is left so.

    Returns ``{"num", "status"}``.

    Example::

        HfChangeDiscussionStatusOperator(
            task_id="reject", repo_id="acme/sentiment", discussion_num="{{ ti.xcom_pull('open_review')['num'] }}",
            new_status="closed", comment="Below the accuracy bar",
        )

    :param repo_id: ``namespace/name``. (templated)
    :param discussion_num: the discussion's or pull request's number. (templated)
    :param new_status: ``closed`` or ``open``. (templated)
    :param comment: a comment posted with the change. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields(
        "repo_id", "discussion_num", "new_status", "comment", "repo_type"
    )

    def __init__(
        self,
        *,
        repo_id: str,
        discussion_num: int | str,
        new_status: str = "closed",
        comment: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(repo_id=repo_id, **kwargs)
        self.discussion_num = discussion_num
        self.new_status = new_status
        self.comment = comment

    def execute(self, context: Context) -> dict[str, Any]:
        num = check_discussion_num(self.discussion_num)
        if self.new_status not in DISCUSSION_STATUSES:
            raise ValueError(
                f"new_status must be one of {', '.join(DISCUSSION_STATUSES)}; got {self.new_status!r}"
            )
        comment = check_text(self.comment, "comment", optional=True)
        repo_id, repo_type = self._checked_repo()
        changed = self.hook.change_discussion_status(
            repo_id, num, self.new_status, comment=comment, repo_type=repo_type
        )
        HfDiscussionLink.persist(context, changed["url"])
        return {"num": changed["num"], "status": changed["status"]}
