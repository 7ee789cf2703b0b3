"""Triage the access requests of gated repos by policy, and grant access directly.

A run of :class:`HfAcceptAccessRequestsOperator` has three phases:

1. **list** every pending request (one paginated listing);
2. **evaluate** the policy on each request, oldest first, stopping once ``max_requests`` decisions are
   queued; organization memberships are looked up at most once per user, concurrently;
3. **decide** concurrently (``max_concurrency`` requests in flight) through the hook's retry policy
   (429 and ``Retry-After`` honoured). Just before, the pending list is read again and requests that
   left it meanwhile are skipped; a request the Hub reports as already settled (404) is skipped too.
   A decision that still fails is recorded in ``errors`` and the others go on.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.links import HfRepoLink
from airflow_provider_hub.operators.base import HfHubBaseOperator, hub_template_fields
from airflow_provider_hub.utils.checks import (
    check_bool,
    check_names,
    check_repo_id,
    check_repo_type,
    check_whole_number,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The Hub's limit on a rejection reason.
MAX_REJECTION_REASON = 200
#: ``accept_if`` answers meaning "leave it pending".
_LEAVE = (None, "pending")


@dataclass(frozen=True)
class PendingAccessRequest:
    """A pending access request as seen by ``accept_if``.

    :param user: the requester's username.
    :param email: their e-mail (``None`` when the repo does not share it).
    :param fields: their answers to the repo's gate form (``{}`` without a custom form).
    :param timestamp: when they asked.
    :param orgs: the organizations they publicly belong to, when ``allow_orgs`` is set (looked up once
        per user per run); ``None`` when not looked up.
    :param fullname: their display name.
    :param request_id: the Hub's id of the request.
    """

    user: str
    email: str | None
    fields: dict[str, Any]
    timestamp: datetime
    orgs: tuple[str, ...] | None = None
    fullname: str | None = None
    request_id: str | None = None


@dataclass
class _Decision:
    user: str
    status: str  # "accepted" | "rejected" | "pending"
    rule: str


@dataclass
class _Report:
    accepted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    left_pending: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    rules: Counter[tuple[str, str]] = field(default_factory=Counter)


class HfAcceptAccessRequestsOperator(HfHubBaseOperator):
    """Decide the pending access requests of a gated repo by policy.

    A request is accepted when its user matches ``allow_users``, its e-mail domain is in
    ``allow_email_domains`` or the user belongs to one of ``allow_orgs`` (checked in this order, cheapest
    first). Otherwise ``accept_if(request)`` decides: ``"accept"``, ``"reject"``, or ``None`` /
    ``"pending"`` to leave it. Whatever is still undecided is rejected when ``reject_others`` is set, else
    left pending for a human.

    Example::

        HfAcceptAccessRequestsOperator(
            task_id="triage",
            repo_id="acme/llama-finetune",
            allow_orgs=["acme"],
            allow_email_domains=["acme.com", "university.edu"],
            accept_if=lambda r: "reject" if r.fields.get("country") in EMBARGOED else None,
            reject_others=False,
            rejection_reason="Access is limited to research partners ({{ dag_run.run_after | ds }} review).",
        )

    :param repo_id: the gated repo, ``namespace/name``. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param allow_users: usernames or glob patterns (``"acme-*"``) to accept. (templated)
    :param allow_orgs: accept members of these organizations (public memberships, as the Hub shows
        them). (templated)
    :param allow_email_domains: accept e-mails of these domains (``"acme.com"`` also matches
        ``"eu.acme.com"``). (templated)
    :param accept_if: a callable on a :class:`PendingAccessRequest` returning ``"accept"``, ``"reject"``
        or ``None`` / ``"pending"``; an exception or any other answer is recorded in ``errors``.
    :param reject_others: reject what no rule accepted and ``accept_if`` left pending. (templated)
    :param rejection_reason: shown to rejected users (at most 200 characters). (templated)
    :param max_requests: at most this many decisions per run, oldest requests first; the rest stay
        pending for the next run. (templated)
    :param dry_run: evaluate and report, change nothing on the Hub. (templated)
    :param max_concurrency: decisions (and org lookups) in flight at once. (templated)
    :param log_emails: put e-mails in the logs and in the result (``emails``); off by default because
        e-mails are personal data.
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: ``{"accepted", "rejected", "left_pending", "skipped": [usernames], "errors": [{"user",
        "decision", "error"}], "dry_run"}`` (plus ``"emails": {user: email}`` with ``log_emails``).
    """

    template_fields: Sequence[str] = hub_template_fields(
        "repo_id",
        "repo_type",
        "allow_users",
        "allow_orgs",
        "allow_email_domains",
        "reject_others",
        "rejection_reason",
        "max_requests",
        "dry_run_only",
        "max_concurrency",
    )
    operator_extra_links = (HfRepoLink(),)

    def __init__(
        self,
        *,
        repo_id: str,
        repo_type: str = "model",
        allow_users: Sequence[str] | None = None,
        allow_orgs: Sequence[str] | None = None,
        allow_email_domains: Sequence[str] | None = None,
        accept_if: Callable[[PendingAccessRequest], str | None] | None = None,
        reject_others: bool = False,
        rejection_reason: str | None = None,
        max_requests: int | None = None,
        dry_run: bool = False,
        max_concurrency: int = 16,
        log_emails: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if accept_if is not None and not callable(accept_if):
            raise ValueError(f"accept_if must be a callable on the request; got {accept_if!r}")
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.allow_users = allow_users
        self.allow_orgs = allow_orgs
        self.allow_email_domains = allow_email_domains
        self.accept_if = accept_if
        self.reject_others = reject_others
        self.rejection_reason = rejection_reason
        self.max_requests = max_requests
        # Not ``self.dry_run``: that name is ``BaseOperator.dry_run()``, which must stay callable.
        self.dry_run_only = dry_run
        self.max_concurrency = max_concurrency
        self.log_emails = log_emails

    # -- validation (before any network call) --------------------------------------------------------
    def _check(self) -> None:
        check_repo_type(self.repo_type)
        check_repo_id(self.repo_id, require_namespace=True)
        self._users = check_names(self.allow_users, "allow_users")
        self._orgs = set(check_names(self.allow_orgs, "allow_orgs"))
        self._domains = [
            d.lower().lstrip("@") for d in check_names(self.allow_email_domains, "allow_email_domains")
        ]
        self._limit = check_whole_number(self.max_requests, "max_requests", optional=True)
        self._concurrency: int = (
            check_whole_number(self.max_concurrency, "max_concurrency", optional=False) or 1
        )
        if self.rejection_reason is not None and (
            not isinstance(self.rejection_reason, str) or len(self.rejection_reason) > MAX_REJECTION_REASON
        ):
            raise ValueError(
                f"rejection_reason must be a string of at most {MAX_REJECTION_REASON} characters (the Hub's "
                f"limit); got {self.rejection_reason!r}"
            )
        check_bool(self.reject_others, "reject_others")
        check_bool(self.dry_run_only, "dry_run")

    # -- policy --------------------------------------------------------------------------------------
    def _email_allowed(self, email: str | None) -> bool:
        if not email or "@" not in email:
            return False
        domain = email.rsplit("@", 1)[1].lower()
        return any(domain == d or domain.endswith("." + d) for d in self._domains)

    def _evaluate(
        self, request: PendingAccessRequest, orgs_of: Callable[[str], tuple[str, ...]]
    ) -> _Decision:
        def decision(status: str, rule: str) -> _Decision:
            return _Decision(request.user, status, rule)

        if any(fnmatch.fnmatchcase(request.user, pattern) for pattern in self._users):
            return decision("accepted", "allow_users")
        if self._email_allowed(request.email):
            return decision("accepted", "allow_email_domains")
        if self._orgs:
            orgs = orgs_of(request.user)
            request = PendingAccessRequest(**{**request.__dict__, "orgs": orgs})
            if self._orgs.intersection(orgs):
                return decision("accepted", "allow_orgs")
        if self.accept_if is not None:
            answer = self.accept_if(request)
            if answer == "accept":
                return decision("accepted", "accept_if")
            if answer == "reject":
                return decision("rejected", "accept_if")
            if answer not in _LEAVE:
                raise ValueError(
                    f"accept_if returned {answer!r}; expected 'accept', 'reject', None or 'pending'"
                )
        if self.reject_others:
            return decision("rejected", "reject_others")
        return decision("pending", "no rule")

    # -- run -----------------------------------------------------------------------------------------
    def execute(self, context: Context) -> dict[str, Any]:
        self._check()
        hook, repo_id, repo_type = self.hook, self.repo_id, self.repo_type
        HfRepoLink.persist(
            context, f"{hook.endpoint}/{'' if repo_type == 'model' else repo_type + 's/'}{repo_id}"
        )
        _ = hook.api  # build the client once, before worker threads share it
        pending = [
            PendingAccessRequest(
                user=r.username,
                email=r.email,
                fields=dict(r.fields or {}),
                timestamp=r.timestamp,
                fullname=r.fullname,
                request_id=r.request_id,
            )
            for r in hook.list_access_requests(repo_id, status="pending", repo_type=repo_type)
            if r.username  # a repo hiding usernames cannot be triaged by user rules
        ]
        pending.sort(key=lambda r: r.timestamp)
        self.log.info("%d pending access requests on %s %s", len(pending), repo_type, repo_id)
        report = _Report()
        with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="hf-access") as pool:
            decisions = self._evaluate_all(pending, pool, report)
            to_send = [d for d in decisions if d.status != "pending"]
            if to_send and not self.dry_run_only:
                still_pending = {
                    r.username
                    for r in hook.list_access_requests(repo_id, status="pending", repo_type=repo_type)
                }
                for decision in to_send:
                    if decision.user not in still_pending:
                        report.skipped.append(decision.user)
                        report.rules["skipped", "settled elsewhere"] += 1
                to_send = [d for d in to_send if d.user in still_pending]
                outcomes = list(pool.map(self._send, to_send))
            else:
                outcomes = [True] * len(to_send)
        for decision, outcome in zip(to_send, outcomes, strict=True):
            if isinstance(outcome, Exception):
                report.errors.append(
                    {"user": decision.user, "decision": decision.status, "error": str(outcome)}
                )
                report.rules["error", decision.rule] += 1
            elif outcome:
                getattr(report, decision.status).append(decision.user)
                report.rules[decision.status, decision.rule] += 1
            else:
                report.skipped.append(decision.user)
                report.rules["skipped", "settled elsewhere"] += 1
        for decision in decisions:
            if decision.status == "pending":
                report.left_pending.append(decision.user)
                report.rules["left pending", decision.rule] += 1
        self._log_summary(report, len(pending))
        result: dict[str, Any] = {
            "accepted": report.accepted,
            "rejected": report.rejected,
            "left_pending": report.left_pending,
            "skipped": report.skipped,
            "errors": report.errors,
            "dry_run": self.dry_run_only,
        }
        if self.log_emails:
            result["emails"] = {r.user: r.email for r in pending if r.email}
        return result

    def _evaluate_all(
        self, pending: list[PendingAccessRequest], pool: ThreadPoolExecutor, report: _Report
    ) -> list[_Decision]:
        """Decisions for the oldest requests until ``max_requests`` accept/reject decisions are queued.

        Requests are evaluated in chunks (concurrently, for the org lookups); past the limit, requests
        are left pending without being looked at.
        """
        orgs_cache: dict[str, tuple[str, ...]] = {}
        cache_lock = Lock()

        def orgs_of(user: str) -> tuple[str, ...]:
            with cache_lock:
                if user in orgs_cache:
                    return orgs_cache[user]
            orgs = tuple(self.hook.get_user_orgs(user))
            with cache_lock:
                return orgs_cache.setdefault(user, orgs)

        def evaluate(request: PendingAccessRequest) -> _Decision | Exception:
            try:
                return self._evaluate(request, orgs_of)
            except Exception as exc:  # one bad request (lookup failure, accept_if bug) must not stop the run
                return exc

        decisions: list[_Decision] = []
        decided = 0
        chunk = self._concurrency * 8
        for start in range(0, len(pending), chunk):
            batch = pending[start : start + chunk]
            for request, outcome in zip(batch, pool.map(evaluate, batch), strict=True):
                if isinstance(outcome, Exception):
                    report.errors.append(
                        {"user": request.user, "decision": "evaluate", "error": str(outcome)}
                    )
                    report.rules["error", "evaluation"] += 1
                    continue
                if outcome.status != "pending":
                    if self._limit is not None and decided >= self._limit:
                        outcome = _Decision(request.user, "pending", "max_requests reached")
                    else:
                        decided += 1
                decisions.append(outcome)
            if self._limit is not None and decided >= self._limit:
                decisions += [
                    _Decision(r.user, "pending", "max_requests reached") for r in pending[start + chunk :]
                ]
                break
        return decisions

    def _send(self, decision: _Decision) -> bool | Exception:
        """Apply one decision: ``True`` done, ``False`` settled elsewhere, or the failure."""
        try:
            return self.hook.handle_access_request(
                self.repo_id,
                decision.user,
                decision.status,  # type: ignore[arg-type]
                repo_type=self.repo_type,
                rejection_reason=self.rejection_reason if decision.status == "rejected" else None,
            )
        except Exception as exc:  # collected in ``errors``; the other decisions go on
            return exc

    def _log_summary(self, report: _Report, total: int) -> None:
        verb = "would be" if self.dry_run_only else "were"
        lines = [f"Access requests on {self.repo_type} {self.repo_id}: {total} pending at start", ""]
        lines.append(f"{'outcome':<14} {'rule':<22} {'count':>7}")
        lines.append(f"{'-' * 14} {'-' * 22} {'-' * 7}")
        for (outcome, rule), count in sorted(report.rules.items()):
            lines.append(f"{outcome:<14} {rule:<22} {count:>7}")
        lines.append("")
        lines.append(
            f"{len(report.accepted)} {verb} accepted, {len(report.rejected)} {verb} rejected, "
            f"{len(report.left_pending)} left pending, {len(report.skipped)} skipped, {len(report.errors)} errors"
        )
        self.log.info("\n".join(lines))
        for error in report.errors:
            self.log.error("Could not %s %s: %s", error["decision"], error["user"], error["error"])
        if self.log_emails:
            self.log.info("Accepted: %s", ", ".join(report.accepted))


class HfGrantAccessOperator(HfHubBaseOperator):
    """Give users access to a gated repo directly, without an access request from them.

    Example::

        HfGrantAccessOperator(task_id="grant", repo_id="acme/llama-finetune", users=["bob", "carol"])

    :param repo_id: the gated repo, ``namespace/name``. (templated)
    :param users: usernames to grant access to. (templated)
    :param repo_type: ``model``, ``dataset`` or ``space``. (templated)
    :param hf_conn_id: the Hugging Face Hub connection.
    :return: ``{"granted": [...], "already_had_access": [...]}``.
    """

    template_fields: Sequence[str] = hub_template_fields("repo_id", "users", "repo_type")

    def __init__(
        self,
        *,
        repo_id: str,
        users: Sequence[str],
        repo_type: str = "model",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.repo_id = repo_id
        self.users = users
        self.repo_type = repo_type

    def execute(self, context: Context) -> dict[str, Any]:
        check_repo_type(self.repo_type)
        check_repo_id(self.repo_id, require_namespace=True)
        users = check_names(self.users, "users")
        if not users:
            raise ValueError("users must name at least one user; got an empty list")
        result: dict[str, list[str]] = {"granted": [], "already_had_access": []}
        for user in users:
            granted = self.hook.grant_access(self.repo_id, user, repo_type=self.repo_type)
            result["granted" if granted else "already_had_access"].append(user)
        self.log.info(
            "Granted access to %s %s: %d user(s); %d already had it",
            self.repo_type,
            self.repo_id,
            len(result["granted"]),
            len(result["already_had_access"]),
        )
        return result
