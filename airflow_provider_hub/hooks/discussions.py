"""``HfHubHook`` methods for discussions and pull requests: open, comment, merge, close or reopen, read.

Every change is made at most once, also when its answer is lost and the request is repeated (by the retry
policy, or by a retried task): a merge of a merged PR, or a status the discussion already has, is a no-op; a
pull request or a comment made with a ``request_key`` carries an invisible marker (an HTML comment, which the
Hub does not render) by which a repeated request finds it instead of making a second one.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.hooks.host import HubArea
from airflow_provider_hub.hooks.states import DISCUSSION_STATUSES

if TYPE_CHECKING:
    from huggingface_hub import DiscussionWithDetails

log = logging.getLogger(__name__)


def request_marker(request_key: str) -> str:
    """The invisible line that identifies what one request (e.g. one task instance) wrote."""
    return f"<!-- airflow-provider-hub request {hashlib.sha256(request_key.encode()).hexdigest()[:32]} -->"


def with_marker(text: str | None, request_key: str | None) -> str:
    if not request_key:
        return text or ""
    return f"{text}\n\n{request_marker(request_key)}" if text else request_marker(request_key)


def discussion_summary(details: DiscussionWithDetails) -> dict[str, Any]:
    """The XCom view of a discussion: ``{"num", "title", "status", "is_pull_request", "url", "author",
    "git_reference", "target_branch", "merge_commit_oid"}`` (the last three ``None`` for a discussion)."""
    return {
        "num": details.num,
        "title": details.title,
        "status": details.status,
        "is_pull_request": details.is_pull_request,
        "url": details.url,
        "author": details.author,
        "git_reference": details.git_reference,
        "target_branch": details.target_branch,
        "merge_commit_oid": details.merge_commit_oid,
    }


class DiscussionsHookMixin(HubArea):
    """Discussions and pull requests of a repo (mixed into :class:`~airflow_provider_hub.hooks.hub.HfHubHook`).

    Example::

        pr = hook.create_pull_request("alice/m", "Candidate 2026-01-05", request_key=ti_key)
        hook.comment_discussion("alice/m", pr["num"], "accuracy: 0.93", request_key=ti_key)
        hook.merge_pull_request("alice/m", pr["num"])  # {"status": "merged", "merge_commit_oid": ...}
    """

    def _details(self, repo_id: str, num: int, repo_type: str) -> DiscussionWithDetails:
        return self.call(
            "get_discussion_details",
            repo_id,
            num,
            repo_type=repo_type,
            subject=f"discussion #{num} of {repo_type} {repo_id}",
        )

    def get_discussion(self, repo_id: str, num: int, *, repo_type: str = "model") -> dict[str, Any]:
        """The discussion or pull request (:func:`discussion_summary`)."""
        return discussion_summary(self._details(repo_id, num, repo_type))

    def create_pull_request(
        self,
        repo_id: str,
        title: str,
        *,
        description: str | None = None,
        repo_type: str = "model",
        request_key: str | None = None,
    ) -> dict[str, Any]:
        """Open a (draft) pull request to push commits to with ``revision=git_reference``.

        With ``request_key``, an open pull request this key already opened (same title, marker in its
        description) is returned instead of a second one: the request can be repeated safely.
        """
        body = with_marker(description, request_key)

        def attempt() -> dict[str, Any]:
            if request_key:
                found = self._find_pull_request(repo_id, repo_type, title, request_marker(request_key))
                if found is not None:
                    log.info(
                        "Pull request #%s of %s is this request's: not opening another", found["num"], repo_id
                    )
                    return found
            created = self.call(
                "create_pull_request",
                repo_id,
                title,
                description=body,
                repo_type=repo_type,
                idempotent=False,
                subject=f"{repo_type} {repo_id}",
            )
            return discussion_summary(created)

        return self.run_retried(
            attempt,
            action="create_pull_request",
            subject=f"{repo_type} {repo_id}",
            repeatable=bool(request_key),
        )

    def _find_pull_request(
        self, repo_id: str, repo_type: str, title: str, marker: str
    ) -> dict[str, Any] | None:
        candidates = self.call(
            "get_repo_discussions",
            repo_id,
            repo_type=repo_type,
            discussion_type="pull_request",
            discussion_status="open",
            subject=f"{repo_type} {repo_id}",
        )
        for candidate in candidates:
            if candidate.title != title:
                continue
            details = self._details(repo_id, candidate.num, repo_type)
            if any(marker in (getattr(event, "content", "") or "") for event in details.events[:1]):
                return discussion_summary(details)
        return None

    def comment_discussion(
        self,
        repo_id: str,
        num: int,
        comment: str,
        *,
        repo_type: str = "model",
        request_key: str | None = None,
    ) -> dict[str, Any]:
        """Comment on a discussion or pull request: ``{"comment_id", "url"}``.

        With ``request_key``, a comment this key already posted there is returned instead of a second one.
        """
        text = with_marker(comment, request_key)

        def attempt() -> dict[str, Any]:
            details = self._details(repo_id, num, repo_type)
            if request_key:
                marker = request_marker(request_key)
                for event in details.events:
                    if event.type == "comment" and marker in (getattr(event, "content", "") or ""):
                        log.info("Comment %s on #%s is this request's: not posting again", event.id, num)
                        return {"comment_id": event.id, "url": f"{details.url}#{event.id}"}
            posted = self.call(
                "comment_discussion",
                repo_id,
                num,
                text,
                repo_type=repo_type,
                idempotent=False,
                subject=f"discussion #{num} of {repo_type} {repo_id}",
            )
            return {"comment_id": posted.id, "url": f"{details.url}#{posted.id}"}

        return self.run_retried(
            attempt,
            action="comment_discussion",
            subject=f"discussion #{num} of {repo_type} {repo_id}",
            repeatable=bool(request_key),
        )

    def merge_pull_request(
        self, repo_id: str, num: int, *, comment: str | None = None, repo_type: str = "model"
    ) -> dict[str, Any]:
        """Merge a pull request; one that is merged already (by a lost earlier answer, or by someone) is left so.

        :raises ValueError: ``num`` is a discussion, or a closed pull request (reopen it first).
        """
        subject = f"pull request #{num} of {repo_type} {repo_id}"

        def attempt() -> dict[str, Any]:
            current = self.get_discussion(repo_id, num, repo_type=repo_type)
            if current["status"] == "merged":
                return current
            if not current["is_pull_request"] or current["status"] == "closed":
                what = "a discussion" if not current["is_pull_request"] else "closed: reopen it first"
                raise ValueError(f"#{num} of {repo_type} {repo_id} cannot be merged: it is {what}")
            self.call(
                "merge_pull_request",
                repo_id,
                num,
                comment=comment,
                repo_type=repo_type,
                idempotent=False,
                subject=subject,
            )
            return self.get_discussion(repo_id, num, repo_type=repo_type)

        return self.run_retried(attempt, action="merge_pull_request", subject=subject)

    def change_discussion_status(
        self, repo_id: str, num: int, new_status: str, *, comment: str | None = None, repo_type: str = "model"
    ) -> dict[str, Any]:
        """Close or reopen a discussion or pull request; one that has that status already is left so.

        :raises ValueError: ``new_status`` is not ``open`` or ``closed``, or the pull request is merged.
        """
        if new_status not in DISCUSSION_STATUSES:
            raise ValueError(
                f"new_status must be one of {', '.join(DISCUSSION_STATUSES)}; got {new_status!r}"
            )
        subject = f"discussion #{num} of {repo_type} {repo_id}"

        def attempt() -> dict[str, Any]:
            current = self.get_discussion(repo_id, num, repo_type=repo_type)
            if current["status"] == new_status:
                return current
            if current["status"] == "merged":
                raise ValueError(
                    f"Pull request #{num} of {repo_type} {repo_id} is merged: its status is final"
                )
            self.call(
                "change_discussion_status",
                repo_id,
                num,
                new_status,
                comment=comment,
                repo_type=repo_type,
                idempotent=False,
                subject=subject,
            )
            return self.get_discussion(repo_id, num, repo_type=repo_type)

        return self.run_retried(attempt, action="change_discussion_status", subject=subject)
