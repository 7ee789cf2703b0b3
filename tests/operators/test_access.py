"""Access-request operators against the Hub emulator, with the real ``huggingface_hub`` client.

``execute`` runs with a small context (a task instance that records the extra link's XCom push); one
test runs a whole DAG with real Airflow.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import pytest
import structlog.testing
from airflow.sdk import DAG

from airflow_provider_hub.operators.access import (
    HfAcceptAccessRequestsOperator,
    HfGrantAccessOperator,
    PendingAccessRequest,
)
from tests.helpers import task_states, xcom_value

REPO = "alice/gated-llm"
HANDLE_ROUTE = "/api/models/*/user-access-request/handle"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


class RecordingTaskInstance:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def run(operator: HfAcceptAccessRequestsOperator | HfGrantAccessOperator) -> dict[str, Any]:
    return operator.execute({"ti": RecordingTaskInstance()})


def triage(**kwargs: Any) -> HfAcceptAccessRequestsOperator:
    return HfAcceptAccessRequestsOperator(task_id="triage", repo_id=REPO, **kwargs)


def seed(hub: Any, requests: list[dict[str, Any]]) -> None:
    """Pending requests, oldest first in the order given."""
    hub.add_access_requests(
        REPO, [{"timestamp": f"2026-11-01T10:{i:02d}:00Z", **r} for i, r in enumerate(requests)]
    )


def status(hub: Any, user: str) -> str | None:
    return hub.state.access.status_of("model", REPO, user)


def test_each_allow_rule_accepts_and_the_rest_stays_pending(hub_connection):
    hub_connection.add_org("research-lab", members=["olga"])
    seed(
        hub_connection,
        [
            {"user": "bob"},
            {"user": "acme-carol"},
            {"user": "dave", "email": "dave@eu.partner.com"},
            {"user": "olga"},
            {"user": "mallory", "email": "mallory@elsewhere.net"},
        ],
    )
    result = run(
        triage(
            allow_users=["bob", "acme-*"],
            allow_email_domains=["partner.com"],
            allow_orgs=["research-lab"],
        )
    )
    assert sorted(result["accepted"]) == ["acme-carol", "bob", "dave", "olga"]
    assert result["rejected"] == []
    assert result["left_pending"] == ["mallory"]
    assert result["skipped"] == [] and result["errors"] == []
    for user in ("bob", "acme-carol", "dave", "olga"):
        assert status(hub_connection, user) == "accepted"
    assert status(hub_connection, "mallory") == "pending"


def test_org_membership_is_looked_up_once_per_user_and_only_when_needed(hub_connection):
    hub_connection.add_org("research-lab", members=["olga"])
    seed(hub_connection, [{"user": "bob"}, {"user": "olga"}, {"user": "zed"}])
    hub_connection.reset_counts()
    result = run(triage(allow_users=["bob"], allow_orgs=["research-lab"]))
    assert sorted(result["accepted"]) == ["bob", "olga"]
    assert hub_connection.request_count("/api/users/*/overview") == 2  # olga and zed; bob matched by name
    assert hub_connection.request_count("/api/users/bob/overview") == 0


def test_accept_if_sees_fields_and_orgs_and_decides(hub_connection):
    hub_connection.add_org("uni", members=["ursula"])
    seed(
        hub_connection,
        [
            {"user": "ursula", "fields": {"use": "research", "country": "FR"}},
            {"user": "ivan", "fields": {"use": "research", "country": "XX"}},
            {"user": "paul", "fields": {"use": "commercial", "country": "DE"}},
        ],
    )
    seen: list[PendingAccessRequest] = []

    def policy(request: PendingAccessRequest) -> str | None:
        seen.append(request)
        if request.fields.get("country") == "XX":
            return "reject"
        if request.fields.get("use") == "research" and "uni" in (request.orgs or ()):
            return "accept"
        return None

    result = run(triage(allow_orgs=["other-org"], accept_if=policy, rejection_reason="Embargoed country"))
    assert result["accepted"] == ["ursula"]
    assert result["rejected"] == ["ivan"]
    assert result["left_pending"] == ["paul"]
    ursula = next(r for r in seen if r.user == "ursula")
    assert ursula.orgs == ("uni",)
    assert ursula.email == "ursula@example.com"
    assert ursula.timestamp == datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)
    assert hub_connection.state.access.requests["model", REPO]["ivan"].rejection_reason == "Embargoed country"


def test_combination_with_reject_others(hub_connection, api):
    seed(
        hub_connection,
        [
            {"user": "bob", "fields": {"use": "anything"}},
            {"user": "carol", "email": "carol@uni.edu"},
            {"user": "dave", "fields": {"use": "research"}},
            {"user": "erin", "fields": {"use": "spam"}},
        ],
    )
    result = run(
        triage(
            allow_users=["bob"],
            allow_email_domains=["uni.edu"],
            accept_if=lambda r: "accept" if r.fields.get("use") == "research" else None,
            reject_others=True,
            rejection_reason="Please tell us about your research use",
        )
    )
    assert sorted(result["accepted"]) == ["bob", "carol", "dave"]
    assert result["rejected"] == ["erin"]
    assert result["left_pending"] == []
    assert [r.username for r in api.list_rejected_access_requests(REPO)] == ["erin"]
    assert list(api.list_pending_access_requests(REPO)) == []


def test_dry_run_changes_nothing(hub_connection):
    seed(hub_connection, [{"user": "bob"}, {"user": "carol"}, {"user": "dave"}])
    hub_connection.reset_counts()
    result = run(triage(allow_users=["bob"], reject_others=True, rejection_reason="no", dry_run=True))
    assert result["dry_run"] is True
    assert result["accepted"] == ["bob"]
    assert sorted(result["rejected"]) == ["carol", "dave"]
    assert hub_connection.request_count(HANDLE_ROUTE) == 0
    assert {status(hub_connection, u) for u in ("bob", "carol", "dave")} == {"pending"}


def test_max_requests_decides_the_oldest_first(hub_connection):
    users = [f"user{i:02d}" for i in range(10)]
    seed(hub_connection, [{"user": u} for u in users])
    result = run(
        triage(allow_users=["user0[02468]"], reject_others=True, rejection_reason="r", max_requests=4)
    )
    assert result["accepted"] == ["user00", "user02"]
    assert result["rejected"] == ["user01", "user03"]
    assert result["left_pending"] == users[4:]
    assert hub_connection.request_count(HANDLE_ROUTE) == 4
    assert [status(hub_connection, u) for u in users[4:]] == ["pending"] * 6
    # The next run carries on where this one stopped.
    second = run(
        triage(allow_users=["user0[02468]"], reject_others=True, rejection_reason="r", max_requests=4)
    )
    assert second["accepted"] + second["rejected"] == ["user04", "user06", "user05", "user07"]


def test_requests_settled_by_another_actor_are_skipped(hub_connection, api):
    from huggingface_hub import HfApi

    # The other actor: another client with its own token (say, the owner triaging by hand in the UI).
    other = HfApi(endpoint=hub_connection.url, token=hub_connection.add_token("alice"))
    seed(hub_connection, [{"user": u} for u in ("bob", "carol", "dave", "erin")])

    def policy(request: PendingAccessRequest) -> str:
        # While this run evaluates, someone else accepts bob (the re-check before deciding sees it).
        if request.user == "bob":
            other.accept_access_request(REPO, "bob")
        return "accept"

    operator = triage(accept_if=policy)
    real_handle = operator.hook.handle_access_request

    def racing_handle(repo_id: str, user: str, decision: str, **kwargs: Any) -> bool:
        # Between the re-check and our decision, someone else settles carol (accepted) and dave (rejected).
        if user == "carol":
            other.accept_access_request(REPO, "carol")
        if user == "dave":
            other.reject_access_request(REPO, "dave", rejection_reason="by hand")
            other.accept_access_request(REPO, "dave")
        return real_handle(repo_id, user, decision, **kwargs)

    operator.hook.handle_access_request = racing_handle  # type: ignore[method-assign]
    result = run(operator)
    assert result["accepted"] == ["erin"]
    assert sorted(result["skipped"]) == ["bob", "carol", "dave"]
    assert result["errors"] == []
    assert sorted(r.username for r in api.list_accepted_access_requests(REPO)) == [
        "bob",
        "carol",
        "dave",
        "erin",
    ]


def test_429_with_retry_after_is_waited_out_and_each_user_is_decided_once(hub_connection, api):
    users = [f"u{i:02d}" for i in range(20)]
    seed(hub_connection, [{"user": u} for u in users])
    fault = hub_connection.inject_fault(HANDLE_ROUTE, status=429, retry_after=1, rate=0.3)
    hub_connection.reset_counts()
    result = run(triage(allow_users=["u*"], max_concurrency=8))
    fired = next(f for f in hub_connection.injector.faults if f.id == fault).fired
    assert fired > 0
    assert sorted(result["accepted"]) == users
    assert result["errors"] == [] and result["skipped"] == []
    # Every 429 was repeated once more; nothing else was sent twice.
    assert hub_connection.request_count(HANDLE_ROUTE) == len(users) + fired
    assert sorted(r.username for r in api.list_accepted_access_requests(REPO)) == users


def test_decisions_run_concurrently_up_to_the_bound_and_the_summary_is_logged(hub_connection):
    import threading

    users = [f"u{i:02d}" for i in range(24)]
    seed(hub_connection, [{"user": u} for u in users])
    hub_connection.inject_fault(HANDLE_ROUTE, latency=0.1)
    operator = triage(allow_users=["u0*"], reject_others=True, max_concurrency=4)
    decide = operator.hook.handle_access_request
    lock, in_flight, peak = threading.Lock(), [0], [0]

    def counting(*args: Any, **kwargs: Any) -> Any:  # a spy: the real call, counted
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return decide(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    operator.hook.handle_access_request = counting  # type: ignore[method-assign]
    with structlog.testing.capture_logs() as task_log:
        result = run(operator)
    assert 1 < peak[0] <= 4
    assert (len(result["accepted"]), len(result["rejected"])) == (10, 14)
    [summary] = [e["event"] for e in task_log if "pending at start" in str(e["event"])]
    assert summary.startswith(f"Access requests on model {REPO}: 24 pending at start")
    assert summary.endswith("10 were accepted, 14 were rejected, 0 left pending, 0 skipped, 0 errors")


def test_one_failing_decision_does_not_lose_the_others(hub_connection):
    users = [f"u{i:02d}" for i in range(12)]
    seed(hub_connection, [{"user": u} for u in users])
    hub_connection.inject_fault(HANDLE_ROUTE, status=403, times=2)

    def policy(request: PendingAccessRequest) -> str:
        if request.user == "u11":
            raise RuntimeError("policy bug")
        return "accept"

    result = run(triage(accept_if=policy, max_concurrency=4))
    assert len(result["errors"]) == 3
    failed = {e["user"] for e in result["errors"]}
    evaluation = [e for e in result["errors"] if e["decision"] == "evaluate"]
    assert evaluation == [{"user": "u11", "decision": "evaluate", "error": "policy bug"}]
    assert all("HTTP 403" in e["error"] for e in result["errors"] if e["decision"] == "accepted")
    assert sorted(result["accepted"]) == sorted(set(users) - failed)
    for user in failed:
        assert status(hub_connection, user) == "pending"


def test_emails_stay_out_of_logs_and_results_unless_asked(hub_connection, caplog):
    seed(
        hub_connection,
        [{"user": "bob", "email": "bob@secret-lab.org"}, {"user": "carol", "email": "c@x.org"}],
    )
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as task_log:
        quiet = run(triage(allow_email_domains=["secret-lab.org"], dry_run=True))
    logged = caplog.text + repr(task_log)
    assert "pending at start" in logged  # the task log was captured
    assert "secret-lab.org" not in logged and "c@x.org" not in logged
    assert "emails" not in quiet and "secret-lab.org" not in repr(quiet)
    loud = run(triage(allow_email_domains=["secret-lab.org"], dry_run=True, log_emails=True))
    assert loud["emails"] == {"bob": "bob@secret-lab.org", "carol": "c@x.org"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"repo_id": "no-namespace"}, "repo_id"),
        ({"repo_type": "kernel"}, "repo_type"),
        ({"allow_users": [3]}, "allow_users"),
        ({"max_requests": 0}, "max_requests"),
        ({"max_concurrency": "many"}, "max_concurrency"),
        ({"rejection_reason": "x" * 201}, "rejection_reason"),
        ({"dry_run": "yes"}, "dry_run"),
    ],
)
def test_bad_input_fails_before_any_call(hub_connection, kwargs, message):
    hub_connection.reset_counts()
    operator = HfAcceptAccessRequestsOperator(task_id="triage", **{"repo_id": REPO, **kwargs})
    with pytest.raises(ValueError, match=message):
        run(operator)
    assert hub_connection.request_count() == 0


def test_accept_if_must_be_callable():
    with pytest.raises(ValueError, match="accept_if"):
        triage(accept_if="accept")


def test_grant_access_operator(hub_connection, api):
    hub_connection.add_repo(REPO, gated="manual")
    hub_connection.add_user("bob")
    hub_connection.add_user("carol")
    first = run(HfGrantAccessOperator(task_id="grant", repo_id=REPO, users=["bob", "carol"]))
    assert first == {"granted": ["bob", "carol"], "already_had_access": []}
    again = run(HfGrantAccessOperator(task_id="grant", repo_id=REPO, users=["bob"]))
    assert again == {"granted": [], "already_had_access": ["bob"]}
    assert sorted(r.username for r in api.list_accepted_access_requests(REPO)) == ["bob", "carol"]


def test_triage_in_a_dag_run_with_a_templated_reason(hub_connection, run_dag, api):
    seed(
        hub_connection,
        [
            {"user": "bob"},
            {"user": "carol"},
            {"user": "dave", "email": "d@partner.com"},
            {"user": "erin", "fields": {"use": "research"}},
        ],
    )
    with DAG(dag_id="access_triage", schedule=None, start_date=START) as dag:
        HfAcceptAccessRequestsOperator(
            task_id="triage",
            repo_id="{{ params.repo }}",
            allow_users=["bob"],
            allow_email_domains=["partner.com"],
            accept_if=lambda request: "accept" if request.fields.get("use") == "research" else None,
            reject_others=True,
            rejection_reason="Reviewed by {{ dag.dag_id }}",
            params={"repo": REPO},
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"triage": "success"}
    result = xcom_value(dag_run, "triage")
    assert sorted(result["accepted"]) == ["bob", "dave", "erin"]
    assert result["rejected"] == ["carol"]
    assert xcom_value(dag_run, "triage", key="hf_repo_url").endswith(f"/{REPO}")
    assert (
        hub_connection.state.access.requests["model", REPO]["carol"].rejection_reason
        == "Reviewed by access_triage"
    )


def test_a_missing_repo_is_an_error_not_a_skip(hub_connection):
    from airflow_provider_hub.exceptions import HfHubNotFoundError
    from airflow_provider_hub.hooks.hub import HfHubHook

    with pytest.raises(HfHubNotFoundError, match="alice/missing"):
        HfHubHook().handle_access_request("alice/missing", "bob", "accepted")
    with pytest.raises(HfHubNotFoundError, match="alice/missing"):
        run(HfAcceptAccessRequestsOperator(task_id="triage", repo_id="alice/missing"))
