"""``HfPullRequestTrigger``: wait for a pull request's status without holding a worker slot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.hooks.states import PullRequestState, Verdict
from airflow_provider_hub.triggers._base import HfPollingTrigger
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook


class HfPullRequestTrigger(HfPollingTrigger[dict[str, Any]]):
    """Poll a pull request until its status is one of ``target_statuses``, then fire one event.

    The payload is ``{"status": "success" | "failed" | "timeout" | "error", "repo_id", "repo_type", "num",
    "pr_status", "merge_commit_oid", "message"}``: ``failed`` when the PR reached a status that cannot lead to
    a target any more (closed while waiting for ``merged``), ``timeout`` past ``end_time`` (epoch seconds),
    ``error`` when the repo or the PR does not exist or after
    :data:`~airflow_provider_hub.triggers._base.MAX_CONSECUTIVE_ERRORS` failed reads in a row.
    :meth:`~airflow_provider_hub.hooks.states.PullRequestState.verdict` judges each status.

    Example::

        HfPullRequestTrigger(repo_id="alice/m", num=3, target_statuses=["merged"], poll_interval=60)

    :param repo_id: ``namespace/name``.
    :param num: the pull request's number.
    :param repo_type: ``model``, ``dataset`` or ``space``.
    :param target_statuses: statuses that end the wait with ``success``.
    :param hf_conn_id: the Hugging Face Hub connection.
    :param poll_interval: seconds between reads; ``None``: ``[huggingface_hub] default_poll_interval``.
    :param end_time: give up at this wall-clock time (epoch seconds); ``None`` waits forever.
    """

    def __init__(
        self,
        *,
        repo_id: str,
        num: int,
        repo_type: str = "model",
        target_statuses: Sequence[str] = ("merged",),
        hf_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float | None = None,
        end_time: float | None = None,
    ) -> None:
        super().__init__(
            hf_conn_id=hf_conn_id,
            poll_interval=None if poll_interval is None else float(poll_interval),
            end_time=end_time,
        )
        self.repo_id = repo_id
        self.num = int(num)
        self.repo_type = repo_type
        self.target_statuses = list(target_statuses)

    @property
    def subject(self) -> str:
        return f"pull request #{self.num} of {self.repo_type} {self.repo_id}"

    async def read(self, hook: HfHubAsyncHook) -> dict[str, Any]:
        return await hook.poll_pull_request(
            self.repo_id, self.num, repo_type=self.repo_type, interval=self.interval
        )

    def judge(self, reading: dict[str, Any]) -> Verdict:
        verdict = PullRequestState(reading.get("status")).verdict(self.target_statuses)
        if verdict is Verdict.WAITING:
            self.log.info("Pull request #%s of %s is %s", self.num, self.repo_id, reading.get("status"))
        return verdict

    def payload(self, status: str, reading: dict[str, Any] | None, message: str | None) -> dict[str, Any]:
        reading = reading or {}
        return {
            "status": status,
            "repo_id": self.repo_id,
            "repo_type": self.repo_type,
            "num": self.num,
            "pr_status": reading.get("status"),
            "merge_commit_oid": (reading.get("changes") or {}).get("mergeCommitId"),
            "message": message,
        }
