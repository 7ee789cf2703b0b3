"""``HfHubHook`` methods for gated-repo access requests and the identity lookups their policies need."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from airflow_provider_hub.exceptions import HfHubError, HfHubNotFoundError
from airflow_provider_hub.hooks.host import HubArea

if TYPE_CHECKING:
    from huggingface_hub.hf_api import AccessRequest

AccessStatus = Literal["pending", "accepted", "rejected"]


class AccessHookMixin(HubArea):
    """``HfHubHook``'s methods for gated-repo access requests.

    Example::

        for request in hook.list_access_requests("acme/gated-model"):
            hook.handle_access_request("acme/gated-model", request.username, "accepted")
    """

    def list_access_requests(
        self, repo_id: str, *, status: AccessStatus = "pending", repo_type: str = "model"
    ) -> list[AccessRequest]:
        """Every request of a gated repo in one list (``pending``, ``accepted`` or ``rejected``), oldest first.

        Each page is retried by ``huggingface_hub`` itself.
        """
        if status not in ("pending", "accepted", "rejected"):
            raise ValueError(f"status must be 'pending', 'accepted' or 'rejected'; got {status!r}")
        return list(
            self.call(
                f"list_{status}_access_requests",
                repo_id,
                repo_type=repo_type,
                subject=f"access requests of {repo_type} {repo_id}",
            )
        )

    def handle_access_request(
        self,
        repo_id: str,
        user: str,
        status: AccessStatus,
        *,
        repo_type: str = "model",
        rejection_reason: str | None = None,
    ) -> bool:
        """Move ``user``'s request to ``status``; ``False`` when the Hub says there is nothing to move.

        The Hub answers 404 when the request is already in the target list, when it no longer exists, or
        when the user is gone: in every case someone (or something) else settled it, so the caller skips it.
        A missing repo is still an error.
        The call is safe to repeat (the same target state), so it runs under the retry policy, 429 and
        ``Retry-After`` included.

        :raises HfHubError: any other failure, after the retries.
        """
        subject = f"access request of {user} on {repo_type} {repo_id}"
        try:
            if status == "accepted":
                self.call("accept_access_request", repo_id, user, repo_type=repo_type, subject=subject)
            elif status == "rejected":
                self.call(
                    "reject_access_request",
                    repo_id,
                    user,
                    repo_type=repo_type,
                    rejection_reason=rejection_reason,
                    subject=subject,
                )
            elif status == "pending":
                self.call("cancel_access_request", repo_id, user, repo_type=repo_type, subject=subject)
            else:
                raise ValueError(f"status must be 'pending', 'accepted' or 'rejected'; got {status!r}")
        except HfHubNotFoundError as exc:
            from huggingface_hub.errors import RepositoryNotFoundError

            if isinstance(exc.__cause__, RepositoryNotFoundError):  # the repo itself is gone: not a skip
                raise
            return False
        return True

    def grant_access(self, repo_id: str, user: str, *, repo_type: str = "model") -> bool:
        """Give ``user`` access without a request; ``False`` when they already have it (the Hub's 400).

        :raises HfHubError: the user does not exist (404), or any other failure after the retries.
        """
        try:
            self.call(
                "grant_access",
                repo_id,
                user,
                repo_type=repo_type,
                subject=f"access of {user} to {repo_type} {repo_id}",
            )
        except HfHubError as exc:
            if exc.status_code == 400 and "already" in str(exc).lower():
                return False
            raise
        return True

    def get_user_orgs(self, username: str) -> list[str]:
        """Names of the organizations ``username`` publicly belongs to (``/api/users/{user}/overview``)."""
        overview = self.call("get_user_overview", username, subject=f"user {username}")
        return [org.name for org in overview.orgs]
