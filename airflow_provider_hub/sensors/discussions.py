"""``HfPullRequestSensor``: wait until a pull request is merged (or reaches another status)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import PokeReturnValue

from airflow_provider_hub.exceptions import HfHubError, HfHubTerminalStateError
from airflow_provider_hub.hooks.states import PullRequestState, Verdict
from airflow_provider_hub.links import HfDiscussionLink
from airflow_provider_hub.operators.base import hub_template_fields
from airflow_provider_hub.sensors.base import HfHubBaseSensor
from airflow_provider_hub.triggers.discussions import HfPullRequestTrigger
from airflow_provider_hub.utils.checks import check_discussion_num, check_repo_type

if TYPE_CHECKING:
    from airflow.sdk import Context


class HfPullRequestSensor(HfHubBaseSensor):
    """Wait until a pull request reaches one of ``target_statuses``; fail at once when it reaches a status that
    cannot lead there any more (closed, or merged, while waiting for another status).

    Works in ``poke`` and ``reschedule`` mode, or deferrable
    (:class:`~airflow_provider_hub.triggers.discussions.HfPullRequestTrigger`; the sensor checks once in the
    worker before deferring). :meth:`~airflow_provider_hub.hooks.states.PullRequestState.verdict` judges each
    status; a failure raises :class:`~airflow_provider_hub.exceptions.HfHubTerminalStateError` (no retries).
    Returns ``{"num", "status", "merge_commit_oid"}`` through XCom.

    Example::

        HfPullRequestSensor(
            task_id="wait_for_review",
            repo_id="acme/sentiment",
            discussion_num="{{ ti.xcom_pull('open_review')['num'] }}",
            mode="reschedule",
            poke_interval=300,
        )

    :param repo_id: ``namespace/name``. (templated)
    :param discussion_num: the pull request's number. (templated)
    :param target_statuses: statuses that end the wait, default ``("merged",)``. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param deferrable: wait in the triggerer.
    :param hf_conn_id: the Hugging Face Hub connection. (templated)
    """

    template_fields: Sequence[str] = hub_template_fields(
        "repo_id", "discussion_num", "target_statuses", "repo_type"
    )
    operator_extra_links = (HfDiscussionLink(),)

    def __init__(
        self,
        *,
        repo_id: str,
        discussion_num: int | str,
        target_statuses: Sequence[str] = ("merged",),
        repo_type: str = "model",
        poke_interval: float = 60,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.repo_id = repo_id
        self.discussion_num = discussion_num
        self.target_statuses = target_statuses
        self.repo_type = repo_type

    def _checked(self) -> tuple[str, str, int, list[str]]:
        """The rendered repo, type, number and targets, validated before any request."""
        targets = (
            [self.target_statuses] if isinstance(self.target_statuses, str) else list(self.target_statuses)
        )
        if not targets or any(status not in PullRequestState.STATUSES for status in targets):
            raise ValueError(
                f"target_statuses must be a non-empty list of {', '.join(PullRequestState.STATUSES)}; "
                f"got {self.target_statuses!r}"
            )
        num = check_discussion_num(self.discussion_num)
        repo_type = check_repo_type(self.repo_type)
        return self.qualified_repo_id(self.repo_id), repo_type, num, targets

    def _judge(self, status: str, repo_id: str, num: int, targets: list[str]) -> bool:
        verdict = PullRequestState(status).verdict(targets)
        if verdict is Verdict.FAILED:
            raise HfHubTerminalStateError(
                f"Pull request #{num} of {repo_id} is {status}: it cannot become {' or '.join(targets)} any more"
            )
        if verdict is Verdict.WAITING:
            self.log.info(
                "Pull request #%s of %s is %s; waiting for %s", num, repo_id, status, ", ".join(targets)
            )
        return verdict is Verdict.DONE

    def poke(self, context: Context) -> PokeReturnValue:
        repo_id, repo_type, num, targets = self._checked()
        pr = self.hook.get_discussion(repo_id, num, repo_type=repo_type)
        if not pr["is_pull_request"]:
            raise ValueError(f"discussion_num={num} of {repo_id} is a discussion, not a pull request")
        HfDiscussionLink.persist(context, pr["url"])
        done = self._judge(pr["status"], repo_id, num, targets)
        return PokeReturnValue(
            is_done=done, xcom_value=_result(pr["num"], pr["status"], pr["merge_commit_oid"])
        )

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        repo_id, repo_type, num, targets = self._checked()
        self.defer(
            trigger=HfPullRequestTrigger(
                repo_id=repo_id,
                num=num,
                repo_type=repo_type,
                target_statuses=targets,
                hf_conn_id=self.hf_conn_id,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) if self.timeout is not None else None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        if event["status"] not in ("success", "failed"):  # error, or timeout
            raise HfHubError(f"Pull request #{event['num']} of {event['repo_id']}: {event.get('message')}")
        # Judge the status the trigger saw: it may have moved on since.
        self._judge(event["pr_status"], event["repo_id"], event["num"], self._checked()[3])
        return _result(event["num"], event["pr_status"], event["merge_commit_oid"])


def _result(num: int, status: str, merge_commit_oid: str | None) -> dict[str, Any]:
    return {"num": num, "status": status, "merge_commit_oid": merge_commit_oid}
