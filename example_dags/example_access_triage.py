"""Nightly triage of the access requests of a gated repo, by policy, with a readable report.

Members of the ``acme`` organization and people with an ``acme.com`` or ``university.edu`` e-mail are
accepted; so is anyone who states research use on the gate form with an affiliation. Everyone else is
rejected with a reason. Trigger a run with ``{"dry_run": true}`` to see what the policy would decide
without changing anything on the Hub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_hub.operators.access import HfAcceptAccessRequestsOperator

if TYPE_CHECKING:
    from airflow_provider_hub.operators.access import PendingAccessRequest


# [START howto_access_triage]
def research_use(request: PendingAccessRequest) -> str | None:
    """Accept a stated research use with an affiliation; leave every other answer to ``reject_others``."""
    intended_use = str(request.fields.get("intended_use", "")).strip().lower()
    affiliation = str(request.fields.get("affiliation", "")).strip()
    return "accept" if intended_use == "research" and affiliation else None


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "repo_id": Param(
            "acme/gated-model", type="string", description="Gated repo whose requests to decide"
        ),
        "dry_run": Param(False, type="boolean", description="Evaluate and report only"),
    },
    # Keeps ``dry_run`` a boolean once rendered.
    render_template_as_native_obj=True,
    tags=["huggingface", "example"],
)
def example_access_triage():
    triage = HfAcceptAccessRequestsOperator(
        task_id="triage",
        repo_id="{{ params.repo_id }}",
        allow_orgs=["acme"],
        allow_email_domains=["acme.com", "university.edu"],
        accept_if=research_use,
        reject_others=True,
        rejection_reason="{{ params.repo_id }} is open to research use only (reviewed {{ dag_run.run_after | ds }}).",
        dry_run="{{ params.dry_run }}",
    )

    @task
    def report(decisions: dict) -> str:
        """One line for the on-call channel; the full lists are in the ``triage`` XCom."""
        verb = "would decide" if decisions["dry_run"] else "decided"
        summary = (
            f"Access triage {verb}: {len(decisions['accepted'])} accepted, "
            f"{len(decisions['rejected'])} rejected, {len(decisions['left_pending'])} left pending, "
            f"{len(decisions['errors'])} errors"
        )
        for error in decisions["errors"]:
            print(f"Could not {error['decision']} {error['user']}: {error['error']}")
        print(summary)
        return summary

    report(triage.output)


# [END howto_access_triage]

example_access_triage()
